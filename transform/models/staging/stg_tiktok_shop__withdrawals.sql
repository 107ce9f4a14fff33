{{ config(enabled=tiktok_shop_enabled('withdrawals')) }}
with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'withdrawals'), ['id'], 'create_time desc') }}
)

select
    id as withdrawal_id,
    shop_id,
    type as withdrawal_type,
    status,
    {{ tiktok_shop_unix_to_utc('create_time') }} as created_at,
    currency,
    {{ tiktok_shop_money('amount') }} as amount
from latest
