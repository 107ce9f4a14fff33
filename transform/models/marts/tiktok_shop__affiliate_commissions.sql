{#- One row per shop, affiliate order and SKU line: the creator and content that sold it, the
    commission rate as a fraction, estimated and actual commission as numerics (actual: null
    until the line is settled). Only with the opt-in stream affiliate_order_skus. -#}
{{ config(enabled=tiktok_shop_enabled('affiliate_order_skus', default=false)) }}
select
    {{ tiktok_shop_surrogate_key(['shop_id', 'order_id', 'sku_id']) }} as affiliate_line_id,
    shop_id,
    order_id,
    sku_id,
    product_id,
    order_created_at,
    cast(order_created_at as date) as order_created_date,
    order_delivered_at,
    creator_username,
    content_type,
    content_id,
    commission_model,
    commission_rate,
    partner_commission_rate,
    shop_ads_commission_rate,
    quantity,
    currency,
    price,
    estimated_commission_base,
    estimated_commission,
    actual_commission_base,
    actual_commission,
    estimated_partner_commission,
    actual_partner_commission,
    estimated_shop_ads_commission,
    actual_shop_ads_commission,
    settlement_status,
    is_settled,
    is_fully_returned
from {{ ref('stg_tiktok_shop__affiliate_order_skus') }}
