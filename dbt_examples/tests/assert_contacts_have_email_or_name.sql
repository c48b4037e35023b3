-- HubSpot needs an email, a first name or a last name to create a contact.
select contact_key
from {{ ref('hubspot_contacts') }}
where email is null and firstname is null and lastname is null
