{#- Generic test: no two rows share the same values of these columns (dbt_utils'
    unique_combination_of_columns, written here because the package hub is out of reach). -#}
{% test tiktok_shop_unique_combination(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as duplicates
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
