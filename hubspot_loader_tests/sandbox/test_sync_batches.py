"""Batch update, archive and read as a sync uses them, over HTTP against a sandbox on 127.0.0.1.

Each test names the source of the behaviour it checks (reference = ``shared/reference/hubspot-api.md``).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from hubspot_loader.sandbox import PropertyConfig, SandboxHandle
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact, embedded_items

PREFIXES = ["/crm/v3/objects", "/crm/objects/2026-03"]
NOT_FOUND = "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox)


def created_ids(api: Api, *emails: str, object_type: str = "contacts") -> list[str]:
    resp = api.create(object_type, [contact(e) for e in emails])
    assert resp.status_code == 201, resp.text
    by_email = {r["properties"]["email"]: r["id"] for r in resp.json()["results"]}
    return [by_email[e.lower()] for e in emails]


def update(api: Api, inputs: list[dict[str, Any]], prefix: str = "/crm/v3/objects") -> Any:
    return api.post(f"{prefix}/contacts/batch/update", {"inputs": inputs})


def wait_past(iso: str) -> None:
    """Spin until the clock is past ``iso`` (millisecond timestamps): a later write gets a later time."""
    target = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    while time.time() <= target + 0.001:
        pass


@pytest.mark.parametrize("prefix", PREFIXES)
def test_update_by_record_id_and_by_email_whatever_its_case(api: Api, prefix: str) -> None:
    """Reference §16.1: ``id`` is the record id or a value of the unique ``idProperty``; 200 and the record
    (its full property set, the echoed trace id, ``url``). HubSpot stores emails lowercased (segment PR
    #1514), so an email in another case names the same contact (our choice where HubSpot is silent)."""
    ann, bo = created_ids(api, "ann@example.com", "bo@example.com")
    resp = update(
        api,
        [
            {"id": ann, "properties": {"firstname": "Ann"}, "objectWriteTraceId": "t1"},
            {
                "id": "BO@Example.com",
                "idProperty": "email",
                "properties": {"firstname": "Bo"},
                "objectWriteTraceId": "t2",
            },
        ],
        prefix,
    )
    assert resp.status_code == 200, resp.text
    results = {r["objectWriteTraceId"]: r for r in resp.json()["results"]}
    assert results["t1"]["id"] == ann and results["t1"]["properties"]["firstname"] == "Ann"
    assert results["t2"]["id"] == bo and results["t2"]["properties"]["email"] == "bo@example.com"
    assert results["t2"]["url"].endswith(f"/record/0-1/{bo}")


def test_a_value_equal_to_the_stored_one_does_not_move_updated_at(api: Api) -> None:
    """Reference §16.1 ("Unchanged values", hotglue cassettes): a write repeating the stored values left
    ``updatedAt``/``lastmodifieddate`` as they were; a changed value moves both."""
    created = api.create("contacts", [contact("a@example.com", firstname="Ann")]).json()["results"][0]
    wait_past(created["updatedAt"])
    same = update(api, [{"id": created["id"], "properties": {"firstname": "Ann", "email": "A@example.com"}}])
    assert same.json()["results"][0]["updatedAt"] == created["updatedAt"]
    assert (
        same.json()["results"][0]["properties"]["lastmodifieddate"]
        == created["properties"]["lastmodifieddate"]
    )
    changed = update(api, [{"id": created["id"], "properties": {"firstname": "Anna"}}]).json()["results"][0]
    assert changed["updatedAt"] > created["updatedAt"]
    assert changed["properties"]["lastmodifieddate"] == changed["updatedAt"]


def test_an_empty_string_clears_a_value_which_then_reads_back_empty(api: Api) -> None:
    """Spec PATCH/batch update description "Properties values can be cleared by passing an empty string"
    (reference §16.2); a cleared value reads back as ``""``, one never set as ``null`` (estuary#4272)."""
    cid = api.create("contacts", [contact("a@example.com", phone="123")]).json()["results"][0]["id"]
    resp = update(api, [{"id": cid, "properties": {"phone": "", "lastname": ""}}])
    assert resp.status_code == 200
    assert resp.json()["results"][0]["properties"]["phone"] == ""
    read = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": cid}], "properties": ["phone", "lastname"], "propertiesWithHistory": []},
    ).json()["results"][0]["properties"]
    assert read["phone"] == "" and read["lastname"] is None


