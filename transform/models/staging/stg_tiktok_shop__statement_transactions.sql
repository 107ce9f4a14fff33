{{ config(enabled=tiktok_shop_enabled('statement_transactions')) }}
{#- The tap re-reads a statement's transactions whenever the statement changes; the target
    merges them on (statement_id, id). -#}
with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'statement_transactions'), ['statement_id', 'id'], 'id') }}
)

select
    {{ tiktok_shop_surrogate_key(['statement_id', 'id']) }} as statement_line_id,
    id as transaction_id,
    statement_id,
    shop_id,
    type as transaction_type,
    {{ tiktok_shop_nullif_blank('order_id') }} as order_id,
    {{ tiktok_shop_nullif_blank('adjustment_id') }} as adjustment_id,
    {{ tiktok_shop_nullif_blank('adjustment_order_id') }} as adjustment_order_id,
    {{ tiktok_shop_nullif_blank('associated_order_id') }} as associated_order_id,
    {{ tiktok_shop_unix_to_utc('order_create_time') }} as order_created_at,
    {{ tiktok_shop_money('revenue_amount') }} as revenue_amount,
    {{ tiktok_shop_money('fee_tax_amount') }} as fee_tax_amount,
    {{ tiktok_shop_money('shipping_cost_amount') }} as shipping_cost_amount,
    {{ tiktok_shop_money('adjustment_amount') }} as adjustment_amount,
    {{ tiktok_shop_money('reserve_amount') }} as reserve_amount,
    {{ tiktok_shop_money('settlement_amount') }} as settlement_amount
from latest
