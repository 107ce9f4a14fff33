{#- One row per order and SKU. TikTok sends one line item per unit and no quantity, so the
    quantity of a SKU in an order is the number of its line items. -#}
select
    {{ tiktok_shop_surrogate_key(['order_id', 'sku_id']) }} as order_line_id,
    shop_id,
    order_id,
    sku_id,
    max(product_id) as product_id,
    max(product_name) as product_name,
    max(sku_name) as sku_name,
    max(seller_sku) as seller_sku,
    max(currency) as currency,
    count(*) as quantity,
    sum(sale_price) as gross_amount,
    sum(original_price) as original_amount,
    sum(seller_discount) as seller_discount,
    sum(platform_discount) as platform_discount,
    sum(case when cancel_reason is not null then 1 else 0 end) as cancelled_quantity
from {{ ref('stg_tiktok_shop__order_line_items') }}
group by shop_id, order_id, sku_id
