"""Contract test: every path and method the sandbox serves answers in HubSpot's shapes, success and errors.

The facts are ours: the table of HubSpot's paths below and the JSON schemas in ``contract_schemas.py``,
written from the reference (``shared/reference/hubspot-api.md``) and from reading HubSpot's OpenAPI documents
(``HubSpot/HubSpot-public-api-spec-collection``, proprietary: read, never copied). Each case sends one real
request over HTTP to a fresh sandbox on 127.0.0.1 and validates status, body (``jsonschema``) and headers.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import requests

from hubspot_loader.sandbox import SandboxHandle, TokenConfig
from hubspot_loader.sandbox.routing import ROUTES
from hubspot_loader_tests.sandbox.contract_cases import (
    ACCOUNT,
    ASSOCIATION_BATCHES,
    ASSOCIATION_READS,
    LABELS,
    Case,
    association_batch_cases,
    association_cases,
)
from hubspot_loader_tests.sandbox.contract_schemas import schema
from hubspot_loader_tests.sandbox.helpers import Factory

OBJECTS = ("/crm/v3/objects", "/crm/objects/2026-03")
PROPERTIES = ("/crm/v3/properties", "/crm/properties/2026-03")

_OBJ = "Spec repo CRM/Objects/Rollouts/424/{v3,2026-03}/objects.json (reference §2.2)"
_PROP = "Spec repo CRM/Properties/Rollouts/145899/{v3,2026-03}/properties.json (reference §10.1, §16.6)"
_LABELS = "Spec repo CRM/Associations Schema/Rollouts/{50914,130902}/…/associationsSchema.json (§11.3)"
_READ = "Spec repo CRM/Associations/Rollouts/130902/{v4,2026-03}/associations.json (reference §16.5)"
_ACCOUNT = "Spec repo Account/Account Info/Rollouts/144923/{v3,2026-03}/accountInfo.json (reference §16.7)"
_BATCH = "Spec repo CRM/Associations/Rollouts/130902/{v4,2026-03}/associations.json, batch (reference §16.5)"
ASSOCIATION_BATCH_OPS = ("create", "associate/default", "archive", "labels/archive", "read")


def _paths() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for prefix in OBJECTS:
        base = f"{prefix}/{{objectType}}"
        for op in ("create", "read", "upsert", "update", "archive"):
            table[("POST", f"{base}/batch/{op}")] = _OBJ
        for method, path in (("POST", f"{base}/search"), ("GET", base), ("POST", base)):
            table[(method, path)] = _OBJ
        for method in ("GET", "PATCH", "DELETE"):
            table[(method, f"{base}/{{objectId}}")] = _OBJ
    for prefix in PROPERTIES:
        table[("GET", f"{prefix}/{{objectType}}")] = _PROP
        table[("POST", f"{prefix}/{{objectType}}")] = _PROP
        table[("GET", f"{prefix}/{{objectType}}/{{propertyName}}")] = _PROP
    for prefix in LABELS:
        table[("GET", f"{prefix}/{{fromObjectType}}/{{toObjectType}}/labels")] = _LABELS
    for prefix in ASSOCIATION_READS:
        table[("GET", f"{prefix}/{{objectType}}/{{objectId}}/associations/{{toObjectType}}")] = _READ
    for prefix in ACCOUNT:
        table[("GET", f"{prefix}/details")] = _ACCOUNT
    for prefix in ASSOCIATION_BATCHES:
        for op in ASSOCIATION_BATCH_OPS:
            table[("POST", f"{prefix}/{{fromObjectType}}/{{toObjectType}}/batch/{op}")] = _BATCH
    return table


#: (method, path template) of HubSpot's endpoints that the sandbox may serve, with their source
HUBSPOT_PATHS = _paths()

TOKENS = (
    TokenConfig("sandbox-token"),
    TokenConfig("read-only", frozenset({"crm.objects.contacts.read"})),
    TokenConfig("limited"),
    TokenConfig("deals-only", frozenset({"crm.objects.deals.read"})),
)


CREATED = "BatchResponseSimplePublicObject"
PARTIAL = "BatchResponseSimplePublicObjectWithErrors"
MISSING_IDS = "BatchResponseSimplePublicObjectWithMissingIds"


def _contact_input(email: str, **extra: Any) -> dict[str, Any]:
    return {"properties": {"email": email}, **extra}


def _batch(
    prefix: str, name: str, op: str, status: int, schema_name: str | None, body: Any, **kw: Any
) -> Case:
    """A case for ``POST {prefix}/contacts/batch/{op}``."""
    template, path = f"{prefix}/{{objectType}}/batch/{op}", f"{prefix}/contacts/batch/{op}"
    return Case(name, "POST", template, path, status, schema_name, body, **kw)


def _create_cases(prefix: str) -> list[Case]:
    traced = [_contact_input("n1@example.com", objectWriteTraceId="t1")]
    traced.append({"properties": {"email": "n2@example.com", "nope": "x"}, "objectWriteTraceId": "t2"})
    new = {"inputs": [_contact_input("new@example.com")]}
    bad = {"inputs": [{"properties": {"email": "x@example.com", "nope": "1"}}]}
    upsert = {"id": "new@example.com", "idProperty": "email", "properties": {"firstname": "N"}}
    upsert_broken = {"id": "broken", "idProperty": "email", "properties": {}, "objectWriteTraceId": "u2"}
    upserted = "BatchResponseSimplePublicUpsertObject"
    limited = {"rate_limit_per_10s": 5, "rate_limit_window_ms": 600_000}
    return [
        _batch(prefix, "batch create", "create", 201, CREATED, new),
        _batch(prefix, "batch create 207", "create", 207, PARTIAL, {"inputs": traced}),
        _batch(prefix, "batch create 400", "create", 400, "Error", bad),
        _batch(prefix, "batch create malformed", "create", 400, "Error", None, raw=b"{"),
        _batch(
            prefix,
            "batch create 409",
            "create",
            409,
            "Error",
            {"inputs": [_contact_input("ann@example.com")]},
        ),
        _batch(
            prefix,
            "batch create 401",
            "create",
            401,
            "Error",
            new,
            token=None,
            headers=("X-HubSpot-Auth-Failure",),
        ),
        _batch(prefix, "batch create 403", "create", 403, "Error", new, token="read-only"),
        _batch(
            prefix,
            "batch create 429",
            "create",
            429,
            "RateLimitError",
            new,
            token="limited",
            config=limited,
            repeat_first=5,
        ),
        _batch(prefix, "batch upsert", "upsert", 200, upserted, {"inputs": [upsert]}),
        _batch(
            prefix,
            "batch upsert 207",
            "upsert",
            207,
            f"{upserted}WithErrors",
            {"inputs": [{**upsert, "objectWriteTraceId": "u1"}, upsert_broken]},
        ),
        _batch(
            prefix,
            "batch upsert 400",
            "upsert",
            400,
            "Error",
            {"inputs": [{**upsert, "idProperty": "firstname"}]},
        ),
    ]


def _sync_cases(prefix: str) -> list[Case]:
    """Batch read, update and archive: the endpoints a sync uses besides create (reference §16.1-§16.4)."""
    read = {"inputs": [{"id": "{contact}"}], "properties": ["email"], "propertiesWithHistory": ["email"]}
    read_missing = {"inputs": [{"id": "{contact}"}, {"id": "{missing}"}], "properties": []}
    read_archived = {"inputs": [{"id": "{archived}"}], "properties": ["email"]}
    non_unique = {"inputs": [{"id": "x"}], "idProperty": "firstname", "properties": []}
    update = {"id": "{contact}", "properties": {"firstname": "Z"}}
    update_bad = {"id": "{contact2}", "properties": {"nope": "1"}}
    traced = {"inputs": [{**update, "objectWriteTraceId": "a"}, {**update_bad, "objectWriteTraceId": "b"}]}
    missing = {"inputs": [update, {"id": "{missing}", "properties": {"firstname": "Y"}}]}
    twice = {"inputs": [update, {**update, "properties": {"lastname": "Y"}}]}
    taken = {"inputs": [{"id": "{contact}", "properties": {"email": "bo@example.com"}}]}
    by_email = {
        "inputs": [{"id": "ANN@example.com", "idProperty": "email", "properties": {"firstname": "A"}}]
    }
    by_name = {"inputs": [{"id": "Ann", "idProperty": "firstname", "properties": {}}]}
    unknown = {"inputs": [{"id": "{missing}"}, {"id": "x"}]}
    archived_read = Case(
        "batch read archived",
        "POST",
        f"{prefix}/{{objectType}}/batch/read",
        f"{prefix}/contacts/batch/read?archived=true",
        200,
        CREATED,
        read_archived,
    )
    return [
        _batch(prefix, "batch read", "read", 200, CREATED, read),
        _batch(prefix, "batch read 207", "read", 207, MISSING_IDS, read_missing),
        archived_read,
        _batch(prefix, "batch read 400", "read", 400, "Error", non_unique),
        _batch(prefix, "batch update", "update", 200, CREATED, {"inputs": [update]}),
        _batch(prefix, "batch update 207", "update", 207, PARTIAL, traced),
        _batch(prefix, "batch update 400", "update", 400, "Error", {"inputs": [update_bad]}),
        _batch(prefix, "batch update missing id", "update", 207, MISSING_IDS, missing),
        _batch(prefix, "batch update same id twice", "update", 400, "DuplicateIdsError", twice),
        _batch(prefix, "batch update unique value taken", "update", 409, "Error", taken),
        _batch(prefix, "batch update by email", "update", 200, CREATED, by_email),
        _batch(prefix, "batch update non-unique idProperty", "update", 400, "Error", by_name),
        _batch(prefix, "batch archive", "archive", 204, None, {"inputs": [{"id": "{contact}"}]}),
        _batch(prefix, "batch archive unknown ids", "archive", 204, None, unknown),
        _batch(prefix, "batch archive 400", "archive", 400, "Error", {"x": 1}),
    ]


def _record_cases(prefix: str) -> list[Case]:
    base, t = f"{prefix}/{{objectType}}", f"{prefix}/contacts"
    one = f"{base}/{{objectId}}"
    search = {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "ann@example.com"}]}
        ],
        "properties": ["email"],
        "limit": 10,
        "after": "0",
        "sorts": [],
    }
    get_path = f"{t}/{{contact}}?associations=companies&properties=email,never_defined"
    listed = "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging"
    one_contact = _contact_input("one@example.com")
    return [
        Case(
            "search",
            "POST",
            f"{base}/search",
            f"{t}/search",
            200,
            "CollectionResponseWithTotalSimplePublicObject",
            search,
        ),
        Case("search 400", "POST", f"{base}/search", f"{t}/search", 400, "Error", {"limit": "many"}),
        Case("list", "GET", base, f"{t}?limit=1&associations=companies", 200, listed),
        Case("list 400", "GET", base, f"{t}?limit=abc", 400, "Error"),
        Case("list unknown type", "GET", base, f"{prefix}/widgets", 400, "Error"),
        Case("create", "POST", base, t, 201, "SimplePublicObject", one_contact, headers=("Location",)),
        Case("create 400", "POST", base, t, 400, "Error", {"properties": {"email": "not-an-email"}}),
        Case("create 409", "POST", base, t, 409, "Error", _contact_input("ann@example.com")),
        Case("get", "GET", one, get_path, 200, "SimplePublicObjectWithAssociations"),
        Case("get 404", "GET", one, f"{t}/{{missing}}", 404, "Error"),
        Case(
            "update",
            "PATCH",
            one,
            f"{t}/{{contact}}",
            200,
            "SimplePublicObject",
            {"properties": {"lastname": "Y"}},
        ),
        Case("update 400", "PATCH", one, f"{t}/{{contact}}", 400, "Error", {"properties": {"nope": "1"}}),
        Case("update 404", "PATCH", one, f"{t}/{{missing}}", 404, "Error", {"properties": {"lastname": "Y"}}),
        Case("archive", "DELETE", one, f"{t}/{{contact}}", 204, None),
        Case("archive 403", "DELETE", one, f"{t}/{{contact}}", 403, "Error", token="read-only"),
    ]


def _object_cases(prefix: str) -> list[Case]:
    return [*_create_cases(prefix), *_sync_cases(prefix), *_record_cases(prefix)]


def _property_cases(prefix: str) -> list[Case]:
    base, t = f"{prefix}/{{objectType}}", f"{prefix}/contacts"
    new = {
        "name": "loyalty_tier",
        "label": "Loyalty tier",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
        "description": "From the warehouse",
    }
    without_field_type = {k: v for k, v in new.items() if k != "fieldType"}
    return [
        Case("properties", "GET", base, t, 200, "CollectionResponsePropertyNoPaging"),
        Case("properties 400", "GET", base, f"{prefix}/widgets", 400, "Error"),
        Case("properties 403", "GET", base, f"{prefix}/companies", 403, "Error", token="read-only"),
        Case("property", "GET", f"{base}/{{propertyName}}", f"{t}/email", 200, "Property"),
        Case("property 404", "GET", f"{base}/{{propertyName}}", f"{t}/never_defined", 404, "Error"),
        Case("property create", "POST", base, t, 201, "Property", new, headers=("Location",)),
        Case("property create 400", "POST", base, t, 400, "Error", without_field_type),
        Case("property create 409", "POST", base, t, 409, "Error", {**new, "name": "email"}),
        Case("property create 403", "POST", base, t, 403, "Error", new, token="read-only"),
    ]


CASES = [
    *(c for prefix in OBJECTS for c in _object_cases(prefix)),
    *(c for prefix in PROPERTIES for c in _property_cases(prefix)),
    *association_cases(),
    *(c for prefix in ASSOCIATION_BATCHES for c in association_batch_cases(prefix)),
]


def _world(sb: SandboxHandle) -> dict[str, str]:
    """The ids the cases' paths and bodies use.

    A company, a contact associated with it (primary), a second contact without associations and an
    archived contact.
    """
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.token}"
    company = session.post(
        f"{sb.base_url}/crm/v3/objects/companies", json={"properties": {"name": "Acme"}}, timeout=10
    ).json()["id"]
    link = {
        "to": {"id": company},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    }
    contact = session.post(
        f"{sb.base_url}/crm/v3/objects/contacts",
        json={"properties": {"email": "ann@example.com"}, "associations": [link]},
        timeout=10,
    ).json()["id"]
    others = [
        session.post(
            f"{sb.base_url}/crm/v3/objects/contacts", json={"properties": {"email": email}}, timeout=10
        ).json()["id"]
        for email in ("bo@example.com", "cy@example.com")
    ]
    session.post(
        f"{sb.base_url}/crm/v3/objects/contacts/batch/archive",
        json={"inputs": [{"id": others[1]}]},
        timeout=10,
    )
    return {
        "company": company,
        "contact": contact,
        "contact2": others[0],
        "archived": others[1],
        "missing": "999999999",
    }


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _send(sb: SandboxHandle, case: Case, ids: dict[str, str]) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if case.token is not None:
        headers["Authorization"] = f"Bearer {case.token}"
    data = case.raw if case.raw is not None else None
    if case.body is not None:
        data = json.dumps(_fill(case.body, ids)).encode()
    url = sb.base_url + case.path.format(**ids)
    return requests.request(case.method, url, data=data, headers=headers, timeout=10)


def test_every_served_route_is_one_of_hubspots_paths() -> None:
    served = {(r.method, r.template) for r in ROUTES}
    assert served - set(HUBSPOT_PATHS) == set()


def test_the_contract_covers_every_served_route_with_success_and_errors() -> None:
    served = {(r.method, r.template) for r in ROUTES}
    successes = {(c.method, c.template) for c in CASES if c.status < 300}
    errors_ = {(c.method, c.template) for c in CASES if c.status >= 400}
    assert served <= successes
    assert served <= errors_
    assert {c.status for c in CASES} >= {200, 201, 204, 207, 400, 401, 403, 404, 409, 429}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.path} {c.status} ({c.name})" for c in CASES])
def test_answer_matches_the_contract(sandbox_factory: Factory, case: Case) -> None:
    sb = sandbox_factory(tokens=TOKENS, shuffle_results=False, **case.config)
    ids = _world(sb)
    for _ in range(case.repeat_first):
        _send(sb, case, ids)
    response = _send(sb, case, ids)
    assert response.status_code == case.status, response.text
    for header in case.headers:
        assert response.headers.get(header), header
    if case.schema is None:
        assert response.content == b""
        return
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    body = response.json()
    jsonschema.validate(body, schema(case.schema))
    if case.error:
        assert body["correlationId"] == response.headers["X-HubSpot-Correlation-Id"]
    rate_headers = [h for h in response.headers if h.lower().startswith("x-hubspot-ratelimit-")]
    expect_rate_headers = case.token in ("sandbox-token", "read-only", "limited", "deals-only")
    expect_rate_headers = expect_rate_headers and not case.path.endswith("/search")
    assert bool(rate_headers) == expect_rate_headers, response.headers
