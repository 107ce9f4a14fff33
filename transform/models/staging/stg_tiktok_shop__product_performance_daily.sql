{#- One row per product and shop day: the product's total performance that day (all channels).
    Empty when the stream was not loaded. -#}
{%- set raw = tiktok_shop_loaded_source('shop_product_performance_daily') %}
with latest as (
{%- if raw is none %}
    select
        cast(null as {{ dbt.type_string() }}) as shop_id,
        cast(null as {{ dbt.type_string() }}) as id,
        cast(null as {{ dbt.type_string() }}) as date,
        {{ tiktok_shop_json_null() }} as total_performance
    where 1 = 0
{%- else %}
    {{ tiktok_shop_latest_version(raw, ['shop_id', 'id', 'date'], 'shop_id') }}
{%- endif %}
)

{%- set total = 'total_performance' %}

select
    shop_id,
    id as product_id,
    cast(date as date) as shop_date,
    {{ tiktok_shop_json_text(total, ['gmv', 'currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text(total, ['gmv', 'amount'])) }} as gmv,
    cast({{ tiktok_shop_json_text(total, ['orders']) }} as bigint) as orders,
    cast({{ tiktok_shop_json_text(total, ['items_sold']) }} as bigint) as items_sold,
    cast({{ tiktok_shop_json_text(total, ['product_impressions']) }} as bigint) as impressions,
    cast({{ tiktok_shop_json_text(total, ['unique_clicks']) }} as bigint) as visitors,
    {{ tiktok_shop_rate(tiktok_shop_json_text(total, ['unique_click_order_rate'])) }}
        as conversion_rate,
    {{ tiktok_shop_money(tiktok_shop_json_text(total, ['refunds', 'amount'])) }} as refunds
from latest
