-- Every key in hubspot_deals.contact_keys names a row of hubspot_contacts, at most 3 per deal, no repeats.
with keys as (
    select deal_key, unnest(contact_keys) as contact_key, len(contact_keys) as n, len(list_distinct(contact_keys)) as n_distinct
    from {{ ref('hubspot_deals') }}
)

select keys.*
from keys
left join {{ ref('hubspot_contacts') }} as contacts
    on contacts.contact_key = keys.contact_key
where contacts.contact_key is null or keys.n > 3 or keys.n_distinct <> keys.n
