with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'returns'), ['return_id'], 'update_time desc') }}
)

select
    return_id,
    shop_id,
    order_id,
    return_type,
    return_status,
    {{ tiktok_shop_nullif_blank('arbitration_status') }} as arbitration_status,
    role as initiator_role,
    {{ tiktok_shop_nullif_blank('return_reason_text') }} as return_reason,
    {{ tiktok_shop_unix_to_utc('create_time') }} as created_at,
    {{ tiktok_shop_unix_to_utc('update_time') }} as updated_at,
    {{ tiktok_shop_json_text('refund_amount', ['currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('refund_amount', ['refund_total'])) }} as refund_total,
    {{ tiktok_shop_money(tiktok_shop_json_text('refund_amount', ['refund_subtotal'])) }}
        as refund_subtotal,
    {{ tiktok_shop_money(tiktok_shop_json_text('refund_amount', ['refund_shipping_fee'])) }}
        as refund_shipping_fee,
    {{ tiktok_shop_money(tiktok_shop_json_text('refund_amount', ['refund_tax'])) }} as refund_tax,
    return_status = 'RETURN_OR_REFUND_REQUEST_COMPLETE' as is_refund_complete
from latest
