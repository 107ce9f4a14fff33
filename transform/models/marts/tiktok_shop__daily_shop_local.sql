{#- One row per shop and shop day: the shop's calendar day (its region's time zone, var
    tiktok_shop_time_zones), the day the Analytics API reports on. The order-based figures are
    counted on that same local day (macros/daily_sales.sql), beside the day's traffic and GMV
    by channel from shop_performance_daily (null where that stream is not loaded). -#}
with sales as (
    {{ tiktok_shop_daily_sales('shop') }}
),

traffic as (
    select * from {{ ref('stg_tiktok_shop__shop_performance_daily') }}
),

days as (
    select shop_id, date_day from sales
    union
    select shop_id, shop_date from traffic
)

select
    {{ tiktok_shop_surrogate_key(['days.shop_id', 'days.date_day']) }} as shop_day_id,
    days.shop_id,
    days.date_day as shop_date,
    coalesce(sales.currency, traffic.currency) as currency,
    coalesce(sales.order_count, 0) as order_count,
    coalesce(sales.cancelled_order_count, 0) as cancelled_order_count,
    coalesce(sales.units, 0) as units,
    coalesce(sales.gross_sales, 0) as gross_sales,
    coalesce(sales.refund_count, 0) as refund_count,
    coalesce(sales.refund_amount, 0) as refund_amount,
    coalesce(sales.net_sales, 0) as net_sales,
    traffic.visitors,
    traffic.page_views,
    traffic.conversion_rate,
    traffic.gmv as analytics_gmv,
    traffic.live_gmv,
    traffic.video_gmv,
    traffic.product_card_gmv,
    traffic.orders as analytics_orders,
    traffic.items_sold as analytics_items_sold
from days
left join sales
    on sales.shop_id = days.shop_id and sales.date_day = days.date_day
left join traffic
    on traffic.shop_id = days.shop_id and traffic.shop_date = days.date_day
