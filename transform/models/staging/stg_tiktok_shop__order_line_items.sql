{#- One row per line item, unnested from the orders table in SQL (not a tap stream): the line
    items arrive inside each order record, so a raw table of orders already holds them all and
    an order's lines always match the order's version (no second stream to keep in step). -#}
with orders as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'orders'), ['id'], 'update_time desc') }}
),

items as (
    select
        id as order_id,
        shop_id,
        {{ tiktok_shop_json_array_elements('line_items') }} as item
    from orders
)

select
    {{ tiktok_shop_json_text('item', ['id']) }} as line_item_id,
    order_id,
    shop_id,
    {{ tiktok_shop_json_text('item', ['product_id']) }} as product_id,
    {{ tiktok_shop_json_text('item', ['product_name']) }} as product_name,
    {{ tiktok_shop_json_text('item', ['sku_id']) }} as sku_id,
    {{ tiktok_shop_json_text('item', ['sku_name']) }} as sku_name,
    {{ tiktok_shop_nullif_blank(tiktok_shop_json_text('item', ['seller_sku'])) }} as seller_sku,
    {{ tiktok_shop_json_text('item', ['currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('item', ['sale_price'])) }} as sale_price,
    {{ tiktok_shop_money(tiktok_shop_json_text('item', ['original_price'])) }} as original_price,
    {{ tiktok_shop_money(tiktok_shop_json_text('item', ['seller_discount'])) }} as seller_discount,
    {{ tiktok_shop_money(tiktok_shop_json_text('item', ['platform_discount'])) }}
        as platform_discount,
    {{ tiktok_shop_nullif_blank(tiktok_shop_json_text('item', ['display_status'])) }}
        as display_status,
    {{ tiktok_shop_nullif_blank(tiktok_shop_json_text('item', ['package_id'])) }} as package_id,
    {{ tiktok_shop_nullif_blank(tiktok_shop_json_text('item', ['cancel_reason'])) }}
        as cancel_reason
from items
