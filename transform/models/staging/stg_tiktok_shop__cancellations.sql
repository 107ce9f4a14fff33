with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'cancellations'), ['cancel_id'], 'update_time desc') }}
)

select
    cancel_id,
    shop_id,
    order_id,
    cancel_type,
    cancel_status,
    role as initiator_role,
    {{ tiktok_shop_nullif_blank('cancel_reason_text') }} as cancel_reason,
    {{ tiktok_shop_unix_to_utc('create_time') }} as created_at,
    {{ tiktok_shop_unix_to_utc('update_time') }} as updated_at,
    {{ tiktok_shop_json_text('refund_amount', ['currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('refund_amount', ['refund_total'])) }} as refund_total
from latest