def test_ids_that_name_no_record_are_one_object_not_found_item_and_the_rest_is_updated(api: Api) -> None:
    """Reference §16.1: 207 with valid inputs in ``results`` and ``OBJECT_NOT_FOUND`` ``Could not get some
    CONTACT objects…`` keyed by ``context.ids`` (amp-labs fixture: no trace ids, one item); with trace ids
    the item also carries ``context.objectWriteTraceId`` (Rudder fixtures); one item per input then (ours)."""
    (cid,) = created_ids(api, "a@example.com")
    plain = update(
        api,
        [
            {"id": cid, "properties": {"firstname": "A"}},
            {"id": "999", "properties": {"firstname": "B"}},
            {"id": "nobody@example.com", "idProperty": "email", "properties": {"firstname": "C"}},
        ],
    )
    assert plain.status_code == 207
    body = plain.json()
    assert [r["id"] for r in body["results"]] == [cid] and body["numErrors"] == 1
    assert body["errors"] == [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": NOT_FOUND,
            "context": {"ids": ["999", "nobody@example.com"]},
        }
    ]
    traced = update(
        api,
        [
            {"id": cid, "properties": {"lastname": "Z"}, "objectWriteTraceId": "ok"},
            {"id": "998", "properties": {}, "objectWriteTraceId": "gone"},
        ],
    )
    assert traced.status_code == 207
    assert traced.json()["errors"][0]["context"] == {"ids": ["998"], "objectWriteTraceId": ["gone"]}


@pytest.mark.parametrize("traced", [False, True])
def test_the_same_id_twice_fails_the_whole_batch(api: Api, traced: bool) -> None:
    """Reference §16.1: 400 ``Duplicate IDs found in batch input: [12877907025]. IDs must be unique`` with
    ``context.ids``, with or without trace ids (Rudder fixtures; a third-party live probe); nothing is
    written. The same email in another case is the same id."""
    (cid,) = created_ids(api, "a@example.com")
    inputs = [
        {"id": cid, "properties": {"firstname": "A"}},
        {"id": cid, "properties": {"firstname": "B"}},
        {"id": "A@example.com", "idProperty": "email", "properties": {}},
        {"id": "a@example.com", "idProperty": "email", "properties": {}},
    ]
    if traced:
        inputs = [{**i, "objectWriteTraceId": str(n)} for n, i in enumerate(inputs)]
    resp = update(api, inputs)
    assert resp.status_code == 400
    body = resp.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert (
        body["message"] == f"Duplicate IDs found in batch input: [{cid}, A@example.com]. IDs must be unique"
    )
    assert body["context"] == {"ids": [cid, "A@example.com"]}
    assert (
        api.get(f"/crm/v3/objects/contacts/{cid}?properties=firstname").json()["properties"]["firstname"]
        is None
    )


def test_read_only_and_unknown_properties_are_refused(api: Api) -> None:
    """Spec batch update description: "Read-only and non-existent properties will result in an error";
    the read-only text is a real answer's (mautic#8785). Whole-batch 400 without trace ids, 207 items with."""
    (cid,) = created_ids(api, "a@example.com")
    whole = update(api, [{"id": cid, "properties": {"hs_object_id": "5", "createdate": ""}}])
    assert whole.status_code == 400
    items = embedded_items(whole.json()["message"])
    assert [(i["error"], i["message"]) for i in items] == [
        ("READ_ONLY_VALUE", '"hs_object_id" is a calculated property; its value cannot be set.'),
        ("READ_ONLY_VALUE", '"createdate" is a calculated property; its value cannot be set.'),
    ]
    partial = update(
        api,
        [
            {"id": cid, "properties": {"firstname": "A"}, "objectWriteTraceId": "t1"},
            {
                "id": "a@example.com",
                "idProperty": "email",
                "properties": {"nope": "x"},
                "objectWriteTraceId": "t2",
            },
        ],
    )
    assert partial.status_code == 207
    assert partial.json()["errors"][0]["context"] == {"objectWriteTraceId": ["t2"]}
    assert "PROPERTY_DOESNT_EXIST" in partial.json()["errors"][0]["message"]


