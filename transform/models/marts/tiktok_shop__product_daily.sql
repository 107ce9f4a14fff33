{#- One row per shop, product and shop day (the shop's calendar day, as the Analytics API
    reports it): the product's name and status from the products stream, its analytics figures
    (null where shop_product_performance_daily is not loaded), and its units and revenue from
    the order lines of orders created on that same local day (cancelled orders bring units but
    no revenue, as in the daily marts). A product with order lines and no analytics row that
    day, or the reverse, still has its row. -#}
with order_lines as (
    select
        lines.shop_id,
        lines.product_id,
        orders.created_shop_date as shop_date,
        max(lines.product_name) as product_name,
        count(*) as order_units,
        sum(case when orders.is_cancelled then 0 else lines.sale_price end) as order_revenue
    from {{ ref('stg_tiktok_shop__order_line_items') }} as lines
    inner join {{ ref('tiktok_shop__orders') }} as orders
        on orders.order_id = lines.order_id
    group by lines.shop_id, lines.product_id, orders.created_shop_date
),

performance as (
    select * from {{ ref('stg_tiktok_shop__product_performance_daily') }}
),

days as (
    select shop_id, product_id, shop_date from order_lines
    union
    select shop_id, product_id, shop_date from performance
)

select
    {{ tiktok_shop_surrogate_key(['days.shop_id', 'days.product_id', 'days.shop_date']) }}
        as product_day_id,
    days.shop_id,
    days.product_id,
    days.shop_date,
    coalesce(products.product_title, order_lines.product_name) as product_name,
    products.status as product_status,
    performance.currency,
    performance.gmv,
    performance.orders as analytics_orders,
    performance.items_sold as analytics_items_sold,
    performance.impressions,
    performance.visitors,
    performance.conversion_rate,
    coalesce(order_lines.order_units, 0) as order_units,
    coalesce(order_lines.order_revenue, 0) as order_revenue
from days
left join performance
    on performance.shop_id = days.shop_id and performance.product_id = days.product_id
    and performance.shop_date = days.shop_date
left join order_lines
    on order_lines.shop_id = days.shop_id and order_lines.product_id = days.product_id
    and order_lines.shop_date = days.shop_date
left join {{ ref('stg_tiktok_shop__products') }} as products
    on products.product_id = days.product_id
