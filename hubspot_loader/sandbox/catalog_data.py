"""Data table: the standard object types, their properties, and HubSpot's property and association facts.

Type ids and association type ids follow the reference (§2.3 and §11.1); the property types, field types
and their valid pairs follow the Properties guide and the properties API's ``PropertyCreate`` schema
(reference §9 and §16.6). Property lists cover the commonly loaded properties of each standard object, not
HubSpot's full schema; more can be declared through ``SandboxConfig.extra_properties``. The code that uses
these tables is in :mod:`~hubspot_loader.sandbox.catalog` and :mod:`~hubspot_loader.sandbox.property_defs`.
"""

from __future__ import annotations

from dataclasses import replace

from hubspot_loader.sandbox.property_defs import PropertyDef, define

#: ``PropertyCreate.type`` (reference §9: the spec's enum; ``phone_number`` is in the spec, not the guide)
PROPERTY_TYPES = ("bool", "date", "datetime", "enumeration", "number", "phone_number", "string")
#: ``PropertyCreate.fieldType`` (reference §9: the spec's enum)
FIELD_TYPES = (
    "booleancheckbox",
    "calculation_equation",
    "checkbox",
    "date",
    "file",
    "html",
    "number",
    "phonenumber",
    "radio",
    "select",
    "text",
    "textarea",
)
#: valid fieldType values per type (Properties guide, reference §16.6; ``phone_number``, which the guide
#: does not list, takes ``phonenumber``: our choice)
VALID_FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "bool": ("booleancheckbox", "calculation_equation"),
    "enumeration": ("booleancheckbox", "checkbox", "radio", "select", "calculation_equation"),
    "date": ("date",),
    "datetime": ("date",),
    "string": ("file", "text", "textarea", "calculation_equation", "html", "phonenumber"),
    "number": ("number", "calculation_equation"),
    "phone_number": ("phonenumber",),
}
#: at most this many unique-value properties per object type (reference §16.6, changelog)
MAX_UNIQUE_PROPERTIES = 10


def system_properties(modified: str) -> list[PropertyDef]:
    """Return the record-id, timestamp, source and owner properties every object type has."""
    props = [
        define("hs_object_id", "number", "Record ID", unique=True, read_only=True),
        define("createdate", "datetime", "Create Date", read_only=True),
        define(modified, "datetime", "Last Modified Date", read_only=True),
        define("hs_object_source", "string", "Record source", read_only=True),
        define("hs_object_source_id", "string", "Record source ID", read_only=True),
        define("hs_object_source_label", "string", "Record source label", read_only=True),
        define("hubspot_owner_id", "enumeration", "Owner", field_type="select"),
    ]
    return [replace(p, group="system") for p in props]


LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
INDUSTRIES = (
    "ACCOUNTING",
    "AIRLINES_AVIATION",
    "APPAREL_FASHION",
    "AUTOMOTIVE",
    "BANKING",
    "BIOTECHNOLOGY",
    "BROADCAST_MEDIA",
    "BUILDING_MATERIALS",
    "CHEMICALS",
    "COMPUTER_HARDWARE",
    "COMPUTER_NETWORKING",
    "COMPUTER_SOFTWARE",
    "CONSTRUCTION",
    "CONSUMER_ELECTRONICS",
    "CONSUMER_GOODS",
    "CONSUMER_SERVICES",
    "E_LEARNING",
    "EDUCATION_MANAGEMENT",
    "FINANCIAL_SERVICES",
    "FOOD_BEVERAGES",
    "HEALTH_WELLNESS_AND_FITNESS",
    "HOSPITAL_HEALTH_CARE",
    "HOSPITALITY",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "INSURANCE",
    "INTERNET",
    "LEGAL_SERVICES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MANAGEMENT_CONSULTING",
    "MARKETING_AND_ADVERTISING",
    "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
    "MEDICAL_DEVICES",
    "MOBILE_GAMES",
    "NONPROFIT_ORGANIZATION_MANAGEMENT",
    "PHARMACEUTICALS",
    "REAL_ESTATE",
    "RETAIL",
    "TELECOMMUNICATIONS",
    "TRANSPORTATION_TRUCKING_RAILROAD",
    "UTILITIES",
    "WHOLESALE",
)
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)


