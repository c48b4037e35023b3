-- Deals shaped for a HubSpot batch create, with the keys of their company and contacts.
with deal_contacts as (
    select
        deal_key,
        list_sort(list(contact_key)) as contact_keys
    from {{ ref('stg_deal_contacts') }}
    group by deal_key
)

select
    deals.deal_key,
    deals.dealname,
    deals.amount,
    deals.closedate,
    deals.dealstage,
    deals.pipeline,
    companies.company_key,
    coalesce(deal_contacts.contact_keys, cast([] as varchar[])) as contact_keys
from {{ ref('stg_deals') }} as deals
left join {{ ref('stg_companies') }} as companies
    on companies.company_key = deals.company_key
left join deal_contacts
    on deal_contacts.deal_key = deals.deal_key
order by deals.deal_key
