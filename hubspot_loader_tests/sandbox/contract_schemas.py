"""Our own JSON schemas of HubSpot's answers for the objects, properties, associations and account APIs.

Written for this project from the facts in ``shared/reference/hubspot-api.md`` and from reading HubSpot's
OpenAPI documents (``HubSpot/HubSpot-public-api-spec-collection``: ``CRM/Objects/Rollouts/424/{v3,2026-03}``,
``CRM/Properties/Rollouts/145899/{v3,2026-03}``, ``CRM/Associations/Rollouts/130902/{v4,2026-03}``,
``CRM/Associations Schema/Rollouts/130902/{v4,2026-03}``, ``Account/Account Info/Rollouts/144923``) as a
reference only: nothing here is copied from them. Each schema keeps the facts a client relies on: required
fields, JSON types, enums. Where HubSpot's real answers differ from its spec, the schema follows the real
answers and says so (``docs/sandbox.md``, *Spec versus real answers*):

- 207 error items have no ``errors`` and no ``links`` (spec ``StandardError`` requires both; reference §5.3,
  hotglue cassette ``batch_company_partial_error_test``);
- property values on reads may be ``null`` (spec: strings; hubspot-api-nodejs#323);
- association reads give ``toObjectId`` as a number (spec: string; Associations guide, hubspot-api-php#261)
  and ``label: null`` for unlabeled types (spec: string; Associations guide);
- the 429 body has ``errorType`` and ``policyName`` and no ``category`` (spec ``Error`` requires it;
  Usage guide, reference §5.8);
- ``LabelsBetweenObjectPair`` ids are numbers (spec: strings; a real v4 PUT answer, hotglue cassette
  ``create_association_non_unified_test``).

Some error items have their own schemas: the kinds documented by HubSpot or seen in real answers
(``OBJECT_NOT_FOUND`` with ``context.ids``, ``crm.associations.NO_ASSOCIATIONS_FOUND``, invalid association
targets, duplicate ids); see ``docs/sandbox.md`` for their sources.
"""

from __future__ import annotations

from typing import Any

TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
UUID = {"type": "string", "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
STRING_ARRAYS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
BATCH_STATUSES = ["CANCELED", "COMPLETE", "PENDING", "PROCESSING"]
ASSOCIATION_CATEGORIES = ["HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK"]
#: ``PropertyCreate.type`` and ``.fieldType`` (reference §9)
PROPERTY_TYPES = ["bool", "date", "datetime", "enumeration", "number", "phone_number", "string"]
FIELD_TYPES = [
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
]


def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _collection(item: str, *, paging: str | None = None, total: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {"results": {"type": "array", "items": _ref(item)}}
    if paging is not None:
        props["paging"] = _ref(paging)
    if total:
        props["total"] = {"type": "integer"}
    return _object(["results", "total"] if total else ["results"], props)


_RECORD_FIELDS: dict[str, Any] = {
    "id": {"type": "string", "pattern": r"^\d+$"},
    # real answers carry null for requested properties without a value (hubspot-api-nodejs#323)
    "properties": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
    "propertiesWithHistory": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": _ref("ValueWithTimestamp")},
    },
    "createdAt": TIMESTAMP,
    "updatedAt": TIMESTAMP,
    "archived": {"type": "boolean"},
    "archivedAt": TIMESTAMP,
    "objectWriteTraceId": {"type": "string"},
    "url": {"type": "string", "pattern": r"^https://"},
}
_RECORD_REQUIRED = ["id", "properties", "createdAt", "updatedAt", "archived"]


def _batch(
    item: str | None, *, with_errors: bool, error_item: str = "BatchErrorItem", errors_optional: bool = False
) -> dict[str, Any]:
    """A batch answer whose results are ``item`` (any object for ``None``).

    ``with_errors`` requires ``errors``/``numErrors`` (items of ``error_item``); ``errors_optional`` allows
    them (schemas whose 200 answer carries them, e.g. ``BatchResponsePublicDefaultAssociation``); otherwise
    they must be absent.
    """
    props: dict[str, Any] = {
        "status": {"enum": BATCH_STATUSES},
        "results": {"type": "array", "items": _ref(item) if item else {"type": "object"}},
        "requestedAt": TIMESTAMP,
        "startedAt": TIMESTAMP,
        "completedAt": TIMESTAMP,
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    }
    required = ["status", "results", "startedAt", "completedAt"]
    if with_errors or errors_optional:
        props["numErrors"] = {"type": "integer"}
        props["errors"] = {"type": "array", "items": _ref(error_item), "minItems": 1}
        if with_errors:
            required += ["numErrors", "errors"]
    else:
        props["errors"] = False
    return _object(required, props)


def _error_item(category: str, message_pattern: str, context_keys: list[str], **extra: Any) -> dict[str, Any]:
    """A 207 error item of one documented kind: its category, message form and ``context`` keys."""
    return _object(
        ["status", "category", "message", "context", *extra],
        {
            "status": {"const": "error"},
            "category": {"const": category},
            "message": {"type": "string", "pattern": message_pattern},
            "context": {**STRING_ARRAYS, "required": context_keys},
            **{key: {"const": value} for key, value in extra.items()},
        },
    )


DEFS: dict[str, Any] = {
    "ValueWithTimestamp": _object(
        ["value", "timestamp", "sourceType"],
        {"value": {"type": "string"}, "timestamp": TIMESTAMP, "sourceType": {"type": "string"}},
    ),
    "SimplePublicObject": _object(_RECORD_REQUIRED, _RECORD_FIELDS),
    "SimplePublicUpsertObject": _object(
        [*_RECORD_REQUIRED, "new"], {**_RECORD_FIELDS, "new": {"type": "boolean"}}
    ),
    "AssociatedId": _object(["id", "type"], {"id": {"type": "string"}, "type": {"type": "string"}}),
    "CollectionResponseAssociatedId": _collection("AssociatedId"),
    "SimplePublicObjectWithAssociations": _object(
        _RECORD_REQUIRED,
        {
            **_RECORD_FIELDS,
            "associations": {
                "type": "object",
                "additionalProperties": _ref("CollectionResponseAssociatedId"),
            },
        },
    ),
    "NextPage": _object(["after"], {"after": {"type": "string", "minLength": 1}, "link": {"type": "string"}}),
    "ForwardPaging": _object(["next"], {"next": _ref("NextPage")}),
    "BatchErrorItem": _object(
        ["status", "category", "message", "context"],
        {
            "status": {"const": "error"},
            "category": {"type": "string"},
            "message": {"type": "string"},
            "context": STRING_ARRAYS,
        },
    ),
    # the batch read/update item for ids that name no record (hubspot-api-php#619, amp-labs fixture)
    "ObjectNotFoundItem": _error_item(
        "OBJECT_NOT_FOUND",
        r"^Could not get some [A-Z_0-9]+ objects, they may be deleted or not exist\. "
        r"Check that ids are valid\.$",
        ["ids"],
    ),
    "BatchResponseSimplePublicObjectWithMissingIds": _batch(
        "SimplePublicObject", with_errors=True, error_item="ObjectNotFoundItem"
    ),
    # a v4 association batch read of a record without associations (public captures, 2025-2026)
    "NoAssociationsFoundItem": _error_item(
        "OBJECT_NOT_FOUND",
        r"^No [a-z_0-9]+ is associated with [a-z_0-9]+ \S+\.$",
        ["fromObjectId", "fromObjectType", "toObjectType"],
        subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
    ),
    # an association naming a record that does not exist (hubspot-api-nodejs#646)
    "InvalidAssociationItem": _error_item(
        "VALIDATION_ERROR",
        r"^One or more associations are invalid$",
        ["INVALID_OBJECT_IDS", "objectId", "objectType"],
    ),
    "DuplicateIdsError": _object(
        ["status", "message", "category", "correlationId", "context"],
        {
            "status": {"const": "error"},
            "message": {
                "type": "string",
                "pattern": r"^Duplicate IDs found in batch input: \[.+\]\. IDs must be unique$",
            },
            "category": {"const": "VALIDATION_ERROR"},
            "correlationId": UUID,
            "context": {**STRING_ARRAYS, "required": ["ids"]},
        },
    ),
    "PublicObjectId": _object(["id"], {"id": {"type": "string", "pattern": r"^\d+$"}}),
    "AssociationSpec": _object(
        ["associationCategory", "associationTypeId"],
        {"associationCategory": {"enum": ASSOCIATION_CATEGORIES}, "associationTypeId": {"type": "integer"}},
    ),
    # ids are numbers in real answers (a v4 PUT, hotglue cassette); the spec says strings
    "LabelsBetweenObjectPair": _object(
        ["fromObjectTypeId", "fromObjectId", "toObjectTypeId", "toObjectId", "labels"],
        {
            "fromObjectTypeId": {"type": "string", "pattern": r"^\d+-\d+$"},
            "fromObjectId": {"type": "integer"},
            "toObjectTypeId": {"type": "string", "pattern": r"^\d+-\d+$"},
            "toObjectId": {"type": "integer"},
            "labels": {"type": "array", "items": {"type": "string"}},
        },
    ),
    "BatchResponseLabelsBetweenObjectPair": _batch("LabelsBetweenObjectPair", with_errors=False),
    "BatchResponseLabelsBetweenObjectPairWithErrors": _batch("LabelsBetweenObjectPair", with_errors=True),
    "BatchResponseLabelsBetweenObjectPairWithInvalidRecords": _batch(
        "LabelsBetweenObjectPair", with_errors=True, error_item="InvalidAssociationItem"
    ),
    "PublicDefaultAssociation": _object(
        ["from", "to", "associationSpec"],
        {
            "from": _ref("PublicObjectId"),
            "to": _ref("PublicObjectId"),
            "associationSpec": _ref("AssociationSpec"),
        },
    ),
    "BatchResponsePublicDefaultAssociation": _batch(
        "PublicDefaultAssociation", with_errors=False, errors_optional=True
    ),
    "BatchResponsePublicDefaultAssociationWithInvalidRecords": _batch(
        "PublicDefaultAssociation", with_errors=True, error_item="InvalidAssociationItem"
    ),
    "BatchResponse": _batch(None, with_errors=False, errors_optional=True),
    "Paging": _object([], {"next": _ref("NextPage")}),
    "PublicAssociationMultiWithLabel": _object(
        ["from", "to"],
        {
            "from": _ref("PublicObjectId"),
            "to": {"type": "array", "items": _ref("MultiAssociatedObjectWithLabel"), "minItems": 1},
            "paging": _ref("Paging"),
        },
    ),
    "BatchResponsePublicAssociationMultiWithLabel": _batch(
        "PublicAssociationMultiWithLabel", with_errors=False
    ),
    "BatchResponsePublicAssociationMultiWithLabelWithNoAssociations": _batch(
        "PublicAssociationMultiWithLabel", with_errors=True, error_item="NoAssociationsFoundItem"
    ),
    "BatchResponseSimplePublicObject": _batch("SimplePublicObject", with_errors=False),
    "BatchResponseSimplePublicObjectWithErrors": _batch("SimplePublicObject", with_errors=True),
    "BatchResponseSimplePublicUpsertObject": _batch("SimplePublicUpsertObject", with_errors=False),
    "BatchResponseSimplePublicUpsertObjectWithErrors": _batch("SimplePublicUpsertObject", with_errors=True),
    "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging": _collection(
        "SimplePublicObjectWithAssociations", paging="ForwardPaging"
    ),
    "CollectionResponseWithTotalSimplePublicObject": _collection(
        "SimplePublicObject", paging="ForwardPaging", total=True
    ),
    "Option": _object(
        ["label", "value", "hidden"],
        {
            "label": {"type": "string"},
            "value": {"type": "string"},
            "hidden": {"type": "boolean"},
            "description": {"type": "string"},
            "displayOrder": {"type": "integer"},
        },
    ),
    "PropertyModificationMetadata": _object(
        ["archivable", "readOnlyDefinition", "readOnlyValue"],
        {
            "archivable": {"type": "boolean"},
            "readOnlyDefinition": {"type": "boolean"},
            "readOnlyValue": {"type": "boolean"},
            "readOnlyOptions": {"type": "boolean"},
        },
    ),
    "Property": _object(
        ["description", "fieldType", "groupName", "label", "name", "options", "type"],
        {
            "name": {"type": "string", "minLength": 1},
            "label": {"type": "string"},
            "description": {"type": "string"},
            "groupName": {"type": "string", "minLength": 1},
            "type": {"enum": PROPERTY_TYPES},
            "fieldType": {"enum": FIELD_TYPES},
            "options": {"type": "array", "items": _ref("Option")},
            "displayOrder": {"type": "integer"},
            "calculated": {"type": "boolean"},
            "externalOptions": {"type": "boolean"},
            "hasUniqueValue": {"type": "boolean"},
            "hidden": {"type": "boolean"},
            "hubspotDefined": {"type": "boolean"},
            "formField": {"type": "boolean"},
            "archived": {"type": "boolean"},
            "dataSensitivity": {"enum": ["highly_sensitive", "non_sensitive", "sensitive"]},
            "modificationMetadata": _ref("PropertyModificationMetadata"),
        },
    ),
    "CollectionResponsePropertyNoPaging": _collection("Property"),
    "AssociationSpecWithLabel": _object(
        ["category", "typeId"],
        {
            "category": {"enum": ASSOCIATION_CATEGORIES},
            "typeId": {"type": "integer"},
            # null for unlabeled types in real answers (Associations guide); the spec says string
            "label": {"type": ["string", "null"]},
            "fromObjectTypeId": {"type": "string"},
            "toObjectTypeId": {"type": "string"},
        },
    ),
    "CollectionResponseAssociationSpecWithLabelNoPaging": _collection("AssociationSpecWithLabel"),
    "MultiAssociatedObjectWithLabel": _object(
        ["toObjectId", "associationTypes"],
        {
            # a number in real answers (Associations guide; hubspot-api-php#261); the spec says string
            "toObjectId": {"type": "integer"},
            "associationTypes": {"type": "array", "items": _ref("AssociationSpecWithLabel"), "minItems": 1},
        },
    ),
    "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging": _collection(
        "MultiAssociatedObjectWithLabel", paging="ForwardPaging"
    ),
    "PortalInformationResponse": _object(
        [
            "portalId",
            "accountType",
            "timeZone",
            "companyCurrency",
            "additionalCurrencies",
            "utcOffset",
            "utcOffsetMilliseconds",
            "uiDomain",
            "dataHostingLocation",
        ],
        {
            "portalId": {"type": "integer"},
            "accountType": {"enum": ["APP_DEVELOPER", "DEVELOPER_TEST", "SANDBOX", "STANDARD"]},
            "timeZone": {"type": "string", "minLength": 1},
            "companyCurrency": {"type": "string", "minLength": 3},
            "additionalCurrencies": {"type": "array", "items": {"type": "string"}},
            "utcOffset": {"type": "string", "pattern": r"^[+-]\d{2}:\d{2}$"},
            "utcOffsetMilliseconds": {"type": "integer"},
            "uiDomain": {"type": "string", "pattern": r"^app(-[a-z0-9]+)?\.hubspot\.com$"},
            "dataHostingLocation": {"type": "string", "minLength": 1},
        },
    ),
    "ErrorDetail": _object(
        ["message"],
        {
            "message": {"type": "string"},
            "code": {"type": "string"},
            "in": {"type": "string"},
            "context": STRING_ARRAYS,
        },
    ),
    "Error": _object(
        ["status", "message", "category", "correlationId"],
        {
            "status": {"const": "error"},
            "message": {"type": "string", "minLength": 1},
            "category": {"type": "string", "minLength": 1},
            "correlationId": UUID,
            "errors": {"type": "array", "items": _ref("ErrorDetail")},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
            "context": STRING_ARRAYS,
        },
    ),
    "RateLimitError": _object(
        ["status", "message", "errorType", "policyName", "correlationId"],
        {
            "status": {"const": "error"},
            "message": {"type": "string"},
            "errorType": {"const": "RATE_LIMIT"},
            "policyName": {"enum": ["TEN_SECONDLY_ROLLING", "DAILY", "SECONDLY"]},
            "correlationId": UUID,
            "requestId": {"type": "string"},
        },
    ),
}


def schema(name: str) -> dict[str, Any]:
    """The schema ``name`` with every definition it may refer to."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": DEFS, **_ref(name)}
