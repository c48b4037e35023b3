-- One row per raw company, cleaned and typed.
with source as (
    select * from {{ ref('raw_companies') }}
),

cleaned as (
    select
        {{ warehouse_key('CO', 'id') }} as company_key,
        {{ clean_text('company_name') }} as name,
        -- 'hTtPs://www.Acme.Example.com/about ' → 'acme.example.com'
        nullif(
            regexp_replace(
                regexp_replace(regexp_replace(lower({{ strip('website') }}), '^[a-z]+://', ''), '^www\.', ''),
                '[/?#].*$', ''
            ),
            ''
        ) as domain,
        case {{ letters_only('industry') }}
            when 'computersoftware' then 'COMPUTER_SOFTWARE'
            when 'software' then 'COMPUTER_SOFTWARE'
            when 'accounting' then 'ACCOUNTING'
            when 'informationtechnologyandservices' then 'INFORMATION_TECHNOLOGY_AND_SERVICES'
            when 'itservices' then 'INFORMATION_TECHNOLOGY_AND_SERVICES'
            when 'financialservices' then 'FINANCIAL_SERVICES'
            when 'finance' then 'FINANCIAL_SERVICES'
            when 'hospitalhealthcare' then 'HOSPITAL_HEALTH_CARE'
            when 'healthcare' then 'HOSPITAL_HEALTH_CARE'
            when 'retail' then 'RETAIL'
            when 'marketingandadvertising' then 'MARKETING_AND_ADVERTISING'
            when 'marketingadvertising' then 'MARKETING_AND_ADVERTISING'
            when 'educationmanagement' then 'EDUCATION_MANAGEMENT'
            when 'education' then 'EDUCATION_MANAGEMENT'
        end as industry,  -- unknown labels → null (HubSpot would reject them)
        {{ clean_text('city') }} as city,
        {{ proper_case('country') }} as country,
        {{ clean_text('phone') }} as phone,
        cast({{ parse_number('employees') }} as bigint) as numberofemployees,
        {{ parse_number('annual_revenue') }} as annualrevenue,
        case when regexp_matches({{ strip('founded') }}, '^\d{4}$') then {{ strip('founded') }} end as founded_year,
        {{ parse_utc_timestamp('updated_at') }} as updated_at
    from source
)

select * from cleaned
