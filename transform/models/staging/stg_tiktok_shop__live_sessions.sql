{{ config(enabled=tiktok_shop_enabled('shop_live_sessions')) }}
{#- One row per LIVE session, its metrics typed. Empty when the stream was not loaded. -#}
{%- set raw = tiktok_shop_loaded_source('shop_live_sessions') %}
with latest as (
{%- if raw is none %}
    select
        {%- for column in ['shop_id', 'id', 'date', 'title', 'username', 'start_time',
                           'end_time'] %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        {{ tiktok_shop_json_null() }} as interaction_performance,
        {{ tiktok_shop_json_null() }} as sales_performance
    where 1 = 0
{%- else %}
    {{ tiktok_shop_latest_version(raw, ['shop_id', 'id'], 'date desc') }}
{%- endif %}
)

{%- set talk = 'interaction_performance' %}
{%- set sales = 'sales_performance' %}

select
    shop_id,
    id as live_id,
    cast(date as date) as shop_date,
    title,
    username,
    {{ tiktok_shop_unix_to_utc("cast(nullif(start_time, '') as bigint)") }} as started_at,
    {{ tiktok_shop_unix_to_utc("cast(nullif(end_time, '') as bigint)") }} as ended_at,
    cast({{ tiktok_shop_json_text(talk, ['views']) }} as bigint) as views,
    cast({{ tiktok_shop_json_text(talk, ['viewers']) }} as bigint) as viewers,
    cast({{ tiktok_shop_json_text(talk, ['pcu']) }} as bigint) as peak_concurrent_viewers,
    cast({{ tiktok_shop_json_text(talk, ['likes']) }} as bigint) as likes,
    cast({{ tiktok_shop_json_text(talk, ['comments']) }} as bigint) as comments,
    cast({{ tiktok_shop_json_text(talk, ['new_followers']) }} as bigint) as new_followers,
    cast({{ tiktok_shop_json_text(talk, ['product_clicks']) }} as bigint) as product_clicks,
    {{ tiktok_shop_rate(tiktok_shop_json_text(talk, ['click_through_rate'])) }}
        as click_through_rate,
    {{ tiktok_shop_json_text(sales, ['gmv', 'currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text(sales, ['gmv', 'amount'])) }} as gmv,
    cast({{ tiktok_shop_json_text(sales, ['items_sold']) }} as bigint) as items_sold,
    cast({{ tiktok_shop_json_text(sales, ['sku_orders']) }} as bigint) as sku_orders,
    cast({{ tiktok_shop_json_text(sales, ['customers']) }} as bigint) as customers,
    {{ tiktok_shop_rate(tiktok_shop_json_text(sales, ['click_to_order_rate'])) }}
        as click_to_order_rate
from latest
