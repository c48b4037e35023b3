"""The sandbox deviations of issue #15, each fixed to HubSpot's documented behaviour (source in each test).

Sources: the Properties guide (https://developers.hubspot.com/docs/guides/api/crm/properties, reference
§16.6), HubSpot's OpenAPI documents (Spec repo ``HubSpot/HubSpot-public-api-spec-collection``, read as a
reference: ``CRM/Properties/Rollouts/145899/{v3,2026-03}/properties.json``,
``CRM/Objects/Rollouts/424/{v3,2026-03}/objects.json``, ``CRM/Associations/Rollouts/130902/2026-03/
associations.json``) and hubspot-api-nodejs#323 (null values in real answers).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.sandbox.helpers import Api, contact

PROPERTY_PATHS = ("/crm/v3/properties", "/crm/properties/2026-03")
#: the Properties guide's table of valid fieldType values per type, and the spec's two enums (reference §9)
VALID_PAIRS = {
    "bool": {"booleancheckbox", "calculation_equation"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "string": {"file", "text", "textarea", "calculation_equation", "html", "phonenumber"},
    "number": {"number", "calculation_equation"},
}
FIELD_TYPES = sorted(
    {"booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number"}
    | {"phonenumber", "radio", "select", "text", "textarea"}
)


def _property(name: str = "renewal_date", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "label": "Renewal date",
        "type": "date",
        "fieldType": "date",
        "groupName": "dealinformation",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _options(*values: str) -> list[dict[str, Any]]:
    return [
        {"label": v.title(), "value": v, "hidden": False, "displayOrder": i} for i, v in enumerate(values)
    ]


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox)


# -------------------------------------------------------------------- 1. property create validation
@pytest.mark.parametrize("prefix", PROPERTY_PATHS)
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"fieldType": None}, "fieldType"),
        ({"label": None}, "label"),
        ({"groupName": None}, "groupName"),
        ({"type": None}, "type"),
        ({"name": None}, "name"),
        ({"label": ""}, "label"),
        ({"fieldType": "datepicker"}, "datepicker"),
        ({"type": "widget"}, "widget"),
        ({"fieldType": "text"}, "not valid for a property of type date"),
    ],
)
def test_property_create_refuses_what_hubspot_refuses(
    api: Api, prefix: str, change: dict[str, Any], reason: str
) -> None:
    """Properties guide: "both type and fieldType values are required"; ``PropertyCreate`` requires name,
    label, type, fieldType and groupName, with enums for type and fieldType (issue #15, deviation 1)."""
    resp = api.post(f"{prefix}/deals", _property(**change))
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["category"] == "VALIDATION_ERROR" and reason in body["message"]
    assert api.get(f"{prefix}/deals/renewal_date").status_code == 404
    assert api.create("deals", [{"properties": {"renewal_date": "2026-01-01"}}]).status_code == 400


def test_every_type_and_field_type_pair_is_accepted_exactly_when_the_guide_lists_it(api: Api) -> None:
    """Properties guide, "type and fieldType values" table (reference §16.6)."""
    for n, (kind, field_type) in enumerate(itertools.product(sorted(VALID_PAIRS), FIELD_TYPES)):
        options = _options("a", "b") if kind == "enumeration" else None
        body = _property(f"p{n}", type=kind, fieldType=field_type, options=options)
        resp = api.post("/crm/v3/properties/deals", body)
        expected = 201 if field_type in VALID_PAIRS[kind] else 400
        assert resp.status_code == expected, (kind, field_type, resp.text)


def test_property_create_option_rules(api: Api) -> None:
    """Spec ``PropertyCreate.options``: "required for enumerated properties"; ``OptionInput`` requires label,
    value and hidden (v3) and also displayOrder (2026-03)."""
    enum = _property("tier", type="enumeration", fieldType="select")
    assert api.post("/crm/v3/properties/deals", enum).status_code == 400
    no_order = [{"label": "Gold", "value": "gold", "hidden": False}]
    assert api.post("/crm/properties/2026-03/deals", {**enum, "options": no_order}).status_code == 400
    assert api.post("/crm/v3/properties/deals", {**enum, "options": [{"value": "gold"}]}).status_code == 400
    assert api.post("/crm/v3/properties/deals", {**enum, "options": no_order}).status_code == 201


def test_an_object_type_takes_at_most_10_unique_properties(api: Api) -> None:
    """Reference §16.6: "an object can have at most 10 unique properties" (changelog, Unique Properties for
    Contacts)."""
    for n in range(10):
        body = _property(f"key_{n}", type="string", fieldType="text", hasUniqueValue=True)
        assert api.post("/crm/v3/properties/contacts", body).status_code == 201
    body = _property("key_10", type="string", fieldType="text", hasUniqueValue=True)
    resp = api.post("/crm/v3/properties/contacts", body)
    assert resp.status_code == 400 and "at most 10" in resp.json()["message"]
    assert api.post("/crm/v3/properties/contacts", {**body, "hasUniqueValue": False}).status_code == 201


# -------------------------------------------------------------------- 2. the create answer is what was stored
@pytest.mark.parametrize("prefix", PROPERTY_PATHS)
def test_property_create_answers_the_property_as_stored(api: Api, prefix: str) -> None:
    """Spec: "Create and return a copy of a new property" (issue #15, deviation 2: the answer said
    ``groupName: custom``)."""
    body = _property(
        "loyalty_tier",
        label="Loyalty tier",
        type="enumeration",
        fieldType="radio",
        groupName="contactinformation",
        description="Tier from the warehouse",
        options=[
            {"label": "Gold", "value": "gold", "hidden": False, "displayOrder": 1, "description": "best"},
            {"label": "Silver", "value": "silver", "hidden": True, "displayOrder": 2},
        ],
        displayOrder=7,
    )
    created = api.post(f"{prefix}/contacts", body)
    assert created.status_code == 201, created.text
    answer = created.json()
    for key in ("name", "label", "type", "fieldType", "groupName", "description", "displayOrder"):
        assert answer[key] == body[key], key
    assert [(o["value"], o["label"], o["hidden"], o["displayOrder"]) for o in answer["options"]] == [
        ("gold", "Gold", False, 1),
        ("silver", "Silver", True, 2),
    ]
    assert answer["options"][0]["description"] == "best"
    assert answer["hubspotDefined"] is False and answer["modificationMetadata"]["readOnlyDefinition"] is False
    assert api.get(f"{prefix}/contacts/loyalty_tier").json() == answer
    listed = {p["name"]: p for p in api.get(f"{prefix}/contacts").json()["results"]}
    assert listed["loyalty_tier"] == answer


# -------------------------------------------------------------------- 3. Location on the property-create 201
@pytest.mark.parametrize("prefix", PROPERTY_PATHS)
def test_property_create_201_carries_a_location_header(sandbox: SandboxHandle, api: Api, prefix: str) -> None:
    """Spec ``POST …/properties/{objectType}`` 201 declares a ``Location`` header, "URL of the newly created
    resource", in v3 and 2026-03 (issue #15, deviation 3)."""
    resp = api.post(f"{prefix}/contacts", _property("renewal_date", groupName="contactinformation"))
    assert resp.status_code == 201
    location = resp.headers["Location"]
    assert location == f"https://api.hubapi.com{prefix}/contacts/renewal_date"
    local = location.replace("https://api.hubapi.com", "")
    assert api.get(local).json() == resp.json()


# -------------------------------------------------------------------- 4. unknown property names are left out
def test_reads_leave_out_property_names_that_do_not_exist(api: Api) -> None:
    """Spec, parameter ``properties`` of the reads: "If any of the specified properties are not present on
    the requested object(s), they will be ignored" (issue #15, deviation 4). Defined properties without a
    value stay ``null``, as real answers have them (hubspot-api-nodejs#323)."""
    cid = api.create("contacts", [contact("a@example.com", phone="123")]).json()["results"][0]["id"]
    got = api.get(f"/crm/v3/objects/contacts/{cid}?properties=never_defined,phone,firstname").json()
    assert "never_defined" not in got["properties"]
    assert got["properties"]["phone"] == "123" and got["properties"]["firstname"] is None
    listed = api.get("/crm/objects/2026-03/contacts?properties=never_defined,phone").json()["results"][0]
    assert "never_defined" not in listed["properties"]
    read = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {
            "inputs": [{"id": cid}],
            "properties": ["never_defined"],
            "propertiesWithHistory": ["never_defined"],
        },
    ).json()["results"][0]
    assert "never_defined" not in read["properties"]
    assert "never_defined" not in read["propertiesWithHistory"]
    found = api.post(
        "/crm/v3/objects/contacts/search",
        {"filterGroups": [], "properties": ["never_defined", "email"]},
    ).json()["results"][0]
    assert "never_defined" not in found["properties"] and found["properties"]["email"] == "a@example.com"


