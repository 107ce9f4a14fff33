with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'shops'), ['id'], 'id') }}
)

select
    id as shop_id,
    name as shop_name,
    region,
    seller_type,
    code as shop_code,
    {{ tiktok_shop_time_zone('region') }} as time_zone
from latest
