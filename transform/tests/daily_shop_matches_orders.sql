-- The daily report accounts for every order and unit of the orders mart, once.
with daily as (
    select sum(order_count) as order_count, sum(units) as units
    from {{ ref('tiktok_shop__daily_shop') }}
),

orders as (
    select count(*) as order_count, coalesce(sum(units), 0) as units
    from {{ ref('tiktok_shop__orders') }}
)

select daily.order_count, orders.order_count, daily.units, orders.units
from daily
cross join orders
where coalesce(daily.order_count, 0) <> orders.order_count
   or coalesce(daily.units, 0) <> orders.units
