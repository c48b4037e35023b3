"""The associations API's batch writes and reads (v4 and 2026-03), over HTTP against a sandbox on 127.0.0.1.

Each test names the source of the behaviour it checks (reference = ``shared/reference/hubspot-api.md``;
Spec repo = ``HubSpot/HubSpot-public-api-spec-collection``, ``CRM/Associations/Rollouts/130902``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hubspot_loader.sandbox import SandboxHandle, TokenConfig
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact

PREFIXES = ["/crm/v4/associations", "/crm/associations/2026-03"]
PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
UNLABELED = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox)


def ids(api: Api, object_type: str, inputs: list[dict[str, Any]]) -> list[str]:
    resp = api.create(object_type, inputs)
    assert resp.status_code == 201, resp.text
    by_trace = {r["objectWriteTraceId"]: r["id"] for r in resp.json()["results"]}
    return [by_trace[str(n)] for n in range(len(inputs))]


def companies(api: Api, n: int) -> list[str]:
    return ids(
        api, "companies", [{"properties": {"name": f"C{i}"}, "objectWriteTraceId": str(i)} for i in range(n)]
    )


def contacts(api: Api, n: int) -> list[str]:
    return ids(api, "contacts", [contact(f"u{i}@example.com", trace=str(i)) for i in range(n)])


def linked(api: Api, from_type: str, from_id: str, to_type: str) -> dict[int, list[int]]:
    """A record's associations as its single-record v4 read gives them: ``to id → type ids``."""
    resp = api.get(f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}")
    assert resp.status_code == 200, resp.text
    return {
        r["toObjectId"]: sorted(t["typeId"] for t in r["associationTypes"]) for r in resp.json()["results"]
    }


def pair(from_id: str, to_id: str, *types: dict[str, Any]) -> dict[str, Any]:
    return {"from": {"id": from_id}, "to": {"id": to_id}, "types": list(types)}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_batch_create_with_labels_and_every_read_reflects_it(api: Api, prefix: str) -> None:
    """Spec: 201 ``BatchResponseLabelsBetweenObjectPair`` (both versions). Ids come back as numbers (a real v4
    answer, hotglue cassette); a primary type implies the unlabeled one and both directions exist
    (Associations guide, reference §11.1)."""
    (company,) = companies(api, 1)
    first, second = contacts(api, 2)
    resp = api.post(
        f"{prefix}/contacts/companies/batch/create",
        {"inputs": [pair(first, company, PRIMARY), pair(second, company, UNLABELED)]},
    )
    assert resp.status_code == 201, resp.text
    results = {r["fromObjectId"]: r for r in resp.json()["results"]}
    assert results[int(first)] == {
        "fromObjectTypeId": "0-1",
        "fromObjectId": int(first),
        "toObjectTypeId": "0-2",
        "toObjectId": int(company),
        "labels": ["Primary"],
    }
    assert results[int(second)]["labels"] == []
    assert linked(api, "contacts", first, "companies") == {int(company): [1, 279]}
    assert linked(api, "companies", company, "contacts") == {int(first): [2, 280], int(second): [280]}
    got = api.get(f"/crm/v3/objects/contacts/{first}?associations=companies").json()
    assert {a["type"] for a in got["associations"]["companies"]["results"]} == {
        "contact_to_company",
        "contact_to_company_unlabeled",
    }


def test_missing_records_and_wrong_types_are_per_input_errors(sandbox: SandboxHandle, api: Api) -> None:
    """Spec: 207 ``…WithErrors``. HubSpot documents no item shape here (reference §16.10 l): a missing
    record gets the documented association error of object create (hubspot-api-nodejs#646), a type that is not
    one between the two object types ``crm.associations.INVALID_ASSOCIATION_TYPE`` (public mocks); our
    choice. The valid inputs are created."""
    (company,) = companies(api, 1)
    (cid,) = contacts(api, 1)
    resp = api.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        {
            "inputs": [
                pair(cid, company, UNLABELED),
                pair("999", company, UNLABELED),
                pair(cid, "998", UNLABELED),
                pair(cid, company, {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}),
            ]
        },
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["fromObjectId"] for r in body["results"]] == [int(cid)]
    assert body["numErrors"] == 3
    by_message = sorted(body["errors"], key=lambda e: e["message"])
    assert by_message[0]["message"] == "341 is not a valid association type between CONTACT and COMPANY"
    assert by_message[0]["subCategory"] == "crm.associations.INVALID_ASSOCIATION_TYPE"
    contexts = [e["context"] for e in by_message[1:]]
    assert {
        "INVALID_OBJECT_IDS": ["CONTACT=999 is not valid"],
        "objectId": ["999"],
        "objectType": ["CONTACT"],
    } in contexts
    assert {
        "INVALID_OBJECT_IDS": ["COMPANY=998 is not valid"],
        "objectId": ["998"],
        "objectType": ["COMPANY"],
    } in contexts
    assert sandbox.counters()["associations_created"] == 1


