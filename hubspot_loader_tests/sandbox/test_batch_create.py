"""Batch create over HTTP: 201, 207, whole-batch failures, validation and conflicts."""

from __future__ import annotations

import pytest

from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.sandbox.helpers import ISO_Z, Api, Factory, contact, embedded_items


@pytest.fixture
def api(sandbox: SandboxHandle) -> Api:
    return Api(sandbox)


@pytest.mark.parametrize("prefix", ["/crm/v3/objects", "/crm/objects/2026-03"])
@pytest.mark.parametrize("type_ref", ["contacts", "0-1", "contact"])
def test_batch_create_201_shape_on_both_path_families(
    sandbox: SandboxHandle, prefix: str, type_ref: str
) -> None:
    api = Api(sandbox, prefix=prefix)
    resp = api.create(type_ref, [contact("a@example.com", firstname="Ann"), contact("b@example.com")])
    assert resp.status_code == 201, resp.text
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    body = resp.json()
    assert body["status"] == "COMPLETE"
    assert ISO_Z.match(body["startedAt"]) and ISO_Z.match(body["completedAt"])
    assert "errors" not in body and "numErrors" not in body
    assert len(body["results"]) == 2
    for result in body["results"]:
        assert isinstance(result["id"], str) and result["id"].isdigit()
        props = result["properties"]
        assert props["hs_object_id"] == result["id"]
        assert props["hs_object_source"] == "API"
        assert ISO_Z.match(props["createdate"]) and props["lastmodifieddate"] == props["createdate"]
        assert ISO_Z.match(result["createdAt"]) and ISO_Z.match(result["updatedAt"])
        assert result["archived"] is False
        assert result["url"].endswith(f"/record/0-1/{result['id']}")
    emails = sorted(r["properties"]["email"] for r in body["results"])
    assert emails == ["a@example.com", "b@example.com"]
    assert resp.headers["X-HubSpot-Correlation-Id"]
    assert [o["properties"]["email"] for o in sandbox.objects("contacts")] == [
        "a@example.com",
        "b@example.com",
    ]


def test_companies_use_hs_lastmodifieddate_and_derive_website(api: Api) -> None:
    resp = api.create("companies", [{"properties": {"name": "Acme", "domain": "acme.com"}}])
    assert resp.status_code == 201
    props = resp.json()["results"][0]["properties"]
    assert "hs_lastmodifieddate" in props and "lastmodifieddate" not in props
    assert props["website"] == "acme.com"


def test_results_are_shuffled_by_default_and_ordered_when_disabled(sandbox_factory: Factory) -> None:
    inputs = [contact(f"u{i}@example.com") for i in range(50)]
    shuffled = Api(sandbox_factory()).create("contacts", inputs).json()["results"]
    order = [r["properties"]["email"] for r in shuffled]
    assert sorted(order) == sorted(i["properties"]["email"] for i in inputs)
    assert order != [i["properties"]["email"] for i in inputs]
    kept = Api(sandbox_factory(shuffle_results=False)).create("contacts", inputs).json()["results"]
    assert [r["properties"]["email"] for r in kept] == [i["properties"]["email"] for i in inputs]


def test_trace_ids_echoed_on_results_by_default_and_optionally_not(sandbox_factory: Factory) -> None:
    resp = Api(sandbox_factory()).create("contacts", [contact("a@example.com", "t1")])
    assert resp.json()["results"][0]["objectWriteTraceId"] == "t1"
    resp = Api(sandbox_factory(echo_trace_ids=False)).create("contacts", [contact("a@example.com", "t1")])
    assert "objectWriteTraceId" not in resp.json()["results"][0]


def test_json_numbers_and_booleans_are_stored_as_strings(api: Api) -> None:
    resp = api.create("deals", [{"properties": {"dealname": 12345, "amount": 10.5}}])
    assert resp.status_code == 201, resp.text
    props = resp.json()["results"][0]["properties"]
    assert props["dealname"] == "12345" and props["amount"] == "10.5"


def test_207_when_every_input_has_a_unique_trace_id(sandbox: SandboxHandle, api: Api) -> None:
    resp = api.create("contacts", [contact("ok@example.com", "t1"), contact("not-an-email", "t2")])
    assert resp.status_code == 207, resp.text
    body = resp.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 1
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t1"]
    error = body["errors"][0]
    assert error["status"] == "error" and error["category"] == "VALIDATION_ERROR"
    assert error["context"] == {"objectWriteTraceId": ["t2"]}
    items = embedded_items(error["message"])
    assert items[0]["error"] == "INVALID_EMAIL" and items[0]["name"] == "email"
    assert items[0]["message"] == "Email address not-an-email is invalid"
    assert [o["properties"]["email"] for o in sandbox.objects("contacts")] == ["ok@example.com"]