def test_a_unique_value_another_record_holds_names_that_record(sandbox_factory: Factory) -> None:
    """A 409 ``CONFLICT`` ``<Object> already exists. Existing ID: N`` (reference §5.4; HubSpot's legacy
    docs: 409 when an update gives a record the email of another); whole batch, as for batch create
    (decision #5), or a 207 item with ``conflicts_as_207`` and trace ids. Custom unique properties too."""
    extra = (("companies", (PropertyConfig("erp_id", "string", unique=True),)),)
    sb = sandbox_factory(extra_properties=extra)
    api = Api(sb)
    ann, bo = created_ids(api, "ann@example.com", "bo@example.com")
    taken = update(api, [{"id": ann, "properties": {"email": "BO@example.com"}}])
    assert taken.status_code == 409
    assert taken.json()["message"] == f"Contact already exists. Existing ID: {bo}"
    assert api.get(f"/crm/v3/objects/contacts/{ann}").json()["properties"]["email"] == "ann@example.com"
    companies = api.create("companies", [{"properties": {"erp_id": "E1"}}, {"properties": {"erp_id": "E2"}}])
    first, second = sorted(companies.json()["results"], key=lambda r: r["properties"]["erp_id"])
    clash = api.post(
        "/crm/objects/2026-03/companies/batch/update",
        {"inputs": [{"id": second["id"], "properties": {"erp_id": "E1"}}]},
    )
    assert (
        clash.status_code == 409
        and clash.json()["message"] == f"Company already exists. Existing ID: {first['id']}"
    )
    per_item = Api(sandbox_factory(conflicts_as_207=True))
    ann, bo = created_ids(per_item, "ann@example.com", "bo@example.com")
    resp = update(
        per_item,
        [
            {"id": ann, "properties": {"email": "bo@example.com"}, "objectWriteTraceId": "t1"},
            {"id": bo, "properties": {"firstname": "Bo"}, "objectWriteTraceId": "t2"},
        ],
    )
    assert resp.status_code == 207
    assert resp.json()["errors"][0]["category"] == "CONFLICT"
    assert resp.json()["errors"][0]["message"] == f"Contact already exists. Existing ID: {bo}"
    assert [r["objectWriteTraceId"] for r in resp.json()["results"]] == ["t2"]


def test_id_property_must_be_a_writable_unique_property(api: Api) -> None:
    """Reference §16.1/§16.3: ``hs_object_id`` as ``idProperty`` answers 400 ``Unable to perform
    update/upsert by non-unique 0-1 property hs_object_id in portal ID …`` (segment PR #3957); so does a
    non-unique property (hubspot-api-nodejs#548)."""
    (cid,) = created_ids(api, "a@example.com")
    for name in ("hs_object_id", "firstname"):
        resp = update(api, [{"id": cid, "idProperty": name, "properties": {}}])
        assert resp.status_code == 400
        assert resp.json()["message"] == (
            f"Unable to perform update/upsert by non-unique 0-1 property {name} in portal ID 12345678"
        )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_archive_answers_204_whatever_the_state_and_hides_the_record(
    sandbox: SandboxHandle, api: Api, prefix: str
) -> None:
    """204 "regardless of the initial state of the object (e.g. active, already archived, non-existent)"
    (HubSpot's generated SDK docs of batch archive). Archived records are not read by default; ``archived``
    "Whether to return only results that have been archived" (Spec repo) reads them."""
    company = api.create("companies", [{"properties": {"name": "Acme"}}]).json()["results"][0]["id"]
    link = {
        "to": {"id": company},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
    }
    cid = api.create("contacts", [{**contact("a@example.com"), "associations": [link]}]).json()["results"][0][
        "id"
    ]
    path = f"{prefix}/contacts/batch/archive"
    first = api.post(path, {"inputs": [{"id": cid}, {"id": "999"}, {"id": "not-a-number"}]})
    again = api.post(path, {"inputs": [{"id": cid}]})
    assert (first.status_code, first.content, again.status_code) == (204, b"", 204)
    assert sandbox.counters()["archived"]["contacts"] == 1
    assert api.get(f"/crm/v3/objects/contacts/{cid}").status_code == 404
    read = api.post(f"{prefix}/contacts/batch/read", {"inputs": [{"id": cid}], "properties": []})
    assert read.status_code == 207 and read.json()["errors"][0]["context"] == {"ids": [cid]}
    assert api.get("/crm/v3/objects/contacts").json()["results"] == []
    assert api.post("/crm/v3/objects/contacts/search", {"filterGroups": []}).json()["total"] == 0
    assert api.get(f"/crm/v4/objects/companies/{company}/associations/contacts").json()["results"] == []
    archived = api.post(
        f"{prefix}/contacts/batch/read?archived=true", {"inputs": [{"id": cid}], "properties": []}
    )
    assert archived.status_code == 200
    assert archived.json()["results"][0]["archived"] is True and "archivedAt" in archived.json()["results"][0]
    assert api.get(f"/crm/v3/objects/contacts/{cid}?archived=true").json()["archived"] is True
    assert [r["id"] for r in api.get("/crm/v3/objects/contacts?archived=true").json()["results"]] == [cid]


