-- One row per raw deal, cleaned and typed.
with source as (
    select * from {{ ref('raw_deals') }}
)

select
    {{ warehouse_key('DL', 'id') }} as deal_key,
    {{ clean_text('deal_name') }} as dealname,
    {{ parse_number('amount') }} as amount,
    -- HubSpot's closedate is a datetime: midnight UTC of the close day.
    timezone('UTC', cast(try_cast({{ strip('close_date') }} as date) as timestamp)) as closedate,
    case {{ letters_only('stage') }}
        when 'appointmentscheduled' then 'appointmentscheduled'
        when 'qualifiedtobuy' then 'qualifiedtobuy'
        when 'presentationscheduled' then 'presentationscheduled'
        when 'decisionmakerboughtin' then 'decisionmakerboughtin'
        when 'contractsent' then 'contractsent'
        when 'closedwon' then 'closedwon'
        when 'closedlost' then 'closedlost'
    end as dealstage,
    'default' as pipeline,
    case
        when nullif({{ strip('company_id') }}, '') is not null then {{ warehouse_key('CO', 'company_id') }}
    end as company_key
from source
