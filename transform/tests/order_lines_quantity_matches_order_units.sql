-- Every order's units equal the quantities of its order lines (no line lost or counted twice).
with line_quantities as (
    select order_id, sum(quantity) as quantity
    from {{ ref('tiktok_shop__order_lines') }}
    group by order_id
)

select orders.order_id, orders.units, line_quantities.quantity
from {{ ref('tiktok_shop__orders') }} as orders
full outer join line_quantities
    on line_quantities.order_id = orders.order_id
where coalesce(orders.units, -1) <> coalesce(line_quantities.quantity, 0)
