with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'orders'), ['id'], 'update_time desc') }}
)

select
    id as order_id,
    shop_id,
    status,
    order_type,
    {{ tiktok_shop_unix_to_utc('create_time') }} as created_at,
    {{ tiktok_shop_unix_to_utc('update_time') }} as updated_at,
    {{ tiktok_shop_unix_to_utc('paid_time') }} as paid_at,
    {{ tiktok_shop_unix_to_utc('rts_time') }} as ready_to_ship_at,
    {{ tiktok_shop_unix_to_utc('delivery_time') }} as delivered_at,
    {{ tiktok_shop_unix_to_utc('collection_time') }} as collected_at,
    {{ tiktok_shop_unix_to_utc('cancel_time') }} as cancelled_at,
    {{ tiktok_shop_unix_to_utc('request_cancel_time') }} as cancel_requested_at,
    {{ tiktok_shop_nullif_blank('cancel_reason') }} as cancel_reason,
    {{ tiktok_shop_nullif_blank('cancellation_initiator') }} as cancellation_initiator,
    is_buyer_request_cancel,
    {{ tiktok_shop_json_text('payment', ['currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['sub_total'])) }} as subtotal,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['total_amount'])) }} as total_amount,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['original_total_product_price'])) }}
        as original_product_price,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['seller_discount'])) }} as seller_discount,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['platform_discount'])) }}
        as platform_discount,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['shipping_fee'])) }} as shipping_fee,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['original_shipping_fee'])) }}
        as original_shipping_fee,
    {{ tiktok_shop_money(tiktok_shop_json_text('payment', ['tax'])) }} as tax,
    {{ tiktok_shop_nullif_blank('payment_method_name') }} as payment_method_name,
    is_cod,
    is_sample_order,
    is_replacement_order,
    is_exchange_order,
    {{ tiktok_shop_nullif_blank('delivery_type') }} as delivery_type,
    {{ tiktok_shop_nullif_blank('fulfillment_type') }} as fulfillment_type,
    {{ tiktok_shop_nullif_blank('shipping_provider') }} as shipping_provider,
    {{ tiktok_shop_nullif_blank('tracking_number') }} as tracking_number,
    {{ tiktok_shop_nullif_blank('warehouse_id') }} as warehouse_id,
    {{ tiktok_shop_nullif_blank('user_id') }} as buyer_user_id,
    {{ tiktok_shop_nullif_blank(tiktok_shop_json_text('recipient_address', ['region_code'])) }}
        as shipping_region_code,
    {{ tiktok_shop_nullif_blank(tiktok_shop_json_text('recipient_address', ['postal_code'])) }}
        as shipping_postal_code
from latest
