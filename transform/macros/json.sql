{#- JSON access, the one thing the loaders store differently: target-postgres writes nested
    objects and arrays of objects as jsonb (meltano.yml's `schema:` extra gives the arrays no
    `items`, which would make them jsonb[]); target-duckdb writes both as JSON columns. -#}

{#- The text value at a path of keys inside a JSON object column (null if absent). -#}
{% macro tiktok_shop_json_text(column, path) -%}
    {{ return(adapter.dispatch('tiktok_shop_json_text', 'tiktok_shop')(column, path)) }}
{%- endmacro %}

{% macro default__tiktok_shop_json_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro postgres__tiktok_shop_json_text(column, path) -%}
    ({{ column }} #>> '{ {{- path | join(",") -}} }')
{%- endmacro %}

{#- A set-returning expression: one row per element of a JSON array column. Use it in the
    select list; each element is a JSON object for tiktok_shop_json_text. -#}
{% macro tiktok_shop_json_array_elements(column) -%}
    {{ return(adapter.dispatch('tiktok_shop_json_array_elements', 'tiktok_shop')(column)) }}
{%- endmacro %}

{% macro default__tiktok_shop_json_array_elements(column) -%}
    unnest(json_extract({{ column }}, '$[*]'))
{%- endmacro %}

{% macro postgres__tiktok_shop_json_array_elements(column) -%}
    jsonb_array_elements({{ column }})
{%- endmacro %}

{#- The JSON value (not text) at a path of keys inside a JSON object column. -#}
{% macro tiktok_shop_json_path(column, path) -%}
    {{ return(adapter.dispatch('tiktok_shop_json_path', 'tiktok_shop')(column, path)) }}
{%- endmacro %}

{% macro default__tiktok_shop_json_path(column, path) -%}
    json_extract({{ column }}, '$.{{ path | join(".") }}')
{%- endmacro %}

{% macro postgres__tiktok_shop_json_path(column, path) -%}
    ({{ column }} #> '{ {{- path | join(",") -}} }')
{%- endmacro %}
