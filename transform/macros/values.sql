{#- TikTok sends money as strings ("40.99") and "not set" as "": a numeric, or null. -#}
{% macro tiktok_shop_money(expression) -%}
    cast(nullif(trim({{ expression }}), '') as numeric(20, 4))
{%- endmacro %}

{#- An id or other text where TikTok's "" means "none". -#}
{% macro tiktok_shop_nullif_blank(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}

{#- A stable text key of several columns (what dbt_utils.generate_surrogate_key gives, without
    the package hub): md5 over the values joined with '|', null spelled out. -#}
{% macro tiktok_shop_surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- The newest version of each record of a raw table. The loaders merge on the stream's key, so
    this is a safeguard for loaders that append (or a table loaded twice), and it keeps every
    staging model honest about its key. -#}
{% macro tiktok_shop_latest_version(relation, key_columns, newest_first) -%}
    select *
    from (
        select
            raw.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ newest_first }}
            ) as tiktok_shop_version_rank
        from {{ relation }} as raw
    ) as versions
    where tiktok_shop_version_rank = 1
{%- endmacro %}

{#- A rate as TikTok sends it, "0.1398" or (LIVE) "15.96%": a fraction, or null. -#}
{% macro tiktok_shop_rate(expression) -%}
    case
        when strpos({{ expression }}, '%') > 0
            then cast(cast(replace(trim({{ expression }}), '%', '') as numeric(20, 6)) / 100
                as numeric(20, 6))
        else cast(nullif(trim({{ expression }}), '') as numeric(20, 6))
    end
{%- endmacro %}

{#- Whether an optional stream's models are enabled: var tiktok_shop_<stream>_enabled (true or
    false from --vars), else the environment variable TIKTOK_SHOP_<STREAM>_ENABLED ("true" or
    "false", which is how Meltano passes it), else ``default``: on for the streams selected by
    default, off for the opt-in ones. -#}
{% macro tiktok_shop_enabled(stream, default=true) -%}
    {%- set from_env = env_var('TIKTOK_SHOP_' ~ (stream | upper) ~ '_ENABLED', default | string) -%}
    {{ return((var('tiktok_shop_' ~ stream ~ '_enabled', from_env) | string | lower) in ['true', '1', 'yes']) }}
{%- endmacro %}

{#- A money amount that may be a localized display string, as the affiliate API warns: "12.34",
    "$1,234.50", "1,234.50 USD", "RM 12.00" -> a numeric; "" (not settled yet) -> null. Every
    character but digits, '.' and '-' is dropped: '.' is the decimal point and ',' groups
    thousands in every form seen (tested in tests/money_amount_forms.sql). -#}
{% macro tiktok_shop_money_amount(expression) -%}
    cast(nullif(regexp_replace(trim({{ expression }}), '[^0-9.-]', '', 'g'), '') as numeric(20, 4))
{%- endmacro %}

{#- A rate in hundredths of a percent, as the affiliate API sends it ("1550" = 15.50 %): a
    fraction (0.155), or null. -#}
{% macro tiktok_shop_hundredths_percent(expression) -%}
    cast(cast(nullif(trim({{ expression }}), '') as numeric(20, 6)) / 10000 as numeric(20, 6))
{%- endmacro %}
