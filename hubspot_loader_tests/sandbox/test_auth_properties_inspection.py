"""Authentication, scopes, the properties API, the inspection API and counters."""

from __future__ import annotations

import requests

from hubspot_loader.sandbox import SandboxConfig, SandboxHandle, TokenConfig
from hubspot_loader_tests.sandbox.helpers import Api, Factory, contact


def test_missing_and_unknown_tokens_get_401(sandbox: SandboxHandle) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {sandbox.token}"}):
        resp = requests.post(
            f"{sandbox.base_url}/crm/v3/objects/contacts/batch/create",
            json={"inputs": [contact("a@example.com")]},
            headers=headers,
            timeout=5,
        )
        assert resp.status_code == 401
        assert resp.headers["X-HubSpot-Auth-Failure"] == "401 Unauthorized"
        body = resp.json()
        assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
        assert body["message"].startswith("Authentication credentials not found.")
    assert sandbox.counts()["contacts"] == 0
    assert sandbox.counters()["by_status"] == {"401": 3}


def test_token_without_write_scope_gets_403(sandbox_factory: Factory) -> None:
    sb = sandbox_factory(
        tokens=(
            TokenConfig("full"),
            TokenConfig("read-only", frozenset({"crm.objects.contacts.read"})),
            TokenConfig("companies", frozenset({"crm.objects.companies.write"})),
        )
    )
    assert sb.token == "full"
    resp = Api(sb, token="read-only").create("contacts", [contact("a@example.com")])
    assert resp.status_code == 403
    body = resp.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredScopes"] == ["crm.objects.contacts.write"]
    assert Api(sb, token="companies").create("companies", [{"properties": {"name": "A"}}]).status_code == 201
    assert Api(sb, token="companies").create("contacts", [contact("a@example.com")]).status_code == 403
    assert Api(sb, token="read-only").get("/crm/v3/properties/contacts").status_code == 200
    assert sb.counts()["contacts"] == 0


def test_properties_api_on_both_families(sandbox: SandboxHandle) -> None:
    api = Api(sandbox)
    for path in ("/crm/v3/properties/contacts", "/crm/properties/2026-03/0-1"):
        resp = api.get(path)
        assert resp.status_code == 200
        props = {p["name"]: p for p in resp.json()["results"]}
        email = props["email"]
        assert email["type"] == "string" and email["fieldType"] == "text" and email["hasUniqueValue"] is True
        assert email["modificationMetadata"]["readOnlyValue"] is False
        assert props["hs_object_id"]["modificationMetadata"]["readOnlyValue"] is True
        stage = props["lifecyclestage"]
        assert stage["type"] == "enumeration"
        assert {"label", "value", "hidden", "displayOrder"} <= set(stage["options"][0])
        assert "customer" in [o["value"] for o in stage["options"]]
        for p in props.values():
            assert {"name", "label", "type", "fieldType", "groupName", "options", "description"} <= set(p)
    deals = {p["name"]: p for p in api.get("/crm/v3/properties/deals").json()["results"]}
    assert deals["amount"]["type"] == "number" and deals["closedate"]["type"] == "datetime"
    assert api.get("/crm/v3/properties/contacts/email").json()["name"] == "email"
    assert api.get("/crm/v3/properties/contacts/nope").status_code == 404
    assert api.get("/crm/v3/properties/widgets").status_code == 400


def test_created_property_becomes_writable(sandbox: SandboxHandle) -> None:
    api = Api(sandbox)
    body = {
        "name": "external_id",
        "label": "External id",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
        "hasUniqueValue": True,
    }
    resp = api.post("/crm/v3/properties/contacts", body)
    assert resp.status_code == 201 and resp.json()["hasUniqueValue"] is True
    # a complete body whose name exists already: 409 (an incomplete one is a 400 first)
    assert api.post("/crm/v3/properties/contacts", {**body, "label": "Again"}).status_code == 409
    assert api.create("contacts", [contact("a@example.com", external_id="X1")]).status_code == 201
    assert api.create("contacts", [contact("b@example.com", external_id="X1")]).status_code == 409


def test_inspection_api_counters_and_reset(sandbox: SandboxHandle) -> None:
    api = Api(sandbox)
    assert sandbox.counters()["write_requests"] == 0
    api.create("contacts", [contact("a@example.com", firstname="A")])
    api.create("contacts", [contact("bad")])
    api.get("/crm/v3/properties/contacts")
    counters = sandbox.counters()
    assert counters["requests"] == 3 and counters["write_requests"] == 2
    assert counters["by_status"] == {"201": 1, "400": 1, "200": 1}
    assert counters["by_route"]["POST batch/create"] == 2
    assert counters["by_object_type"] == {"contacts": 3}
    assert counters["created"] == {"contacts": 1}
    objects = sandbox.objects("contacts")
    assert len(objects) == 1
    obj = objects[0]
    assert obj["properties"]["firstname"] == "A" and obj["associations"] == [] and obj["createdAt"]
    assert sandbox.get_object("contacts", obj["id"])["id"] == obj["id"]  # type: ignore[index]
    assert sandbox.get_object("contacts", "999") is None
    assert sandbox.counts()["contacts"] == 1 and sandbox.counts()["companies"] == 0
    sandbox.reset()
    assert sandbox.counts()["contacts"] == 0
    assert sandbox.counters()["requests"] == 0
    # inspection traffic itself is never counted
    assert sandbox.counters()["requests"] == 0


def test_html_page_shows_counts_and_latest_objects(sandbox: SandboxHandle) -> None:
    api = Api(sandbox)
    company = api.create("companies", [{"properties": {"name": "Acme <b>"}}]).json()["results"][0]["id"]
    api.create(
        "contacts",
        [
            {
                "properties": {"email": "a@example.com"},
                "associations": [
                    {
                        "to": {"id": company},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                    }
                ],
            }
        ],
    )
    resp = requests.get(sandbox.base_url + "/", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "a@example.com" in resp.text and "Acme &lt;b&gt;" in resp.text
    assert f"companies {company}" in resp.text
    assert requests.post(sandbox.base_url + "/", timeout=5).status_code == 404


def test_config_round_trips_through_json() -> None:
    from hubspot_loader.sandbox import CustomObjectConfig, FaultConfig, PropertyConfig

    config = SandboxConfig(
        tokens=(TokenConfig("a", frozenset({"x"}), "oauth"),),
        custom_objects=(CustomObjectConfig("vendor", "2-9", (PropertyConfig("v", unique=True),)),),
        extra_properties=(("contacts", (PropertyConfig("d", "date"),)),),
        faults=FaultConfig(error_rate=0.5, error_statuses=(503,)),
    )
    assert SandboxConfig.from_dict(config.to_dict()) == config
