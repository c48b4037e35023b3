"""Object types, their property definitions and HubSpot's default association types.

Type ids and association type ids follow the reference (§2.3 and §11.1). Property lists cover the
commonly loaded properties of each standard object, not HubSpot's full schema; more can be declared
through ``SandboxConfig.extra_properties``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hubspot_loader.sandbox.config import CustomObjectConfig, PropertyConfig, SandboxConfig

FIELD_TYPE_BY_TYPE = {
    "string": "text",
    "number": "number",
    "bool": "booleancheckbox",
    "date": "date",
    "datetime": "date",
    "enumeration": "select",
    "phone_number": "phonenumber",
}


@dataclass(frozen=True)
class PropertyDef:
    """One property of an object type, as served by the properties API and used by validation."""

    name: str
    type: str
    field_type: str
    label: str
    group: str
    options: tuple[tuple[str, str], ...] = ()
    unique: bool = False
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = True

    @property
    def option_values(self) -> tuple[str, ...]:
        """Internal values of the allowed options (enumerations and bools)."""
        return tuple(value for value, _label in self.options)

    @property
    def multi_valued(self) -> bool:
        """Whether the enumeration accepts several ``;``-separated values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_api(self, display_order: int) -> dict[str, Any]:
        """Render as HubSpot's ``Property`` model."""
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": "",
            "groupName": self.group,
            "options": [
                {"label": label, "value": value, "description": "", "displayOrder": i, "hidden": False}
                for i, (value, label) in enumerate(self.options)
            ],
            "displayOrder": display_order,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only,
            "archived": False,
            "createdAt": "2020-01-01T00:00:00Z",
            "updatedAt": "2020-01-01T00:00:00Z",
            "dataSensitivity": "non_sensitive",
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
        }
        if self.type == "enumeration" or self.type == "bool":
            data["modificationMetadata"]["readOnlyOptions"] = self.hubspot_defined and self.type == "bool"
        return data


def _p(
    name: str,
    type_: str = "string",
    label: str = "",
    *,
    field_type: str = "",
    options: tuple[str, ...] = (),
    unique: bool = False,
    read_only: bool = False,
    calculated: bool = False,
    group: str = "information",
) -> PropertyDef:
    if type_ == "bool" and not options:
        options = ("true", "false")
    labels = tuple(
        (o, "Yes" if o == "true" else "No" if o == "false" else o.replace("_", " ").title()) for o in options
    )
    return PropertyDef(
        name=name,
        type=type_,
        field_type=field_type or FIELD_TYPE_BY_TYPE[type_],
        label=label or name.replace("hs_", "").replace("_", " ").capitalize(),
        group=group,
        options=labels,
        unique=unique,
        read_only=read_only or calculated,
        calculated=calculated,
    )


def _system(modified: str) -> list[PropertyDef]:
    return [
        _p("hs_object_id", "number", "Record ID", unique=True, read_only=True, group="system"),
        _p("createdate", "datetime", "Create Date", read_only=True, group="system"),
        _p(modified, "datetime", "Last Modified Date", read_only=True, group="system"),
        _p("hs_object_source", "string", "Record source", read_only=True, group="system"),
        _p("hs_object_source_id", "string", "Record source ID", read_only=True, group="system"),
        _p("hs_object_source_label", "string", "Record source label", read_only=True, group="system"),
        _p("hubspot_owner_id", "enumeration", "Owner", field_type="select", group="system"),
    ]


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
    return [*_system("hs_lastmodifieddate"), _p("hs_timestamp", "datetime", "Activity date"), *extra]


