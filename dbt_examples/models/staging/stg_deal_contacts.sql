-- Deal ↔ contact links with warehouse keys. A link to a duplicate contact row is re-pointed to the
-- row kept for that email (email_rank = 1); links to unknown contacts are dropped.
with links as (
    select
        {{ warehouse_key('DL', 'deal_id') }} as deal_key,
        {{ warehouse_key('CT', 'contact_id') }} as linked_contact_key
    from {{ ref('raw_deal_contacts') }}
)

select distinct
    links.deal_key,
    kept.contact_key
from links
inner join {{ ref('stg_contacts') }} as linked
    on linked.contact_key = links.linked_contact_key
inner join {{ ref('stg_contacts') }} as kept
    on kept.email = linked.email and kept.email_rank = 1
