with latest as (
    {{ tiktok_shop_latest_version(source('tiktok_shop', 'products'), ['id'], 'update_time desc') }}
)

select
    id as product_id,
    shop_id,
    title as product_title,
    status,
    selling_format,
    listing_quality_tier,
    is_not_for_sale,
    has_draft,
    {{ tiktok_shop_json_text('audit', ['status']) }} as audit_status,
    {{ tiktok_shop_unix_to_utc('create_time') }} as created_at,
    {{ tiktok_shop_unix_to_utc('update_time') }} as updated_at
from latest