def test_unknown_association_types_on_reads_are_ignored(api: Api) -> None:
    """Spec, parameter ``associations`` of ``GET …/{objectType}/{objectId}``: "If any of the specified
    associations do not exist, they will be ignored" (found while checking the contract)."""
    cid = api.create("contacts", [contact("a@example.com")]).json()["results"][0]["id"]
    resp = api.get(f"/crm/v3/objects/contacts/{cid}?associations=widgets")
    assert resp.status_code == 200 and "associations" not in resp.json()


# -------------------------------------------------------------------- 5. the 2026-03 association read path
def test_2026_03_association_read_path_is_served(api: Api) -> None:
    """Spec ``CRM/Associations/Rollouts/130902/2026-03/associations.json`` lists
    ``GET /crm/objects/2026-03/{objectType}/{objectId}/associations/{toObjectType}`` (issue #15, deviation 5);
    the path the sandbox served before, under ``/crm/associations/2026-03/objects/``, is not HubSpot's."""
    company = api.create("companies", [{"properties": {"name": "Acme"}}]).json()["results"][0]["id"]
    link = {
        "to": {"id": company},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    }
    cid = api.create("contacts", [{**contact("a@example.com"), "associations": [link]}]).json()["results"][0][
        "id"
    ]
    resp = api.get(f"/crm/objects/2026-03/contacts/{cid}/associations/companies")
    assert resp.status_code == 200, resp.text
    assert resp.json() == api.get(f"/crm/v4/objects/contacts/{cid}/associations/companies").json()
    assert resp.json()["results"] == [
        {
            "toObjectId": int(company),
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
            ],
        }
    ]
    unlisted = api.get(f"/crm/associations/2026-03/objects/contacts/{cid}/associations/companies")
    assert unlisted.status_code == 404