def test_creating_an_existing_association_again_changes_nothing(sandbox: SandboxHandle, api: Api) -> None:
    """Re-creating an existing association: not documented (reference §16.10 l); a no-op success (ours)."""
    (company,) = companies(api, 1)
    (cid,) = contacts(api, 1)
    body = {"inputs": [pair(cid, company, PRIMARY)]}
    path = "/crm/v4/associations/contacts/companies/batch/create"
    assert api.post(path, body).status_code == 201
    again = api.post(path, body)
    assert again.status_code == 201 and again.json()["results"][0]["labels"] == ["Primary"]
    assert linked(api, "contacts", cid, "companies") == {int(company): [1, 279]}
    assert sandbox.counters()["associations_created"] == 2


def test_a_contact_has_one_primary_company(api: Api) -> None:
    """ "A record with several associated companies can have only one primary" (Associations guide): the
    primary moves, the former primary company stays associated without the label (moving is our choice)."""
    old, new = companies(api, 2)
    (cid,) = contacts(api, 1)
    path = "/crm/associations/2026-03/contacts/companies/batch/create"
    api.post(path, {"inputs": [pair(cid, old, PRIMARY)]})
    api.post(path, {"inputs": [pair(cid, new, PRIMARY)]})
    assert linked(api, "contacts", cid, "companies") == {int(old): [279], int(new): [1, 279]}
    assert linked(api, "companies", old, "contacts") == {int(cid): [280]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_associate_default_creates_the_unlabeled_type_both_ways(api: Api, prefix: str) -> None:
    """Spec: 200 ``BatchResponsePublicDefaultAssociation``, "the default (most generic) association type";
    results list both directions with their type ids (a public fixture of a real answer: 16 and 15)."""
    (company,) = companies(api, 1)
    (cid,) = contacts(api, 1)
    resp = api.post(
        f"{prefix}/contacts/companies/batch/associate/default",
        {
            "inputs": [
                {"from": {"id": cid}, "to": {"id": company}},
                {"from": {"id": "999"}, "to": {"id": company}},
            ]
        },
    )
    assert resp.status_code == 200
    body = resp.json()
    assert sorted(
        (r["from"]["id"], r["associationSpec"]["associationTypeId"]) for r in body["results"]
    ) == sorted([(cid, 279), (company, 280)])
    assert body["numErrors"] == 1 and body["errors"][0]["context"]["objectId"] == ["999"]
    assert linked(api, "contacts", cid, "companies") == {int(company): [279]}


@pytest.mark.parametrize(("prefix", "status"), [(PREFIXES[0], 204), (PREFIXES[1], 200)])
def test_batch_archive_removes_every_type_of_each_pair(
    sandbox: SandboxHandle, api: Api, prefix: str, status: int
) -> None:
    """Spec: v4 204, 2026-03 200 ``BatchResponse``; "Batch delete associations for objects" removes all types
    of each pair, both directions (reference §16.5). Unknown pairs are ignored (our choice)."""
    first, second = companies(api, 2)
    (cid,) = contacts(api, 1)
    api.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        {"inputs": [pair(cid, first, PRIMARY), pair(cid, second, UNLABELED)]},
    )
    resp = api.post(
        f"{prefix}/contacts/companies/batch/archive",
        {
            "inputs": [
                {"from": {"id": cid}, "to": [{"id": first}, {"id": "999"}]},
                {"from": {"id": "998"}, "to": []},
            ]
        },
    )
    assert resp.status_code == status
    if status == 200:
        assert resp.json()["status"] == "COMPLETE" and resp.json()["results"] == []
    else:
        assert resp.content == b""
    assert linked(api, "contacts", cid, "companies") == {int(second): [279]}
    assert linked(api, "companies", first, "contacts") == {}
    assert sandbox.counters()["associations_archived"] == 2


def test_labels_archive_removes_listed_types_and_the_unlabeled_one_removes_all(api: Api) -> None:
    """Spec ``batch/labels/archive``: "Deleting an unlabeled association will also delete all labeled
    associations between those two objects"; removing only the primary keeps the unlabeled type."""
    first, second = companies(api, 2)
    (cid,) = contacts(api, 1)
    api.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        {"inputs": [pair(cid, first, PRIMARY), pair(cid, second, PRIMARY, UNLABELED)]},
    )
    resp = api.post(
        "/crm/v4/associations/contacts/companies/batch/labels/archive",
        {"inputs": [pair(cid, second, PRIMARY)]},
    )
    assert resp.status_code == 204
    assert linked(api, "contacts", cid, "companies") == {int(first): [279], int(second): [279]}
    api.post(
        "/crm/associations/2026-03/contacts/companies/batch/labels/archive",
        {"inputs": [pair(cid, second, UNLABELED)]},
    )
    assert linked(api, "contacts", cid, "companies") == {int(first): [279]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_batch_read_gives_each_records_associations(api: Api, prefix: str) -> None:
    """Spec: 200 ``BatchResponsePublicAssociationMultiWithLabel``, 207 ``…WithErrors``. A record without
    associations, or one that does not exist, is ``OBJECT_NOT_FOUND`` with subCategory
    ``crm.associations.NO_ASSOCIATIONS_FOUND``, ``No company is associated with contact N.`` (public
    captures, 2025-2026); a malformed id ``crm.associations.INVALID_IDENTIFIER`` (captured; message ours)."""
    (company,) = companies(api, 1)
    first, second = contacts(api, 2)
    api.post(
        "/crm/v4/associations/contacts/companies/batch/create", {"inputs": [pair(first, company, PRIMARY)]}
    )
    resp = api.post(
        f"{prefix}/contacts/companies/batch/read",
        {"inputs": [{"id": first}, {"id": second}, {"id": "999"}, {"id": "abc"}]},
    )
    assert resp.status_code == 207
    body = resp.json()
    assert body["results"] == [
        {
            "from": {"id": first},
            "to": [
                {
                    "toObjectId": int(company),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
                    ],
                }
            ],
        }
    ]
    errors = {e["context"]["fromObjectId"][0]: e for e in body["errors"]}
    assert errors[second] == {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No company is associated with contact {second}.",
        "context": {"fromObjectId": [second], "fromObjectType": ["contact"], "toObjectType": ["company"]},
    }
    assert errors["999"]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert errors["abc"]["category"] == "VALIDATION_ERROR"
    assert errors["abc"]["subCategory"] == "crm.associations.INVALID_IDENTIFIER"
    ok = api.post(f"{prefix}/contacts/companies/batch/read", {"inputs": [{"id": first}]})
    assert ok.status_code == 200 and "errors" not in ok.json()