def _engagement(extra: list[PropertyDef]) -> list[PropertyDef]:
    return [
        *system_properties("hs_lastmodifieddate"),
        define("hs_timestamp", "datetime", "Activity date"),
        *extra,
    ]


STANDARD_PROPERTIES: dict[str, list[PropertyDef]] = {
    "contacts": [
        *system_properties("lastmodifieddate"),
        define("email", "string", "Email", unique=True),
        define("firstname", "string", "First Name"),
        define("lastname", "string", "Last Name"),
        define("phone", "phone_number", "Phone Number"),
        define("mobilephone", "phone_number", "Mobile Phone Number"),
        define("company", "string", "Company Name"),
        define("website", "string", "Website URL"),
        define("jobtitle", "string", "Job Title"),
        define("address", "string", "Street Address"),
        define("city", "string", "City"),
        define("state", "string", "State/Region"),
        define("zip", "string", "Postal Code"),
        define("country", "string", "Country/Region"),
        define("date_of_birth", "string", "Date of birth"),
        define(
            "lifecyclestage", "enumeration", "Lifecycle Stage", field_type="radio", options=LIFECYCLE_STAGES
        ),
        define(
            "hs_lead_status",
            "enumeration",
            "Lead Status",
            field_type="radio",
            options=(
                "NEW",
                "OPEN",
                "IN_PROGRESS",
                "OPEN_DEAL",
                "UNQUALIFIED",
                "ATTEMPTED_TO_CONTACT",
                "CONNECTED",
                "BAD_TIMING",
            ),
        ),
        define(
            "hs_buying_role",
            "enumeration",
            "Buying Role",
            field_type="checkbox",
            options=(
                "BLOCKER",
                "BUDGET_HOLDER",
                "CHAMPION",
                "DECISION_MAKER",
                "END_USER",
                "EXECUTIVE_SPONSOR",
                "INFLUENCER",
                "LEGAL_AND_COMPLIANCE",
                "OTHER",
            ),
        ),
        define("hs_email_optout", "bool", "Unsubscribed from all email", read_only=True),
        define("num_associated_deals", "number", "Number of Associated Deals", calculated=True),
        define(
            "hs_analytics_source",
            "enumeration",
            "Original Source",
            calculated=True,
            options=(
                "ORGANIC_SEARCH",
                "PAID_SEARCH",
                "EMAIL_MARKETING",
                "SOCIAL_MEDIA",
                "REFERRALS",
                "OTHER_CAMPAIGNS",
                "DIRECT_TRAFFIC",
                "OFFLINE",
                "PAID_SOCIAL",
                "AI_REFERRALS",
            ),
        ),
    ],
    "companies": [
        *system_properties("hs_lastmodifieddate"),
        define("name", "string", "Company name"),
        define("domain", "string", "Company Domain Name"),
        define("website", "string", "Website URL"),
        define("industry", "enumeration", "Industry", options=INDUSTRIES),
        define("phone", "phone_number", "Phone Number"),
        define("address", "string", "Street Address"),
        define("city", "string", "City"),
        define("state", "string", "State/Region"),
        define("zip", "string", "Postal Code"),
        define("country", "string", "Country/Region"),
        define("numberofemployees", "number", "Number of Employees"),
        define("annualrevenue", "number", "Annual Revenue"),
        define("description", "string", "Description", field_type="textarea"),
        define("founded_year", "string", "Year Founded"),
        define("type", "enumeration", "Type", options=("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
        define(
            "lifecyclestage", "enumeration", "Lifecycle Stage", field_type="radio", options=LIFECYCLE_STAGES
        ),
        define("hs_pipeline", "enumeration", "Pipeline", options=("companies-lifecycle-pipeline",)),
        define("num_associated_contacts", "number", "Number of Associated Contacts", calculated=True),
    ],
    "deals": [
        *system_properties("hs_lastmodifieddate"),
        define("dealname", "string", "Deal Name"),
        define("amount", "number", "Amount"),
        define("closedate", "datetime", "Close Date"),
        define("pipeline", "enumeration", "Pipeline", options=("default",)),
        define("dealstage", "enumeration", "Deal Stage", field_type="radio", options=DEAL_STAGES),
        define(
            "dealtype",
            "enumeration",
            "Deal Type",
            field_type="radio",
            options=("newbusiness", "existingbusiness"),
        ),
        define("description", "string", "Deal Description", field_type="textarea"),
        define("hs_priority", "enumeration", "Priority", options=("low", "medium", "high")),
        define("hs_is_closed", "bool", "Is Deal Closed?", calculated=True),
    ],
    "tickets": [
        *system_properties("hs_lastmodifieddate"),
        define("subject", "string", "Ticket name"),
        define("content", "string", "Ticket description", field_type="textarea"),
        define("hs_pipeline", "enumeration", "Pipeline", options=("0",)),
        define("hs_pipeline_stage", "enumeration", "Ticket status", options=("1", "2", "3", "4")),
        define("hs_ticket_priority", "enumeration", "Priority", options=("LOW", "MEDIUM", "HIGH", "URGENT")),
        define(
            "hs_ticket_category",
            "enumeration",
            "Category",
            field_type="checkbox",
            options=("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
        ),
        define("hs_ticket_id", "number", "Ticket ID", read_only=True),
    ],
    "products": [
        *system_properties("hs_lastmodifieddate"),
        define("name", "string", "Name"),
        define("description", "string", "Description", field_type="textarea"),
        define("price", "number", "Unit price"),
        define("hs_sku", "string", "SKU"),
        define("hs_cost_of_goods_sold", "number", "Unit cost"),
        define("hs_recurring_billing_period", "string", "Term"),
    ],
    "line_items": [
        *system_properties("hs_lastmodifieddate"),
        define("name", "string", "Name"),
        define("description", "string", "Description", field_type="textarea"),
        define("quantity", "number", "Quantity"),
        define("price", "number", "Unit price"),
        define("amount", "number", "Net price", calculated=True),
        define("hs_product_id", "number", "Product ID"),
        define("hs_sku", "string", "SKU"),
        define("hs_discount_percentage", "number", "Discount percentage"),
    ],
    "notes": _engagement(
        [
            define("hs_note_body", "string", "Note body", field_type="html"),
        ]
    ),
    "calls": _engagement(
        [
            define("hs_call_title", "string", "Call Title"),
            define("hs_call_body", "string", "Call notes", field_type="html"),
            define("hs_call_duration", "number", "Call duration"),
            define("hs_call_direction", "enumeration", "Call direction", options=("INBOUND", "OUTBOUND")),
            define(
                "hs_call_status",
                "enumeration",
                "Call status",
                options=(
                    "BUSY",
                    "CALLING_CRM_USER",
                    "CANCELED",
                    "COMPLETED",
                    "CONNECTING",
                    "FAILED",
                    "IN_PROGRESS",
                    "NO_ANSWER",
                    "QUEUED",
                    "RINGING",
                ),
            ),
        ]
    ),
    "tasks": _engagement(
        [
            define("hs_task_subject", "string", "Task Title"),
            define("hs_task_body", "string", "Notes", field_type="html"),
            define(
                "hs_task_status",
                "enumeration",
                "Task Status",
                options=("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
            ),
            define("hs_task_priority", "enumeration", "Priority", options=("NONE", "LOW", "MEDIUM", "HIGH")),
            define("hs_task_type", "enumeration", "Task Type", options=("CALL", "EMAIL", "TODO")),
        ]
    ),
    "meetings": _engagement(
        [
            define("hs_meeting_title", "string", "Meeting name"),
            define("hs_meeting_body", "string", "Meeting description", field_type="html"),
            define("hs_meeting_start_time", "datetime", "Start Time"),
            define("hs_meeting_end_time", "datetime", "End Time"),
            define("hs_meeting_location", "string", "Location"),
            define(
                "hs_meeting_outcome",
                "enumeration",
                "Meeting outcome",
                options=("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
            ),
        ]
    ),
    "emails": _engagement(
        [
            define("hs_email_subject", "string", "Email subject"),
            define("hs_email_text", "string", "Email body", field_type="textarea"),
            define("hs_email_html", "string", "Email HTML body", field_type="html"),
            define("hs_email_headers", "string", "Email headers"),
            define(
                "hs_email_direction",
                "enumeration",
                "Email direction",
                options=("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
            ),
            define(
                "hs_email_status",
                "enumeration",
                "Email send status",
                options=("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
            ),
        ]
    ),
}


# name, type id, singular, write scopes, read scopes, modified property, default returned properties
STANDARD_OBJECT_TYPES: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "contacts",
        "0-1",
        "contact",
        ("crm.objects.contacts.write",),
        ("crm.objects.contacts.read",),
        ("firstname", "lastname", "email"),
    ),
    (
        "companies",
        "0-2",
        "company",
        ("crm.objects.companies.write",),
        ("crm.objects.companies.read",),
        ("name", "domain"),
    ),
    (
        "deals",
        "0-3",
        "deal",
        ("crm.objects.deals.write",),
        ("crm.objects.deals.read",),
        ("dealname", "amount", "closedate", "pipeline", "dealstage"),
    ),
    (
        "tickets",
        "0-5",
        "ticket",
        ("tickets",),
        ("tickets",),
        (
            "content",
            "hs_pipeline",
            "hs_pipeline_stage",
            "hs_ticket_category",
            "hs_ticket_priority",
            "subject",
        ),
    ),
    (
        "products",
        "0-7",
        "product",
        ("crm.objects.products.write", "e-commerce"),
        ("crm.objects.products.read", "e-commerce"),
        ("name", "description", "price"),
    ),
    (
        "line_items",
        "0-8",
        "line_item",
        ("crm.objects.line_items.write", "e-commerce"),
        ("crm.objects.line_items.read", "e-commerce"),
        ("name", "quantity", "price"),
    ),
    ("tasks", "0-27", "task", ("crm.objects.contacts.write",), ("crm.objects.contacts.read",), ()),
    ("notes", "0-46", "note", ("crm.objects.contacts.write",), ("crm.objects.contacts.read",), ()),
    ("meetings", "0-47", "meeting", ("crm.objects.contacts.write",), ("crm.objects.contacts.read",), ()),
    ("calls", "0-48", "call", ("crm.objects.contacts.write",), ("crm.objects.contacts.read",), ()),
    (
        "emails",
        "0-49",
        "email",
        ("crm.objects.contacts.write", "sales-email-read"),
        ("crm.objects.contacts.read", "sales-email-read"),
        (),
    ),
)


# (from, to, type id, inverse type id, label, inverse label)
ASSOCIATION_PAIRS: tuple[tuple[str, str, int, int, str | None, str | None], ...] = (
    ("0-1", "0-2", 279, 280, None, None),
    ("0-1", "0-2", 1, 2, "Primary", "Primary"),
    ("0-3", "0-1", 3, 4, None, None),
    ("0-3", "0-2", 341, 342, None, None),
    ("0-3", "0-2", 5, 6, "Primary", "Primary"),
    ("0-5", "0-1", 16, 15, None, None),
    ("0-5", "0-2", 339, 340, None, None),
    ("0-5", "0-2", 26, 25, "Primary", "Primary"),
    ("0-3", "0-5", 27, 28, None, None),
    ("0-3", "0-8", 19, 20, None, None),
    ("0-2", "0-2", 13, 14, "Parent Company", "Child Company"),
    ("0-1", "0-1", 449, 449, None, None),
    ("0-2", "0-2", 450, 450, None, None),
    ("0-3", "0-3", 451, 451, None, None),
    ("0-5", "0-5", 452, 452, None, None),
)
#: engagement type id -> type ids to (contact, company, deal, ticket); the reverse ids are each minus one
ENGAGEMENT_ASSOCIATIONS: dict[str, tuple[int, int, int, int]] = {
    "0-48": (194, 182, 206, 220),
    "0-49": (198, 186, 210, 224),
    "0-47": (200, 188, 212, 226),
    "0-46": (202, 190, 214, 228),
    "0-27": (204, 192, 216, 230),
}
#: the targets of ENGAGEMENT_ASSOCIATIONS, in the order of its tuples
ENGAGEMENT_TARGETS = ("0-1", "0-2", "0-3", "0-5")
#: a primary type implies the unlabeled type of the same pair (HubSpot returns both, reference §11.1)
PRIMARY_IMPLIES: dict[int, int] = {1: 279, 2: 280, 5: 341, 6: 342, 26: 339, 25: 340}
