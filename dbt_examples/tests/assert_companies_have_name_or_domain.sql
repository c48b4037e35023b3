-- HubSpot needs a name or a domain to create a company.
select company_key
from {{ ref('hubspot_companies') }}
where name is null and domain is null
