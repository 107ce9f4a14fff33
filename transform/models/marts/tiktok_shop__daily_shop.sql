{#- One row per shop and UTC day (see macros/daily_sales.sql). The Analytics API's figures are
    on the shop's own calendar days: they are in tiktok_shop__daily_shop_local, never joined to
    UTC days. -#}
with sales as (
    {{ tiktok_shop_daily_sales('utc') }}
)

select
    {{ tiktok_shop_surrogate_key(['shop_id', 'date_day']) }} as shop_day_id,
    *
from sales
