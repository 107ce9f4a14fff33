{#- tiktok_shop_money_amount parses every form of amount the affiliate API sends: plain, with a
    currency symbol or code before or after, thousands separators, and "" (not set). Returns
    the forms it gets wrong. -#}
with forms as (
    select '12.34' as amount_text, cast(12.34 as numeric(20, 4)) as expected
    union all select '$1,234.50', cast(1234.50 as numeric(20, 4))
    union all select '1,234.50 USD', cast(1234.50 as numeric(20, 4))
    union all select 'RM 12.00', cast(12.00 as numeric(20, 4))
    union all select '£0.99', cast(0.99 as numeric(20, 4))
    union all select ' 1,000,000.01 ', cast(1000000.01 as numeric(20, 4))
    union all select '-3.10', cast(-3.10 as numeric(20, 4))
    union all select '', cast(null as numeric(20, 4))
)

select amount_text, expected, {{ tiktok_shop_money_amount('amount_text') }} as parsed
from forms
where {{ tiktok_shop_money_amount('amount_text') }} is distinct from expected
