{#- The order-based figures of each shop day, on one day definition (``day``):
    'utc'  - UTC days (tiktok_shop__daily_shop);
    'shop' - the shop's calendar days, the days of the Analytics API (tiktok_shop__daily_shop_local).
    Orders count on the day they were created, refunds on the day the (completed) return was
    created, so a day with refunds and no orders still has a row. One place for both marts, so
    the two differ only in where a day starts. -#}
{% macro tiktok_shop_daily_sales(day) -%}
with order_days as (
    select
        shop_id,
        {{ 'created_date' if day == 'utc' else 'created_shop_date' }} as date_day,
        currency,
        1 as order_count,
        case when is_cancelled then 1 else 0 end as cancelled_order_count,
        units,
        case when is_cancelled then 0 else subtotal end as gross_sales,
        cast(0 as numeric(20, 4)) as refund_amount,
        0 as refund_count
    from {{ ref('tiktok_shop__orders') }}
),

refund_days as (
    select
        returns.shop_id,
        {%- if day == 'utc' %}
        cast(returns.created_at as date) as date_day,
        {%- else %}
        {{ tiktok_shop_local_date('returns.created_at', 'shops.time_zone') }} as date_day,
        {%- endif %}
        returns.currency,
        0 as order_count,
        0 as cancelled_order_count,
        0 as units,
        cast(0 as numeric(20, 4)) as gross_sales,
        returns.refund_total as refund_amount,
        1 as refund_count
    from {{ ref('stg_tiktok_shop__returns') }} as returns
    left join {{ ref('stg_tiktok_shop__shops') }} as shops
        on shops.shop_id = returns.shop_id
    where returns.is_refund_complete
),

days as (
    select * from order_days
    union all
    select * from refund_days
)

select
    shop_id,
    date_day,
    max(currency) as currency,
    sum(order_count) as order_count,
    sum(cancelled_order_count) as cancelled_order_count,
    sum(units) as units,
    sum(gross_sales) as gross_sales,
    sum(refund_count) as refund_count,
    sum(refund_amount) as refund_amount,
    sum(gross_sales) - sum(refund_amount) as net_sales
from days
group by shop_id, date_day
{%- endmacro %}
