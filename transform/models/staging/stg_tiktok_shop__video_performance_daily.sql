{{ config(enabled=tiktok_shop_enabled('shop_video_performance_daily')) }}
{#- One row per video and shop day, its metrics typed. Empty when the stream was not loaded. -#}
{%- set raw = tiktok_shop_loaded_source('shop_video_performance_daily') %}
with latest as (
{%- if raw is none %}
    select
        {%- for column in ['shop_id', 'id', 'date', 'title', 'username', 'video_post_time',
                           'click_through_rate'] %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        {%- for column in ['duration', 'views', 'likes', 'comments', 'shares', 'new_followers',
                           'product_impressions', 'product_clicks', 'sku_orders',
                           'items_sold', 'avg_customers'] %}
        cast(null as bigint) as {{ column }},
        {%- endfor %}
        {{ tiktok_shop_json_null() }} as creator,
        {{ tiktok_shop_json_null() }} as gmv
    where 1 = 0
{%- else %}
    {{ tiktok_shop_latest_version(raw, ['shop_id', 'id', 'date'], 'shop_id') }}
{%- endif %}
)

select
    shop_id,
    id as video_id,
    cast(date as date) as shop_date,
    title,
    username,
    {{ tiktok_shop_json_text('creator', ['open_id']) }} as creator_open_id,
    {{ tiktok_shop_json_text('creator', ['author_type']) }} as creator_type,
    cast(nullif(video_post_time, '') as timestamp) as posted_at,
    cast(duration as bigint) as duration_seconds,
    cast(views as bigint) as views,
    cast(likes as bigint) as likes,
    cast(comments as bigint) as comments,
    cast(shares as bigint) as shares,
    cast(new_followers as bigint) as new_followers,
    cast(product_impressions as bigint) as product_impressions,
    cast(product_clicks as bigint) as product_clicks,
    {{ tiktok_shop_rate('click_through_rate') }} as click_through_rate,
    {{ tiktok_shop_json_text('gmv', ['currency']) }} as currency,
    {{ tiktok_shop_money(tiktok_shop_json_text('gmv', ['amount'])) }} as gmv,
    cast(sku_orders as bigint) as sku_orders,
    cast(items_sold as bigint) as items_sold,
    cast(avg_customers as bigint) as customers
from latest
