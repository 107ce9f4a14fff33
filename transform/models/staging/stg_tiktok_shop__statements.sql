{{ config(enabled=tiktok_shop_enabled('statements')) }}
with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'statements'), ['id'], 'statement_time desc') }}
)

select
    id as statement_id,
    shop_id,
    {{ tiktok_shop_unix_to_utc('statement_time') }} as statement_at,
    payment_status,
    {{ tiktok_shop_nullif_blank('payment_id') }} as payment_id,
    {{ tiktok_shop_unix_to_utc('payment_time') }} as paid_at,
    currency,
    {{ tiktok_shop_money('revenue_amount') }} as revenue_amount,
    {{ tiktok_shop_money('fee_amount') }} as fee_amount,
    {{ tiktok_shop_money('shipping_cost_amount') }} as shipping_cost_amount,
    {{ tiktok_shop_money('adjustment_amount') }} as adjustment_amount,
    {{ tiktok_shop_money('net_sales_amount') }} as net_sales_amount,
    {{ tiktok_shop_money('settlement_amount') }} as settlement_amount
from latest