@pytest.mark.parametrize(
    "traces", [["t1", None], ["t1", "t1"], [None, None]], ids=["missing", "duplicate", "none"]
)
def test_without_unique_trace_ids_one_bad_input_fails_the_whole_batch(
    sandbox: SandboxHandle, api: Api, traces: list[str | None]
) -> None:
    resp = api.create("contacts", [contact("ok@example.com", traces[0]), contact("bad", traces[1])])
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"] == [
        {
            "message": "Email address bad is invalid",
            "code": "INVALID_EMAIL",
            "context": {"propertyName": ["email"]},
        }
    ]
    assert body["correlationId"] == resp.headers["X-HubSpot-Correlation-Id"]
    assert sandbox.objects("contacts") == []


@pytest.mark.parametrize(
    ("object_type", "props", "code", "name"),
    [
        ("contacts", {"email": "a@example.com", "nope": "x"}, "PROPERTY_DOESNT_EXIST", "nope"),
        ("contacts", {"email": "a@"}, "INVALID_EMAIL", "email"),
        (
            "contacts",
            {"email": "a@example.com", "lifecyclestage": "king"},
            "INVALID_OPTION",
            "lifecyclestage",
        ),
        ("deals", {"amount": "12,5"}, "INVALID_INTEGER", "amount"),
        ("deals", {"closedate": "yesterday"}, "INVALID_DATETIME", "closedate"),
        ("contacts", {"email": "a@example.com", "hs_object_id": "5"}, "READ_ONLY_VALUE", "hs_object_id"),
        (
            "contacts",
            {"email": "a@example.com", "num_associated_deals": "5"},
            "READ_ONLY_VALUE",
            "num_associated_deals",
        ),
        ("companies", {"description": "x" * 65_537}, "INVALID_STRING_LENGTH", "description"),
        ("contacts", {"phone": "123"}, "REQUIRED_PROPERTY", "email"),
        (
            "contacts",
            {"email": "a@example.com", "hs_email_optout": "true"},
            "READ_ONLY_VALUE",
            "hs_email_optout",
        ),
    ],
)
def test_validation_codes(api: Api, object_type: str, props: dict[str, str], code: str, name: str) -> None:
    resp = api.create(object_type, [{"properties": props}])
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    items = embedded_items(body["message"])
    assert items[0]["error"] == code and items[0]["name"] == name and items[0]["isValid"] is False
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["context"]["propertyName"][0] == name


def test_invalid_option_lists_allowed_options_and_value(api: Api) -> None:
    resp = api.create("companies", [{"properties": {"industry": "THISISNOTAREALINDUSTRY"}}])
    item = embedded_items(resp.json()["message"])[0]
    assert item["propertyValue"] == "THISISNOTAREALINDUSTRY"
    assert item["message"].startswith(
        "THISISNOTAREALINDUSTRY was not one of the allowed options: [ACCOUNTING, "
    )


def test_string_of_exactly_max_length_is_accepted(api: Api) -> None:
    assert api.create("companies", [{"properties": {"description": "x" * 65_536}}]).status_code == 201


def test_date_properties_need_utc_midnight_and_echo_as_iso_date(sandbox_factory: Factory) -> None:
    from hubspot_loader.sandbox import PropertyConfig

    sb = sandbox_factory(extra_properties=(("contacts", (PropertyConfig("renewal_date", "date"),)),))
    api = Api(sb)
    ok = api.create(
        "contacts",
        [
            contact("a@example.com", renewal_date="2024-05-01"),
            contact("b@example.com", renewal_date=1430438400000),
            contact("c@example.com", renewal_date="2015-05-01T00:00:00Z"),
        ],
    )
    assert ok.status_code == 201, ok.text
    assert sorted(r["properties"]["renewal_date"] for r in ok.json()["results"]) == [
        "2015-05-01",
        "2015-05-01",
        "2024-05-01",
    ]
    bad = api.create("contacts", [contact("d@example.com", renewal_date=1430438400001)])
    assert bad.status_code == 400
    item = embedded_items(bad.json()["message"])[0]
    assert item["error"] == "INVALID_DATE" and "not midnight" in item["message"]


def test_multi_checkbox_enumeration_accepts_semicolon_values(api: Api) -> None:
    ok = api.create("contacts", [contact("a@example.com", hs_buying_role="BUDGET_HOLDER;END_USER")])
    assert ok.json()["results"][0]["properties"]["hs_buying_role"] == "BUDGET_HOLDER;END_USER"
    bad = api.create("contacts", [contact("b@example.com", hs_buying_role="BUDGET_HOLDER;KING")])
    assert embedded_items(bad.json()["message"])[0]["error"] == "INVALID_OPTION"


def test_more_than_100_inputs_is_a_400_and_100_is_fine(sandbox: SandboxHandle, api: Api) -> None:
    resp = api.create("contacts", [contact(f"u{i}@example.com") for i in range(101)])
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"
    assert "maximum number of inputs" in resp.json()["message"]
    assert sandbox.counts()["contacts"] == 0
    assert api.create("contacts", [contact(f"u{i}@example.com") for i in range(100)]).status_code == 201


