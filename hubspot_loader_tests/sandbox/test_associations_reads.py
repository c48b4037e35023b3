"""Associations on create, labels, GET, batch read, batch upsert/update/archive and search."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact


def assoc(to_id: str, type_id: int, category: str = "HUBSPOT_DEFINED") -> dict[str, Any]:
    return {"to": {"id": to_id}, "types": [{"associationCategory": category, "associationTypeId": type_id}]}


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox)


def make_company(api: Api, name: str = "Acme") -> str:
    resp = api.create("companies", [{"properties": {"name": name}}])
    assert resp.status_code == 201
    return str(resp.json()["results"][0]["id"])


def test_inline_associations_are_visible_both_ways(sandbox: SandboxHandle, api: Api) -> None:
    company = make_company(api)
    resp = api.create("contacts", [{**contact("a@example.com"), "associations": [assoc(company, 1)]}])
    assert resp.status_code == 201, resp.text
    contact_id = resp.json()["results"][0]["id"]
    got = api.get(f"/crm/v3/objects/contacts/{contact_id}?associations=companies").json()
    assert got["associations"]["companies"]["results"] == [
        {"id": company, "type": "contact_to_company"},
        {"id": company, "type": "contact_to_company_unlabeled"},
    ]
    back = api.get(f"/crm/objects/2026-03/0-2/{company}", params={"associations": "contacts"}).json()
    assert {r["id"] for r in back["associations"]["contacts"]["results"]} == {contact_id}
    v4 = api.get(f"/crm/v4/objects/contacts/{contact_id}/associations/companies").json()
    assert v4["results"][0]["toObjectId"] == int(company)
    assert {t["typeId"] for t in v4["results"][0]["associationTypes"]} == {1, 279}
    inspected = sandbox.objects("contacts")[0]["associations"]
    assert inspected[0]["toObjectType"] == "companies" and inspected[0]["associationTypeIds"] == [1, 279]
    assert sandbox.counters()["associations_created"] == 1


def test_get_without_associations_param_has_no_associations_key(api: Api) -> None:
    company = make_company(api)
    cid = api.create("contacts", [{**contact("a@example.com"), "associations": [assoc(company, 279)]}]).json()
    got = api.get(f"/crm/v3/objects/contacts/{cid['results'][0]['id']}").json()
    assert "associations" not in got
    assert set(got["properties"]) == {
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "firstname",
        "lastname",
        "email",
    }
    assert got["properties"]["firstname"] is None


def test_missing_association_target_fails_whole_batch(sandbox: SandboxHandle, api: Api) -> None:
    company = make_company(api)
    resp = api.create(
        "contacts",
        [
            {**contact("a@example.com", "t1"), "associations": [assoc(company, 279)]},
            {**contact("b@example.com", "t2"), "associations": [assoc("38374264688", 279)]},
        ],
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["message"] == "One or more associations are invalid"
    assert body["context"]["INVALID_OBJECT_IDS"] == ["COMPANY=38374264688 is not valid"]
    assert body["category"] == "VALIDATION_ERROR"
    assert sandbox.counts()["contacts"] == 0


def test_type_id_decides_target_type(api: Api) -> None:
    company = make_company(api)
    # 3 = deal -> contact: the company id is read as a contact id and does not exist
    resp = api.create("deals", [{"properties": {"dealname": "D"}, "associations": [assoc(company, 3)]}])
    assert resp.status_code == 400
    assert resp.json()["context"]["INVALID_OBJECT_IDS"] == [f"CONTACT={company} is not valid"]
    # 1 = contact -> company used on a deal: invalid, reported against the contact side
    resp = api.create("deals", [{"properties": {"dealname": "D"}, "associations": [assoc(company, 1)]}])
    assert resp.status_code == 400
    assert resp.json()["context"]["INVALID_OBJECT_IDS"] == [f"CONTACT={company} is not valid"]
    ok = api.create("deals", [{"properties": {"dealname": "D"}, "associations": [assoc(company, 5)]}])
    assert ok.status_code == 201


def test_invalid_associations_as_207_option(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(invalid_associations_as_207=True)
    api = Api(sb)
    company = make_company(api)
    resp = api.create(
        "contacts",
        [
            {**contact("a@example.com", "t1"), "associations": [assoc(company, 279)]},
            {**contact("b@example.com", "t2"), "associations": [assoc("999", 279)]},
        ],
    )
    assert resp.status_code == 207
    body = resp.json()
    assert body["errors"][0]["context"]["objectWriteTraceId"] == ["t2"]
    assert body["errors"][0]["context"]["INVALID_OBJECT_IDS"] == ["COMPANY=999 is not valid"]
    assert [o["properties"]["email"] for o in sb.objects("contacts")] == ["a@example.com"]


@pytest.mark.parametrize(
    "path",
    [
        "/crm/v4/associations/contact/company/labels",
        "/crm/associations/v4/contacts/companies/labels",
        "/crm/associations/2026-03/0-1/0-2/labels",
    ],
)
def test_labels_endpoints(api: Api, path: str) -> None:
    resp = api.get(path)
    assert resp.status_code == 200
    assert resp.json() == {
        "results": [
            {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
        ]
    }


def test_label_type_ids_for_deals_and_engagements(api: Api) -> None:
    def ids(a: str, b: str) -> set[int]:
        return {r["typeId"] for r in api.get(f"/crm/v4/associations/{a}/{b}/labels").json()["results"]}

    assert ids("deals", "companies") == {5, 341}
    assert ids("companies", "deals") == {6, 342}
    assert ids("deals", "contacts") == {3}
    assert ids("contacts", "deals") == {4}
    assert ids("tickets", "companies") == {26, 339}
    assert ids("notes", "contacts") == {202}
    assert ids("contacts", "notes") == {201}
    assert ids("calls", "deals") == {206}
    assert api.get("/crm/v4/associations/contacts/widgets/labels").status_code == 400


def test_custom_object_associations(sandbox_factory: Factory) -> None:
    from hubspot_loader.sandbox import CustomAssociationConfig, CustomObjectConfig, PropertyConfig

    vendor = CustomObjectConfig(
        "vendor",
        "2-77",
        (PropertyConfig("vendor_id", unique=True),),
        associations=(CustomAssociationConfig("contacts", 1001, 1002),),
    )
    sb = sandbox_factory(custom_objects=(vendor,))
    api = Api(sb)
    cid = api.create("contacts", [contact("a@example.com")]).json()["results"][0]["id"]
    resp = api.create(
        "p_vendor", [{"properties": {"vendor_id": "V1"}, "associations": [assoc(cid, 1001, "USER_DEFINED")]}]
    )
    assert resp.status_code == 201, resp.text
    labels = api.get("/crm/v4/associations/contacts/p_vendor/labels").json()["results"]
    assert labels == [{"category": "USER_DEFINED", "typeId": 1002, "label": None}]
    assert sb.objects("contacts")[0]["associations"][0]["toObjectTypeId"] == "2-77"


def test_get_by_id_property_properties_and_404(api: Api) -> None:
    api.create("contacts", [contact("a@example.com", phone="123")])
    got = api.get(
        "/crm/v3/objects/contacts/a@example.com", params={"idProperty": "email", "properties": "phone"}
    )
    assert got.status_code == 200
    assert got.json()["properties"]["phone"] == "123"
    assert "firstname" not in got.json()["properties"]
    missing = api.get("/crm/v3/objects/contacts/123")
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"


def test_batch_read_by_id_and_by_unique_property(api: Api) -> None:
    ids = [
        r["id"]
        for r in api.create("contacts", [contact("a@example.com"), contact("b@example.com")]).json()[
            "results"
        ]
    ]
    resp = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": i} for i in ids], "properties": ["email"], "propertiesWithHistory": []},
    )
    assert resp.status_code == 200
    assert sorted(r["id"] for r in resp.json()["results"]) == sorted(ids)
    resp = api.post(
        "/crm/objects/2026-03/contacts/batch/read",
        {
            "inputs": [{"id": "a@example.com"}, {"id": "nobody@example.com"}],
            "idProperty": "email",
            "properties": ["email"],
            "propertiesWithHistory": ["email"],
        },
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["properties"]["email"] for r in body["results"]] == ["a@example.com"]
    assert body["results"][0]["propertiesWithHistory"]["email"][0]["value"] == "a@example.com"
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"] == {"ids": ["nobody@example.com"]}
    bad = api.post(
        "/crm/v3/objects/contacts/batch/read", {"inputs": [], "idProperty": "firstname", "properties": []}
    )
    assert bad.status_code == 400


def test_batch_upsert_creates_and_updates_with_new_flag(sandbox: SandboxHandle, api: Api) -> None:
    existing = api.create("contacts", [contact("a@example.com", firstname="Old")]).json()["results"][0]
    resp = api.post(
        "/crm/v3/objects/contacts/batch/upsert",
        {
            "inputs": [
                {
                    "id": "A@example.com",
                    "idProperty": "email",
                    "properties": {"firstname": "New"},
                    "objectWriteTraceId": "u1",
                },
                {
                    "id": "b@example.com",
                    "idProperty": "email",
                    "properties": {"firstname": "Bee"},
                    "objectWriteTraceId": "u2",
                },
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    results = {r["objectWriteTraceId"]: r for r in resp.json()["results"]}
    assert results["u1"]["new"] is False and results["u1"]["id"] == existing["id"]
    assert results["u1"]["properties"]["firstname"] == "New"
    assert results["u2"]["new"] is True and results["u2"]["properties"]["email"] == "b@example.com"
    assert sandbox.counts()["contacts"] == 2
    counters = sandbox.counters()
    assert counters["created"]["contacts"] == 2 and counters["updated"]["contacts"] == 1


def test_batch_upsert_errors(api: Api) -> None:
    path = "/crm/v3/objects/contacts/batch/upsert"
    partial = api.post(
        path,
        {
            "inputs": [
                {"id": "ok@example.com", "idProperty": "email", "properties": {}, "objectWriteTraceId": "u1"},
                {"id": "broken", "idProperty": "email", "properties": {}, "objectWriteTraceId": "u2"},
            ]
        },
    )
    assert partial.status_code == 207
    assert partial.json()["errors"][0]["context"]["objectWriteTraceId"] == ["u2"]
    assert "INVALID_EMAIL" in partial.json()["errors"][0]["message"]
    non_unique = api.post(path, {"inputs": [{"id": "x", "idProperty": "firstname", "properties": {}}]})
    assert non_unique.status_code == 400
    assert non_unique.json()["message"].startswith(
        "Unable to perform update/upsert by non-unique 0-1 property firstname"
    )
    by_id = api.post(path, {"inputs": [{"id": "1", "properties": {}}]})
    assert "hs_object_id" in by_id.json()["message"]
    dup = api.post(
        path,
        {
            "inputs": [
                {"id": "a@x.io", "idProperty": "email", "properties": {}},
                {"id": "A@x.io", "idProperty": "email", "properties": {}},
            ]
        },
    )
    assert dup.status_code == 400 and "Duplicate IDs" in dup.json()["message"]


def test_batch_update_archive_and_single_object_calls(sandbox: SandboxHandle, api: Api) -> None:
    created = api.post("/crm/v3/objects/contacts", {"properties": {"email": "a@example.com"}})
    assert created.status_code == 201
    assert created.headers["Location"].endswith(f"/contacts/{created.json()['id']}")
    cid = created.json()["id"]
    upd = api.post(
        "/crm/v3/objects/contacts/batch/update", {"inputs": [{"id": cid, "properties": {"firstname": "Z"}}]}
    )
    assert upd.status_code == 200 and upd.json()["results"][0]["properties"]["firstname"] == "Z"
    patched = api.request("PATCH", f"/crm/v3/objects/contacts/{cid}", json={"properties": {"lastname": "Y"}})
    assert patched.status_code == 200 and patched.json()["properties"]["lastname"] == "Y"
    assert api.post("/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": cid}]}).status_code == 204
    assert api.get(f"/crm/v3/objects/contacts/{cid}").status_code == 404
    assert api.get(f"/crm/v3/objects/contacts/{cid}?archived=true").json()["archived"] is True
    # the email is free again after archiving
    assert api.create("contacts", [contact("a@example.com")]).status_code == 201
    assert sandbox.counters()["write_requests"] == 5


def test_list_objects_with_paging(api: Api) -> None:
    api.create("contacts", [contact(f"u{i}@example.com") for i in range(5)])
    first = api.get("/crm/v3/objects/contacts?limit=3").json()
    assert len(first["results"]) == 3
    rest = api.get(f"/crm/v3/objects/contacts?limit=3&after={first['paging']['next']['after']}").json()
    assert len(rest["results"]) == 2 and "paging" not in rest


def test_search_eq_in_and_paging_without_rate_limit_headers(api: Api) -> None:
    api.create(
        "contacts", [contact(f"u{i}@example.com", firstname="Same" if i < 3 else "Other") for i in range(5)]
    )
    path = "/crm/v3/objects/contacts/search"
    eq = api.post(
        path,
        {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": "U1@example.com"}]}
            ],
            "properties": ["email"],
        },
    )
    assert eq.status_code == 200
    assert eq.json()["total"] == 1 and eq.json()["results"][0]["properties"]["email"] == "u1@example.com"
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in eq.headers)
    many = api.post(
        path,
        {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "email",
                            "operator": "IN",
                            "values": ["u0@example.com", "u4@example.com", "zz@x.io"],
                        }
                    ]
                }
            ]
        },
    )
    assert many.json()["total"] == 2
    paged = api.post(
        path,
        {
            "filterGroups": [{"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "same"}]}],
            "limit": 2,
        },
    )
    assert paged.json()["total"] == 3 and len(paged.json()["results"]) == 2
    after = paged.json()["paging"]["next"]["after"]
    assert (
        len(
            api.post(
                path,
                {
                    "filterGroups": [
                        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "same"}]}
                    ],
                    "limit": 2,
                    "after": after,
                },
            ).json()["results"]
        )
        == 1
    )
    none = api.post(
        path, {"filterGroups": [{"filters": [{"propertyName": "phone", "operator": "HAS_PROPERTY"}]}]}
    )
    assert none.json() == {"total": 0, "results": []}


@pytest.mark.parametrize(
    "path",
    [
        "/crm/v3/objects/contacts?limit=abc",
        "/crm/v3/objects/contacts?after=xyz",
        "/__sandbox__/objects/contacts?limit=abc",
        "/__sandbox__/objects/contacts?limit=0",
    ],
)
def test_bad_query_values_get_a_400_body_not_a_dropped_connection(sandbox: SandboxHandle, path: str) -> None:
    response = requests.get(
        sandbox.base_url + path, headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
