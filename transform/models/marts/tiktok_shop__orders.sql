with line_items as (
    select
        order_id,
        count(*) as units,
        count(distinct sku_id) as distinct_skus,
        sum(sale_price) as line_items_amount
    from {{ ref('stg_tiktok_shop__order_line_items') }}
    group by order_id
),

returns as (
    select
        order_id,
        count(*) as return_count,
        sum(case when is_refund_complete then 1 else 0 end) as completed_refund_count,
        sum(case when is_refund_complete then refund_total else 0 end) as refund_amount,
        min(created_at) as first_return_at
    from {{ ref('stg_tiktok_shop__returns') }}
    group by order_id
),

cancellation_requests as (
    select
        order_id,
        cancel_status,
        created_at,
        row_number() over (
            partition by order_id order by created_at desc, cancel_id desc
        ) as newest_first
    from {{ ref('stg_tiktok_shop__cancellations') }}
),

cancellations as (
    select
        order_id,
        count(*) as cancellation_request_count,
        max(case when newest_first = 1 then cancel_status end) as cancellation_status,
        min(created_at) as first_cancellation_request_at
    from cancellation_requests
    group by order_id
)

select
    orders.shop_id,
    shops.shop_name,
    orders.order_id,
    orders.status,
    orders.status = 'CANCELLED' as is_cancelled,
    orders.created_at,
    cast(orders.created_at as date) as created_date,
    {{ tiktok_shop_local_date('orders.created_at', 'shops.time_zone') }} as created_shop_date,
    orders.updated_at,
    orders.paid_at,
    orders.delivered_at,
    orders.currency,
    orders.subtotal,
    orders.total_amount,
    orders.shipping_fee,
    orders.seller_discount,
    orders.platform_discount,
    orders.tax,
    coalesce(line_items.units, 0) as units,
    coalesce(line_items.distinct_skus, 0) as distinct_skus,
    orders.cancelled_at,
    orders.cancel_reason,
    orders.cancellation_initiator,
    orders.is_buyer_request_cancel,
    coalesce(cancellations.cancellation_request_count, 0) as cancellation_request_count,
    cancellations.cancellation_status,
    cancellations.first_cancellation_request_at,
    coalesce(returns.return_count, 0) as return_count,
    coalesce(returns.completed_refund_count, 0) as completed_refund_count,
    coalesce(returns.refund_amount, 0) as refund_amount,
    returns.first_return_at,
    orders.payment_method_name,
    orders.is_cod,
    orders.delivery_type,
    orders.fulfillment_type,
    orders.shipping_provider,
    orders.shipping_region_code
from {{ ref('stg_tiktok_shop__orders') }} as orders
left join {{ ref('stg_tiktok_shop__shops') }} as shops
    on shops.shop_id = orders.shop_id
left join line_items
    on line_items.order_id = orders.order_id
left join returns
    on returns.order_id = orders.order_id
left join cancellations
    on cancellations.order_id = orders.order_id