STANDARD_PROPERTIES: dict[str, list[PropertyDef]] = {
    "contacts": [
        *_system("lastmodifieddate"),
        _p("email", "string", "Email", unique=True),
        _p("firstname", "string", "First Name"),
        _p("lastname", "string", "Last Name"),
        _p("phone", "phone_number", "Phone Number"),
        _p("mobilephone", "phone_number", "Mobile Phone Number"),
        _p("company", "string", "Company Name"),
        _p("website", "string", "Website URL"),
        _p("jobtitle", "string", "Job Title"),
        _p("address", "string", "Street Address"),
        _p("city", "string", "City"),
        _p("state", "string", "State/Region"),
        _p("zip", "string", "Postal Code"),
        _p("country", "string", "Country/Region"),
        _p("date_of_birth", "string", "Date of birth"),
        _p("lifecyclestage", "enumeration", "Lifecycle Stage", field_type="radio", options=LIFECYCLE_STAGES),
        _p(
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
        _p(
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
        _p("hs_email_optout", "bool", "Unsubscribed from all email", read_only=True),
        _p("num_associated_deals", "number", "Number of Associated Deals", calculated=True),
        _p(
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
        *_system("hs_lastmodifieddate"),
        _p("name", "string", "Company name"),
        _p("domain", "string", "Company Domain Name"),
        _p("website", "string", "Website URL"),
        _p("industry", "enumeration", "Industry", options=INDUSTRIES),
        _p("phone", "phone_number", "Phone Number"),
        _p("address", "string", "Street Address"),
        _p("city", "string", "City"),
        _p("state", "string", "State/Region"),
        _p("zip", "string", "Postal Code"),
        _p("country", "string", "Country/Region"),
        _p("numberofemployees", "number", "Number of Employees"),
        _p("annualrevenue", "number", "Annual Revenue"),
        _p("description", "string", "Description", field_type="textarea"),
        _p("founded_year", "string", "Year Founded"),
        _p("type", "enumeration", "Type", options=("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
        _p("lifecyclestage", "enumeration", "Lifecycle Stage", field_type="radio", options=LIFECYCLE_STAGES),
        _p("hs_pipeline", "enumeration", "Pipeline", options=("companies-lifecycle-pipeline",)),
        _p("num_associated_contacts", "number", "Number of Associated Contacts", calculated=True),
    ],
    "deals": [
        *_system("hs_lastmodifieddate"),
        _p("dealname", "string", "Deal Name"),
        _p("amount", "number", "Amount"),
        _p("closedate", "datetime", "Close Date"),
        _p("pipeline", "enumeration", "Pipeline", options=("default",)),
        _p("dealstage", "enumeration", "Deal Stage", field_type="radio", options=DEAL_STAGES),
        _p(
            "dealtype",
            "enumeration",
            "Deal Type",
            field_type="radio",
            options=("newbusiness", "existingbusiness"),
        ),
        _p("description", "string", "Deal Description", field_type="textarea"),
        _p("hs_priority", "enumeration", "Priority", options=("low", "medium", "high")),
        _p("hs_is_closed", "bool", "Is Deal Closed?", calculated=True),
    ],
    "tickets": [
        *_system("hs_lastmodifieddate"),
        _p("subject", "string", "Ticket name"),
        _p("content", "string", "Ticket description", field_type="textarea"),
        _p("hs_pipeline", "enumeration", "Pipeline", options=("0",)),
        _p("hs_pipeline_stage", "enumeration", "Ticket status", options=("1", "2", "3", "4")),
        _p("hs_ticket_priority", "enumeration", "Priority", options=("LOW", "MEDIUM", "HIGH", "URGENT")),
        _p(
            "hs_ticket_category",
            "enumeration",
            "Category",
            field_type="checkbox",
            options=("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
        ),
        _p("hs_ticket_id", "number", "Ticket ID", read_only=True),
    ],
    "products": [
        *_system("hs_lastmodifieddate"),
        _p("name", "string", "Name"),
        _p("description", "string", "Description", field_type="textarea"),
        _p("price", "number", "Unit price"),
        _p("hs_sku", "string", "SKU"),
        _p("hs_cost_of_goods_sold", "number", "Unit cost"),
        _p("hs_recurring_billing_period", "string", "Term"),
    ],
    "line_items": [
        *_system("hs_lastmodifieddate"),
        _p("name", "string", "Name"),
        _p("description", "string", "Description", field_type="textarea"),
        _p("quantity", "number", "Quantity"),
        _p("price", "number", "Unit price"),
        _p("amount", "number", "Net price", calculated=True),
        _p("hs_product_id", "number", "Product ID"),
        _p("hs_sku", "string", "SKU"),
        _p("hs_discount_percentage", "number", "Discount percentage"),
    ],
    "notes": _engagement(
        [
            _p("hs_note_body", "string", "Note body", field_type="html"),
        ]
    ),
    "calls": _engagement(
        [
            _p("hs_call_title", "string", "Call Title"),
            _p("hs_call_body", "string", "Call notes", field_type="html"),
            _p("hs_call_duration", "number", "Call duration"),
            _p("hs_call_direction", "enumeration", "Call direction", options=("INBOUND", "OUTBOUND")),
            _p(
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
            _p("hs_task_subject", "string", "Task Title"),
            _p("hs_task_body", "string", "Notes", field_type="html"),
            _p(
                "hs_task_status",
                "enumeration",
                "Task Status",
                options=("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
            ),
            _p("hs_task_priority", "enumeration", "Priority", options=("NONE", "LOW", "MEDIUM", "HIGH")),
            _p("hs_task_type", "enumeration", "Task Type", options=("CALL", "EMAIL", "TODO")),
        ]
    ),
    "meetings": _engagement(
        [
            _p("hs_meeting_title", "string", "Meeting name"),
            _p("hs_meeting_body", "string", "Meeting description", field_type="html"),
            _p("hs_meeting_start_time", "datetime", "Start Time"),
            _p("hs_meeting_end_time", "datetime", "End Time"),
            _p("hs_meeting_location", "string", "Location"),
            _p(
                "hs_meeting_outcome",
                "enumeration",
                "Meeting outcome",
                options=("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
            ),
        ]
    ),
    "emails": _engagement(
        [
            _p("hs_email_subject", "string", "Email subject"),
            _p("hs_email_text", "string", "Email body", field_type="textarea"),
            _p("hs_email_html", "string", "Email HTML body", field_type="html"),
            _p("hs_email_headers", "string", "Email headers"),
            _p(
                "hs_email_direction",
                "enumeration",
                "Email direction",
                options=("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"),
            ),
            _p(
                "hs_email_status",
                "enumeration",
                "Email send status",
                options=("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"),
            ),
        ]
    ),
}


@dataclass(frozen=True)
class ObjectType:
    """An object type the sandbox serves (standard or custom)."""

    name: str
    type_id: str
    singular: str
    write_scopes: tuple[str, ...]
    read_scopes: tuple[str, ...]
    modified_property: str
    default_properties: tuple[str, ...]
    properties: dict[str, PropertyDef] = field(hash=False, compare=False)
    aliases: tuple[str, ...] = ()
    custom: bool = False

    @property
    def error_name(self) -> str:
        """The upper-case name HubSpot uses in association errors (``CONTACT``)."""
        return self.singular.upper()

    def unique_properties(self) -> tuple[str, ...]:
        """Names of writable properties with ``hasUniqueValue`` (checked for conflicts)."""
        return tuple(p.name for p in self.properties.values() if p.unique and not p.read_only)


# name, type id, singular, write scopes, read scopes, modified property, default returned properties
_STANDARD: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
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
]


@dataclass(frozen=True)
class AssociationType:
    """A directed association type: ``from_type`` → ``to_type`` with id ``type_id``."""

    type_id: int
    from_type: str
    to_type: str
    category: str
    label: str | None
    inverse_id: int
    implies: int | None = None

    def to_label(self) -> dict[str, Any]:
        """Render as ``AssociationSpecWithLabel``."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


# (from, to, type id, inverse type id, label, inverse label, unlabeled ids implied by a primary type)
_ASSOC_PAIRS: list[tuple[str, str, int, int, str | None, str | None]] = [
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
]
# engagement type id → (to contact, to company, to deal, to ticket); reverse ids are each minus one
_ENGAGEMENTS = {
    "0-48": (194, 182, 206, 220),
    "0-49": (198, 186, 210, 224),
    "0-47": (200, 188, 212, 226),
    "0-46": (202, 190, 214, 228),
    "0-27": (204, 192, 216, 230),
}
for _eng, _ids in _ENGAGEMENTS.items():
    for _target, _tid in zip(("0-1", "0-2", "0-3", "0-5"), _ids, strict=True):
        _ASSOC_PAIRS.append((_eng, _target, _tid, _tid - 1, None, None))
# A primary type implies the unlabeled type of the same pair (HubSpot returns both).
_IMPLIES = {1: 279, 2: 280, 5: 341, 6: 342, 26: 339, 25: 340}


def default_association_types() -> dict[int, AssociationType]:
    """HubSpot's HUBSPOT_DEFINED association types, keyed by type id."""
    table: dict[int, AssociationType] = {}
    for from_t, to_t, tid, inv, label, inv_label in _ASSOC_PAIRS:
        table[tid] = AssociationType(tid, from_t, to_t, "HUBSPOT_DEFINED", label, inv, _IMPLIES.get(tid))
        if inv != tid:
            table[inv] = AssociationType(
                inv, to_t, from_t, "HUBSPOT_DEFINED", inv_label, tid, _IMPLIES.get(inv)
            )
    return table


def property_from_config(prop: PropertyConfig) -> PropertyDef:
    """Build a :class:`PropertyDef` for a property declared by configuration or created over the API."""
    base = _p(
        prop.name,
        prop.type,
        prop.label,
        field_type=prop.field_type,
        options=prop.options,
        unique=prop.unique,
        read_only=prop.read_only,
        group="custom",
    )
    return PropertyDef(
        base.name,
        base.type,
        base.field_type,
        base.label,
        base.group,
        base.options,
        base.unique,
        base.read_only,
        False,
        hubspot_defined=False,
    )


class Catalog:
    """Resolves object type references and holds property and association definitions."""

    def __init__(self, config: SandboxConfig) -> None:
        self.portal_id = config.portal_id
        self.types: dict[str, ObjectType] = {}
        self._lookup: dict[str, ObjectType] = {}
        extra = {name: props for name, props in config.extra_properties}
        for name, tid, singular, write, read, defaults in _STANDARD:
            props = {p.name: p for p in STANDARD_PROPERTIES[name]}
            self._add(
                ObjectType(
                    name,
                    tid,
                    singular,
                    write,
                    read,
                    "lastmodifieddate" if name == "contacts" else "hs_lastmodifieddate",
                    defaults,
                    props,
                )
            )
        for custom in config.custom_objects:
            self._add_custom(custom)
        for ref, props_cfg in extra.items():
            obj = self.resolve(ref)
            if obj is None:
                raise ValueError(f"extra_properties: unknown object type {ref!r}")
            for prop in props_cfg:
                obj.properties[prop.name] = property_from_config(prop)
        self.associations = default_association_types()
        for custom in config.custom_objects:
            for assoc in custom.associations:
                target = self.resolve(assoc.to_object)
                if target is None:
                    raise ValueError(
                        f"custom object {custom.name}: unknown association target {assoc.to_object}"
                    )
                self.associations[assoc.type_id] = AssociationType(
                    assoc.type_id,
                    custom.type_id,
                    target.type_id,
                    "USER_DEFINED",
                    assoc.label,
                    assoc.inverse_type_id,
                )
                self.associations[assoc.inverse_type_id] = AssociationType(
                    assoc.inverse_type_id,
                    target.type_id,
                    custom.type_id,
                    "USER_DEFINED",
                    assoc.label,
                    assoc.type_id,
                )

    def _add(self, obj: ObjectType) -> None:
        self.types[obj.type_id] = obj
        for key in (obj.name, obj.type_id, obj.singular, *obj.aliases):
            self._lookup[key.lower()] = obj

    def _add_custom(self, custom: CustomObjectConfig) -> None:
        if not custom.type_id.startswith("2-"):
            raise ValueError(
                f"custom object {custom.name}: type id must look like 2-123, got {custom.type_id}"
            )
        props = {p.name: p for p in _system("hs_lastmodifieddate")}
        for prop in custom.properties:
            props[prop.name] = property_from_config(prop)
        scopes_w = ("crm.objects.custom.write",)
        scopes_r = ("crm.objects.custom.read",)
        first = [p.name for p in custom.properties][:1]
        self._add(
            ObjectType(
                name=f"p_{custom.name}",
                type_id=custom.type_id,
                singular=custom.name,
                write_scopes=scopes_w,
                read_scopes=scopes_r,
                modified_property="hs_lastmodifieddate",
                default_properties=tuple(first),
                properties=props,
                aliases=(f"p{self.portal_id}_{custom.name}",),
                custom=True,
            )
        )

    def resolve(self, ref: str) -> ObjectType | None:
        """Find an object type by plural name, singular name, ``0-x``/``2-x`` id or ``p_name`` form.

        A custom object's bare name is not accepted (HubSpot removed that in June 2025).
        """
        obj = self._lookup.get(ref.lower())
        if obj is not None and obj.custom and ref.lower() == obj.singular.lower():
            return None
        return obj

    def labels(self, from_type: ObjectType, to_type: ObjectType) -> list[dict[str, Any]]:
        """Association labels between two types, as ``AssociationSpecWithLabel`` dicts."""
        return [
            a.to_label()
            for a in sorted(self.associations.values(), key=lambda a: a.type_id)
            if a.from_type == from_type.type_id and a.to_type == to_type.type_id
        ]

    def v3_association_name(self, assoc: AssociationType) -> str:
        """Return the v3 ``type`` name of an association (``contact_to_company[_unlabeled]``)."""
        src = self.types[assoc.from_type].singular
        dst = self.types[assoc.to_type].singular
        name = f"{src}_to_{dst}"
        if assoc.type_id in _IMPLIES.values():
            name += "_unlabeled"
        return name