def test_batch_read_pages_one_records_targets(api: Api) -> None:
    """Spec batch read: "The 'after' field in a returned paging object can be added alongside the 'id' to
    retrieve the next page of associations from that objectId"; 500 per page is our choice."""
    targets = [c for _ in range(6) for c in companies(api, 100)][:501]
    (cid,) = contacts(api, 1)
    resp = api.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        {"inputs": [pair(cid, t, UNLABELED) for t in targets]},
    )
    assert resp.status_code == 201, resp.text
    path = "/crm/v4/associations/contacts/companies/batch/read"
    first = api.post(path, {"inputs": [{"id": cid}]}).json()["results"][0]
    assert len(first["to"]) == 500
    after = first["paging"]["next"]["after"]
    rest = api.post(path, {"inputs": [{"id": cid, "after": after}]}).json()["results"][0]
    assert [t["toObjectId"] for t in rest["to"]] == [max(int(t) for t in targets)] and "paging" not in rest


def test_archived_records_cannot_be_associated_and_their_links_are_not_read(api: Api) -> None:
    """Archived records are not read by default (Spec ``archived``); an association to one is refused like
    one to a record that does not exist, and its existing links disappear from reads (our choice)."""
    keep, gone = companies(api, 2)
    (cid,) = contacts(api, 1)
    api.post("/crm/v4/associations/contacts/companies/batch/create", {"inputs": [pair(cid, keep, UNLABELED)]})
    api.post("/crm/v3/objects/companies/batch/archive", {"inputs": [{"id": keep}, {"id": gone}]})
    assert linked(api, "contacts", cid, "companies") == {}
    resp = api.post(
        "/crm/v4/associations/contacts/companies/batch/create", {"inputs": [pair(cid, gone, UNLABELED)]}
    )
    assert resp.status_code == 207 and resp.json()["errors"][0]["context"]["objectId"] == [gone]


def test_scopes_any_object_scope_of_either_type(sandbox_factory: Factory) -> None:
    """Spec security: about 80 alternative scopes, read scopes of the object types included (reference
    §16.5); the sandbox admits any read or write scope of either object type and refuses others with 403."""
    tokens = (
        TokenConfig("sandbox-token"),
        TokenConfig("contacts-read", frozenset({"crm.objects.contacts.read"})),
        TokenConfig("deals-read", frozenset({"crm.objects.deals.read"})),
    )
    sb = sandbox_factory(tokens=tokens)
    api = Api(sb)
    (company,) = companies(api, 1)
    (cid,) = contacts(api, 1)
    body = {"inputs": [pair(cid, company, UNLABELED)]}
    path = "/crm/v4/associations/contacts/companies/batch/create"
    assert Api(sb, token="contacts-read").post(path, body).status_code == 201
    refused = Api(sb, token="deals-read").post(path, body)
    assert refused.status_code == 403 and refused.json()["category"] == "MISSING_SCOPES"


def test_association_changes_survive_a_restart(sandbox_factory: Factory, tmp_path: Path) -> None:
    """Write-through persistence (``--db``): association writes and removals survive a restart."""
    db = str(tmp_path / "sandbox.sqlite")
    first = sandbox_factory(db_path=db)
    api = Api(first)
    a, b = companies(api, 2)
    (cid,) = contacts(api, 1)
    api.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        {"inputs": [pair(cid, a, PRIMARY), pair(cid, b, PRIMARY)]},
    )
    api.post(
        "/crm/v4/associations/contacts/companies/batch/archive",
        {"inputs": [{"from": {"id": cid}, "to": [{"id": b}]}]},
    )
    expected = linked(api, "contacts", cid, "companies")
    assert expected == {int(a): [279]}
    first.stop()
    assert linked(Api(sandbox_factory(db_path=db)), "contacts", cid, "companies") == expected