def test_association_reads_page_with_limit_and_after(api: Api) -> None:
    """Spec: the read takes ``limit`` (default 500, "Limit 500 per call") and ``after``; more results give
    ``paging.next.after``."""
    ids = [
        r["id"]
        for r in api.create("companies", [{"properties": {"name": f"C{i}"}} for i in range(3)]).json()[
            "results"
        ]
    ]
    links = [
        {"to": {"id": i}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}
        for i in ids
    ]
    cid = api.create("contacts", [{**contact("a@example.com"), "associations": links}]).json()["results"][0][
        "id"
    ]
    path = f"/crm/objects/2026-03/contacts/{cid}/associations/companies"
    first = api.get(f"{path}?limit=2").json()
    assert [r["toObjectId"] for r in first["results"]] == sorted(int(i) for i in ids)[:2]
    rest = api.get(f"{path}?limit=2&after={first['paging']['next']['after']}").json()
    assert [r["toObjectId"] for r in rest["results"]] == sorted(int(i) for i in ids)[2:]
    assert "paging" not in rest


def test_properties_list_follows_data_sensitivity_and_archived(api: Api) -> None:
    """Properties guide: by default only non-sensitive properties are returned; spec parameter ``archived``:
    "Whether to return only results that have been archived" (the sandbox archives none)."""
    body = _property("tax_id", type="string", fieldType="text", dataSensitivity="sensitive")
    assert api.post("/crm/v3/properties/contacts", body).status_code == 201
    default = {p["name"] for p in api.get("/crm/v3/properties/contacts").json()["results"]}
    sensitive = api.get("/crm/v3/properties/contacts?dataSensitivity=sensitive").json()["results"]
    assert "tax_id" not in default and "email" in default
    assert [p["name"] for p in sensitive] == ["tax_id"]
    assert api.get("/crm/v3/properties/contacts?archived=true").json() == {"results": []}
