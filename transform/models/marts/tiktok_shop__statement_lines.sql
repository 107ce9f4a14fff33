{{ config(enabled=tiktok_shop_enabled('statements') and tiktok_shop_enabled('statement_transactions')) }}
{#- Each statement transaction with its statement (date, payment) and, for order transactions,
    the order it settles. -#}
select
    lines.statement_line_id,
    lines.shop_id,
    lines.statement_id,
    lines.transaction_id,
    lines.transaction_type,
    statements.statement_at,
    cast(statements.statement_at as date) as statement_date,
    statements.payment_status,
    statements.payment_id,
    statements.paid_at,
    statements.currency,
    lines.order_id,
    orders.status as order_status,
    orders.created_at as order_created_at,
    orders.total_amount as order_total_amount,
    lines.adjustment_id,
    lines.revenue_amount,
    lines.fee_tax_amount,
    lines.shipping_cost_amount,
    lines.adjustment_amount,
    lines.reserve_amount,
    lines.settlement_amount
from {{ ref('stg_tiktok_shop__statement_transactions') }} as lines
left join {{ ref('stg_tiktok_shop__statements') }} as statements
    on statements.statement_id = lines.statement_id
left join {{ ref('stg_tiktok_shop__orders') }} as orders
    on orders.order_id = lines.order_id
