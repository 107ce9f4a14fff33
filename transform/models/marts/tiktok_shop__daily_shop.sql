{#- One row per shop and UTC day: orders by the day they were created, refunds by the day the
    (completed) return was created, so a day with refunds and no orders still has a row. -#}
with order_days as (
    select
        shop_id,
        created_date as date_day,
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
        shop_id,
        cast(created_at as date) as date_day,
        currency,
        0 as order_count,
        0 as cancelled_order_count,
        0 as units,
        cast(0 as numeric(20, 4)) as gross_sales,
        refund_total as refund_amount,
        1 as refund_count
    from {{ ref('stg_tiktok_shop__returns') }}
    where is_refund_complete
),

days as (
    select * from order_days
    union all
    select * from refund_days
)

select
    {{ tiktok_shop_surrogate_key(['shop_id', 'date_day']) }} as shop_day_id,
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
