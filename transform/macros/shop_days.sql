{#- Days of the shop's calendar: the Analytics API's dates are calendar days in the shop's
    registered time zone (never UTC), so whatever is joined to analytics figures is counted on
    the same local day. The zone comes from the shop's region (var tiktok_shop_time_zones). -#}

{#- The IANA time zone of a shop, from a column holding its region code. -#}
{% macro tiktok_shop_time_zone(region_column) -%}
    case {{ region_column }}
    {%- for region, zone in var('tiktok_shop_time_zones').items() %}
        when '{{ region }}' then '{{ zone }}'
    {%- endfor %}
        else '{{ var("tiktok_shop_default_time_zone") }}'
    end
{%- endmacro %}

{#- A UTC wall-clock timestamp (see timestamps.sql) -> the calendar date in the zone of the
    column ``zone_column`` (an IANA name), daylight saving included. -#}
{% macro tiktok_shop_local_date(utc_column, zone_column) -%}
    {{ return(adapter.dispatch('tiktok_shop_local_date', 'tiktok_shop')(utc_column, zone_column)) }}
{%- endmacro %}

{% macro default__tiktok_shop_local_date(utc_column, zone_column) -%}
    cast(timezone({{ zone_column }}, timezone('UTC', {{ utc_column }})) as date)
{%- endmacro %}

{% macro postgres__tiktok_shop_local_date(utc_column, zone_column) -%}
    cast(({{ utc_column }} at time zone 'UTC') at time zone {{ zone_column }} as date)
{%- endmacro %}

{#- The raw table of an optional stream, or none when it is disabled (its var) or the loader
    never created it (the stream was not selected): the models on it then build empty, and the
    marts joining them hold nulls. -#}
{% macro tiktok_shop_loaded_source(table) -%}
    {%- if not tiktok_shop_enabled(table) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(source('tiktok_shop', table)) }}
    {%- endif -%}
    {%- set relation = source('tiktok_shop', table) -%}
    {{ return(adapter.get_relation(relation.database, relation.schema, relation.identifier)) }}
{%- endmacro %}

{#- A null of the loaders' JSON column type, for the stand-in of a table not loaded. -#}
{% macro tiktok_shop_json_null() -%}
    {{ return(adapter.dispatch('tiktok_shop_json_null', 'tiktok_shop')()) }}
{%- endmacro %}

{% macro default__tiktok_shop_json_null() -%}
    cast(null as json)
{%- endmacro %}

{% macro postgres__tiktok_shop_json_null() -%}
    cast(null as jsonb)
{%- endmacro %}
