{{ config(enabled=tiktok_shop_enabled('payments')) }}
with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'payments'), ['id'], 'create_time desc') }}
)

select
    id as payment_id,
    shop_id,
    status,
    {{ tiktok_shop_unix_to_utc('create_time') }} as created_at,
    {{ tiktok_shop_unix_to_utc('paid_time') }} as paid_at,
    {{ tiktok_shop_json_text('amount', ['currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('amount', ['value'])) }} as amount,
    {{ tiktok_shop_money(tiktok_shop_json_text('settlement_amount', ['value'])) }}
        as settlement_amount,
    {{ tiktok_shop_money(tiktok_shop_json_text('reserve_amount', ['value'])) }} as reserve_amount,
    {{ tiktok_shop_money('exchange_rate') }} as exchange_rate,
    bank_account as bank_account_masked
from latest
