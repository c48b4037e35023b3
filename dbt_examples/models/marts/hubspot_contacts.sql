-- Contacts shaped for a HubSpot batch create: one row per email (the latest updated raw row).
select
    contacts.contact_key,
    contacts.email,
    contacts.firstname,
    contacts.lastname,
    contacts.phone,
    contacts.jobtitle,
    contacts.lifecyclestage,
    contacts.city,
    contacts.country,
    companies.company_key,  -- null when the raw company id is missing or unknown
    contacts.signed_up_at,
    contacts.date_of_birth,
    contacts.is_vip
from {{ ref('stg_contacts') }} as contacts
left join {{ ref('stg_companies') }} as companies
    on companies.company_key = contacts.company_key
where contacts.email_rank = 1
order by contacts.contact_key
