{#- One row per shop, creator and UTC day of the orders' creation: what the creator sold and the
    commission estimated and actually paid for it. Only with the opt-in stream
    affiliate_order_skus. -#}
{{ config(enabled=tiktok_shop_enabled('affiliate_order_skus', default=false)) }}
select
    {{ tiktok_shop_surrogate_key(['shop_id', 'creator_username', 'order_created_date']) }}
        as creator_day_id,
    shop_id,
    creator_username,
    order_created_date as date_day,
    max(currency) as currency,
    count(distinct order_id) as order_count,
    count(*) as sku_lines,
    sum(quantity) as units,
    sum(estimated_commission) as estimated_commission,
    coalesce(sum(actual_commission), 0) as actual_commission,
    sum(case when is_settled then 1 else 0 end) as settled_lines
from {{ ref('tiktok_shop__affiliate_commissions') }}
group by shop_id, creator_username, order_created_date
