{#- One row per affiliate order SKU line, typed. Only with the opt-in stream selected: enabled by
    the var tiktok_shop_affiliate_order_skus_enabled (env TIKTOK_SHOP_AFFILIATE_ORDER_SKUS_ENABLED). -#}
{{ config(enabled=tiktok_shop_enabled('affiliate_order_skus', default=false)) }}
with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'affiliate_order_skus'),
                                  ['shop_id', 'order_id', 'sku_id'], 'order_create_time desc') }}
)

select
    shop_id,
    order_id,
    sku_id,
    {{ tiktok_shop_nullif_blank('product_id') }} as product_id,
    {{ tiktok_shop_unix_to_utc('order_create_time') }} as order_created_at,
    {{ tiktok_shop_unix_to_utc('order_delivery_time') }} as order_delivered_at,
    {{ tiktok_shop_nullif_blank('order_status') }} as order_status,
    {{ tiktok_shop_nullif_blank('creator_username') }} as creator_username,
    {{ tiktok_shop_nullif_blank('content_type') }} as content_type,
    {{ tiktok_shop_nullif_blank('content_id') }} as content_id,
    {{ tiktok_shop_nullif_blank('campaign_id') }} as campaign_id,
    {{ tiktok_shop_nullif_blank('open_collaboration_id') }} as open_collaboration_id,
    {{ tiktok_shop_nullif_blank('target_collaboration_id') }} as target_collaboration_id,
    {{ tiktok_shop_nullif_blank('commission_model') }} as commission_model,
    {{ tiktok_shop_hundredths_percent('commission_rate') }} as commission_rate,
    {{ tiktok_shop_hundredths_percent('partner_commission_rate') }} as partner_commission_rate,
    {{ tiktok_shop_hundredths_percent('shop_ads_commission_rate') }} as shop_ads_commission_rate,
    cast(quantity as bigint) as quantity,
    {{ tiktok_shop_json_text('price', ['currency']) }} as currency,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('price', ['amount'])) }} as price,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('estimated_commission_base', ['amount'])) }}
        as estimated_commission_base,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('estimated_paid_commission', ['amount'])) }}
        as estimated_commission,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('estimated_paid_partner_commission',
                                                      ['amount'])) }}
        as estimated_partner_commission,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('estimated_paid_shop_ads_commission',
                                                      ['amount'])) }}
        as estimated_shop_ads_commission,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('estimated_cofunded_creator_bonus_amount',
                                                      ['amount'])) }}
        as estimated_creator_bonus,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('actual_commission_base', ['amount'])) }}
        as actual_commission_base,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('actual_paid_commission', ['amount'])) }}
        as actual_commission,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('actual_paid_partner_commission',
                                                      ['amount'])) }}
        as actual_partner_commission,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('actual_paid_shop_ads_commission',
                                                      ['amount'])) }}
        as actual_shop_ads_commission,
    {{ tiktok_shop_money_amount(tiktok_shop_json_text('actual_cofunded_creator_bonus_amount',
                                                      ['amount'])) }}
        as actual_creator_bonus,
    settlement_status,
    settlement_status = 'SETTLED' as is_settled,
    fully_return = 'true' as is_fully_returned
from latest