def test_batch_read_by_unique_property_live_or_archived(sandbox_factory: Factory) -> None:
    """Spec batch read: "include the ``idProperty`` parameter to retrieve records by a custom unique value
    property"; missing ones are one ``OBJECT_NOT_FOUND`` item with every id as sent (a 2023 capture lists
    two emails in one item). Emails match in any case (ours); custom values match exactly (ours)."""
    extra = (("contacts", (PropertyConfig("ext_id", "string", unique=True),)),)
    api = Api(sandbox_factory(extra_properties=extra))
    resp = api.create("contacts", [{"properties": {"email": "a@example.com", "ext_id": "K-1"}}])
    cid = resp.json()["results"][0]["id"]
    by_email = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {
            "idProperty": "email",
            "inputs": [{"id": "A@EXAMPLE.com"}, {"id": "x@example.com"}, {"id": "Y@example.com"}],
            "properties": ["email"],
        },
    )
    assert by_email.status_code == 207
    assert [r["id"] for r in by_email.json()["results"]] == [cid]
    assert by_email.json()["errors"][0]["context"] == {"ids": ["x@example.com", "Y@example.com"]}
    by_key = api.post(
        "/crm/objects/2026-03/contacts/batch/read",
        {"idProperty": "ext_id", "inputs": [{"id": "K-1"}, {"id": "k-1"}], "properties": ["ext_id"]},
    )
    assert [r["id"] for r in by_key.json()["results"]] == [cid]
    assert by_key.json()["errors"][0]["context"] == {"ids": ["k-1"]}
    api.post("/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": cid}]})
    gone = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {"idProperty": "ext_id", "inputs": [{"id": "K-1"}], "properties": []},
    )
    assert gone.status_code == 207
    archived = api.post(
        "/crm/v3/objects/contacts/batch/read?archived=true",
        {"idProperty": "ext_id", "inputs": [{"id": "K-1"}], "properties": ["ext_id"]},
    )
    assert archived.status_code == 200 and archived.json()["results"][0]["id"] == cid


def test_properties_with_history_lists_every_version_newest_first(api: Api) -> None:
    """Spec ``propertiesWithHistory`` (``ValueWithTimestamp``: value, timestamp, sourceType); newest first
    is our choice. A value set at creation and never changed has one version; one never set has none."""
    created = api.create("contacts", [contact("a@example.com", firstname="A1")]).json()["results"][0]
    cid = created["id"]
    wait_past(created["updatedAt"])
    update(api, [{"id": cid, "properties": {"firstname": "A2"}}])
    update(api, [{"id": cid, "properties": {"firstname": ""}}])
    resp = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {
            "inputs": [{"id": cid}],
            "properties": ["firstname"],
            "propertiesWithHistory": ["firstname", "email", "phone"],
        },
    )
    history = resp.json()["results"][0]["propertiesWithHistory"]
    assert [v["value"] for v in history["firstname"]] == ["", "A2", "A1"]
    assert history["firstname"][-1]["timestamp"] == created["createdAt"]
    assert {v["sourceType"] for v in history["firstname"]} == {"API"}
    assert [v["value"] for v in history["email"]] == ["a@example.com"]
    assert history["phone"] == []
    too_many = api.post(
        "/crm/v3/objects/contacts/batch/read",
        {"inputs": [{"id": str(i)} for i in range(51)], "properties": [], "propertiesWithHistory": ["email"]},
    )
    assert too_many.status_code == 400
