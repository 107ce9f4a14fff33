{#- One row per shop and shop day (the shop's calendar day, as the Analytics API gives it):
    traffic, and GMV split by channel (LIVE, video, product card). Empty when the stream was
    not loaded. -#}
{%- set raw = tiktok_shop_loaded_source('shop_performance_daily') %}
with latest as (
{%- if raw is none %}
    select
        cast(null as {{ dbt.type_string() }}) as shop_id,
        cast(null as {{ dbt.type_string() }}) as start_date,
        {{ tiktok_shop_json_null() }} as sales,
        {{ tiktok_shop_json_null() }} as traffic
    where 1 = 0
{%- else %}
    {{ tiktok_shop_latest_version(raw, ['shop_id', 'start_date'], 'shop_id') }}
{%- endif %}
),

channels as (
    select
        shop_id,
        start_date,
        {{ tiktok_shop_json_array_elements(tiktok_shop_json_path('sales', ['gmv', 'breakdowns'])) }}
            as breakdown
    from latest
),

channel_gmv as (
    select
        shop_id,
        start_date,
        max(case when {{ tiktok_shop_json_text('breakdown', ['type']) }} = 'LIVE'
            then {{ tiktok_shop_money(tiktok_shop_json_text('breakdown', ['gmv', 'amount'])) }}
            end) as live_gmv,
        max(case when {{ tiktok_shop_json_text('breakdown', ['type']) }} = 'VIDEO'
            then {{ tiktok_shop_money(tiktok_shop_json_text('breakdown', ['gmv', 'amount'])) }}
            end) as video_gmv,
        max(case when {{ tiktok_shop_json_text('breakdown', ['type']) }} = 'PRODUCT_CARD'
            then {{ tiktok_shop_money(tiktok_shop_json_text('breakdown', ['gmv', 'amount'])) }}
            end) as product_card_gmv
    from channels
    group by shop_id, start_date
)

select
    latest.shop_id,
    cast(latest.start_date as date) as shop_date,
    cast({{ tiktok_shop_json_text('latest.traffic', ['avg_visitors']) }} as bigint) as visitors,
    cast({{ tiktok_shop_json_text('latest.traffic', ['avg_page_views']) }} as bigint) as page_views,
    {{ tiktok_shop_rate(tiktok_shop_json_text('latest.traffic', ['avg_conversation_rate'])) }}
        as conversion_rate,
    {{ tiktok_shop_json_text('latest.sales', ['gmv', 'overall', 'currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('latest.sales', ['gmv', 'overall', 'amount'])) }}
        as gmv,
    channel_gmv.live_gmv,
    channel_gmv.video_gmv,
    channel_gmv.product_card_gmv,
    cast({{ tiktok_shop_json_text('latest.sales', ['orders_count']) }} as bigint) as orders,
    cast({{ tiktok_shop_json_text('latest.sales', ['items_sold']) }} as bigint) as items_sold,
    cast({{ tiktok_shop_json_text('latest.sales', ['avg_customers_count']) }} as bigint)
        as customers,
    {{ tiktok_shop_money(tiktok_shop_json_text('latest.sales', ['refunds', 'amount'])) }}
        as refunds
from latest
left join channel_gmv
    on channel_gmv.shop_id = latest.shop_id and channel_gmv.start_date = latest.start_date
