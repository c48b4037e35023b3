-- Companies shaped for a HubSpot batch create: columns are HubSpot property internal names.
select
    company_key,
    name,
    domain,
    industry,
    city,
    country,
    phone,
    numberofemployees,
    annualrevenue,
    founded_year
from {{ ref('stg_companies') }}
order by company_key
