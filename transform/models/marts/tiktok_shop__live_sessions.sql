{{ config(enabled=tiktok_shop_enabled('shop_live_sessions')) }}
{#- One row per LIVE session, its metrics typed; shop_date is the shop day that listed it
    first, started_at and ended_at are UTC. -#}
select
    {{ tiktok_shop_surrogate_key(['shop_id', 'live_id']) }} as shop_live_id,
    *
from {{ ref('stg_tiktok_shop__live_sessions') }}
