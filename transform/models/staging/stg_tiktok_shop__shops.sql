with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'shops'), ['id'], 'id') }}
)

select
    id as shop_id,
    name as shop_name,
    region,
    seller_type,
    code as shop_code
from latest
