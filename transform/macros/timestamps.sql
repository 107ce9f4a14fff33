{#- Unix seconds -> a timestamp without time zone holding UTC wall-clock time.
    Every mart date is a UTC day: converting here, once, keeps the database session's time zone
    out of every later cast to date. 0 and null (TikTok's "not set") become null. -#}
{% macro tiktok_shop_unix_to_utc(column) -%}
    {{ return(adapter.dispatch('tiktok_shop_unix_to_utc', 'tiktok_shop')(column)) }}
{%- endmacro %}

{% macro default__tiktok_shop_unix_to_utc(column) -%}
    {{ dbt.dateadd('second', 'nullif(' ~ column ~ ', 0)', "cast('1970-01-01 00:00:00' as timestamp)") }}
{%- endmacro %}

{% macro postgres__tiktok_shop_unix_to_utc(column) -%}
    (to_timestamp(nullif({{ column }}, 0)) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__tiktok_shop_unix_to_utc(column) -%}
    {#- epoch_ms gives a plain TIMESTAMP; to_timestamp would give a TIMESTAMPTZ whose date
        depends on the session's TimeZone. -#}
    epoch_ms(cast(nullif({{ column }}, 0) as bigint) * 1000)
{%- endmacro %}
