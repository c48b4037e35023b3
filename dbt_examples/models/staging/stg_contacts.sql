-- One row per raw contact row (duplicates included), cleaned and typed, ranked within its email.
with source as (
    select * from {{ ref('raw_contacts') }}
),

cleaned as (
    select
        {{ warehouse_key('CT', 'id') }} as contact_key,
        -- Only trimming and lower-casing: an email that is still invalid afterwards is kept as is, so
        -- the load reports it per row (the email_format test warns about it).
        nullif(lower({{ strip('email') }}), '') as email,
        {{ proper_case('first_name') }} as firstname,
        {{ proper_case('last_name') }} as lastname,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('job_title') }} as jobtitle,
        case {{ letters_only('lifecycle_stage') }}
            when 'subscriber' then 'subscriber'
            when 'lead' then 'lead'
            when 'marketingqualifiedlead' then 'marketingqualifiedlead'
            when 'mql' then 'marketingqualifiedlead'
            when 'salesqualifiedlead' then 'salesqualifiedlead'
            when 'sql' then 'salesqualifiedlead'
            when 'opportunity' then 'opportunity'
            when 'customer' then 'customer'
        end as lifecyclestage,
        {{ clean_text('city') }} as city,
        {{ proper_case('country') }} as country,
        case
            when nullif({{ strip('company_id') }}, '') is not null then {{ warehouse_key('CO', 'company_id') }}
        end as company_key,
        {{ parse_utc_timestamp('signed_up_at') }} as signed_up_at,
        try_cast({{ strip('date_of_birth') }} as date) as date_of_birth,
        coalesce(lower({{ strip('is_vip') }}) in ('true', 't', 'yes', 'y', '1'), false) as is_vip,
        {{ parse_utc_timestamp('updated_at') }} as updated_at,
        cast({{ strip('id') }} as integer) as source_id
    from source
)

select
    *,
    -- 1 = the row to keep for this email: the most recently updated one (then the highest id).
    row_number() over (
        partition by email order by updated_at desc nulls last, source_id desc
    ) as email_rank
from cleaned