def test_malformed_json_and_missing_body(api: Api) -> None:
    path = "/crm/v3/objects/contacts/batch/create"
    bad = api.request("POST", path, data=b'{"inputs": [', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("Invalid input JSON on line 1, column 13")
    empty = api.request("POST", path)
    assert empty.status_code == 400
    assert empty.json()["message"] == "Invalid JSON input: a request body was expected, but none found"
    wrong = api.post(path, {"records": []})
    assert wrong.status_code == 400 and wrong.json()["category"] == "VALIDATION_ERROR"


def test_object_valued_property_is_a_schema_error(api: Api) -> None:
    resp = api.create("contacts", [{"properties": {"email": {"x": 1}}}])
    assert resp.status_code == 400 and "Cannot deserialize" in resp.json()["message"]


def test_duplicate_email_against_existing_contact_is_whole_batch_409(
    sandbox: SandboxHandle, api: Api
) -> None:
    first = api.create("contacts", [contact("Dup@Example.com")]).json()["results"][0]
    assert first["properties"]["email"] == "dup@example.com"
    resp = api.create("contacts", [contact("fresh@example.com"), contact("dup@EXAMPLE.com")])
    assert resp.status_code == 409
    body = resp.json()
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"
    assert body["correlationId"] == resp.headers["X-HubSpot-Correlation-Id"]
    assert sandbox.counts()["contacts"] == 1


def test_409_names_only_the_first_conflict(api: Api) -> None:
    ids = [r["id"] for r in api.create("contacts", [contact("a@x.io"), contact("b@x.io")]).json()["results"]]
    body = api.create("contacts", [contact("new@x.io"), contact("b@x.io"), contact("a@x.io")]).json()
    by_email = {r: i for r, i in zip(("a", "b"), sorted(ids), strict=True)}
    assert body["message"].endswith(f"Existing ID: {by_email['b']}")


def test_duplicate_within_one_batch_is_409_even_with_trace_ids(sandbox: SandboxHandle, api: Api) -> None:
    resp = api.create("contacts", [contact("same@example.com", "t1"), contact("SAME@example.com", "t2")])
    assert resp.status_code == 409
    assert resp.json()["message"].startswith("Contact already exists.")
    assert sandbox.counts()["contacts"] == 0


def test_conflicts_as_207_option(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(conflicts_as_207=True)
    api = Api(sb)
    existing = api.create("contacts", [contact("old@example.com")]).json()["results"][0]["id"]
    resp = api.create(
        "contacts",
        [
            contact("old@example.com", "t1"),
            contact("new@example.com", "t2"),
            contact("NEW@example.com", "t3"),
        ],
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t2"]
    errors = {e["context"]["objectWriteTraceId"][0]: e for e in body["errors"]}
    assert errors["t1"]["category"] == "CONFLICT"
    assert errors["t1"]["message"] == f"Contact already exists. Existing ID: {existing}"
    assert errors["t3"]["message"] == f"Contact already exists. Existing ID: {body['results'][0]['id']}"
    # without trace ids the option does not apply
    assert api.create("contacts", [contact("old@example.com")]).status_code == 409


def test_contacts_need_an_identity_property(api: Api) -> None:
    assert api.create("contacts", [{"properties": {"firstname": "Only"}}]).status_code == 201
    assert api.create("contacts", [{"properties": {"lastname": "Only"}}]).status_code == 201
    resp = api.create("contacts", [{"properties": {"email": ""}}])
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "REQUIRED_PROPERTY"


def test_custom_object_unique_property_conflicts(sandbox_factory: Factory) -> None:
    from hubspot_loader.sandbox import CustomObjectConfig, PropertyConfig

    vendor = CustomObjectConfig(
        "vendor", "2-123", (PropertyConfig("vendor_id", unique=True), PropertyConfig("name"))
    )
    sb = sandbox_factory(custom_objects=(vendor,), portal_id=345)
    api = Api(sb)
    for ref in ("p_vendor", "2-123", "p345_vendor"):
        resp = api.create(ref, [{"properties": {"vendor_id": f"V-{ref}", "name": "x"}}])
        assert resp.status_code == 201, (ref, resp.text)
    assert api.create("vendor", [{"properties": {"vendor_id": "V-9"}}]).status_code == 400
    dup = api.create("p_vendor", [{"properties": {"vendor_id": "V-2-123"}}])
    assert dup.status_code == 409 and dup.json()["category"] == "CONFLICT"
    assert len(sb.objects("p_vendor")) == 3


def test_unknown_object_type_gets_hubspot_error_body(api: Api) -> None:
    resp = api.create("widgets", [contact("a@example.com")])
    assert resp.status_code == 400
    assert resp.json()["message"] == "Unable to infer object type from: widgets"
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_unknown_route_is_a_json_404(api: Api) -> None:
    resp = api.get("/crm/v3/nothing/here")
    assert resp.status_code == 404 and resp.json()["status"] == "error"


def test_requested_at_by_default_and_omitted_on_request(sandbox_factory: Factory) -> None:
    body = Api(sandbox_factory()).create("contacts", [contact("a@x.io")]).json()
    assert ISO_Z.match(body["requestedAt"]) and body["requestedAt"] <= body["startedAt"]
    plain = Api(sandbox_factory(include_requested_at=False)).create("contacts", [contact("a@x.io")]).json()
    assert "requestedAt" not in plain and ISO_Z.match(plain["startedAt"])
