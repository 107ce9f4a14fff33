{{ config(enabled=tiktok_shop_enabled('shop_video_performance_daily')) }}
{#- One row per video and shop day (the shop's calendar day), its metrics typed. -#}
select
    {{ tiktok_shop_surrogate_key(['shop_id', 'video_id', 'shop_date']) }} as video_day_id,
    *
from {{ ref('stg_tiktok_shop__video_performance_daily') }}
