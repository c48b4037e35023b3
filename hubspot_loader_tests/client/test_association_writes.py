"""Creating and removing associations of existing records, over real HTTP against the sandbox (§16.5)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from hubspot_loader.core.model import (
    CREATED,
    RATE_LIMIT_DAILY,
    AssociationChange,
    PreparedInput,
)
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotScopeError
from hubspot_loader.http.association_writes import (
    ASSOCIATION_BATCH_SIZE,
    association_batch_path,
    create_associations,
    remove_associations,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import FaultConfig
from hubspot_loader.sandbox.config import TokenConfig

from .conftest import FAST_RETRY, rows_of

CONTACT_TO_COMPANY = 279
"""HubSpot-defined unlabelled contact → company type (reference §11.1)."""
CONTACT_TO_PRIMARY_COMPANY = 1
CONTACT_TO_DEAL = 4
DEFINED = "HUBSPOT_DEFINED"

_serial = itertools.count()


def client_for(sandbox: Any, token: str | None = None, **settings: Any) -> HubSpotClient:
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("timeout", (2.0, 10.0))
    settings_ = ClientSettings(**settings)
    return HubSpotClient(token or sandbox.token, base_url=sandbox.base_url, settings=settings_)


def make(client: HubSpotClient, object_type: str, n: int, **props: str) -> list[str]:
    """Create ``n`` records of ``object_type`` through the client; return their ids in order."""
    tag = next(_serial)
    inputs = [
        PreparedInput(
            position=i,
            key=f"{object_type}-{tag}-{i}",
            trace_id=f"tr-{object_type}-{tag}-{i}",
            properties={name: f"{value} {tag}-{i}" for name, value in props.items()},
        )
        for i in range(n)
    ]
    rows = rows_of(list(client.batch_create(object_type, inputs)))
    assert [r.status for r in rows] == [CREATED] * n
    return [str(r.hubspot_id) for r in rows]


def contacts(client: HubSpotClient, n: int) -> list[str]:
    return make(client, "contacts", n, firstname="F")


def companies(client: HubSpotClient, n: int) -> list[str]:
    return make(client, "companies", n, name="Acme")


def change(
    from_id: str,
    to_id: str,
    type_id: int = CONTACT_TO_COMPANY,
    *,
    to_type: str = "companies",
    category: str = DEFINED,
) -> AssociationChange:
    return AssociationChange(
        key=f"key-{from_id}",
        from_id=from_id,
        to_object_type=to_type,
        to_id=to_id,
        type_id=type_id,
        category=category,
    )


def stored_types(sandbox: Any, object_type: str, record_id: str, to_type: str) -> dict[str, list[int]]:
    """Target id → association type ids the sandbox holds from one record to ``to_type``."""
    stored = sandbox.get_object(object_type, record_id)
    assert stored is not None
    return {
        a["toObjectId"]: sorted(a["associationTypeIds"])
        for a in stored["associations"]
        if a["toObjectType"] == to_type
    }


def read_types(client: HubSpotClient, record_id: str, to_type: str) -> dict[str, list[int]]:
    """The same, read through HubSpot's association read endpoint with the client."""
    path = f"{client.objects_root('contacts')}/{record_id}/associations/{to_type}"
    answer = client.read_request("GET", path, what="associations read")
    return {
        str(r["toObjectId"]): sorted(t["typeId"] for t in r["associationTypes"])
        for r in answer.body["results"]
    }


def test_paths_follow_the_client_api_version(sandbox: Any) -> None:
    dated = client_for(sandbox)
    legacy = client_for(sandbox, api_version="v3")
    assert association_batch_path(dated, "contacts", "companies", "create") == (
        "/crm/associations/2026-03/contacts/companies/batch/create"
    )
    assert association_batch_path(legacy, "contacts", "p_my vendor", "labels/archive") == (
        "/crm/v4/associations/contacts/p_my%20vendor/batch/labels/archive"
    )


def test_creates_contact_to_company_associations(sandbox: Any) -> None:
    client = client_for(sandbox)
    people, firms = contacts(client, 3), companies(client, 2)
    changes = [change(people[0], firms[0]), change(people[1], firms[0]), change(people[2], firms[1])]
    writes = create_associations(client, "contacts", changes)
    assert writes.done == changes and writes.failed == [] and writes.requests == 1
    for c in changes:
        assert stored_types(sandbox, "contacts", c.from_id, "companies") == {c.to_id: [CONTACT_TO_COMPANY]}
        assert read_types(client, c.from_id, "companies") == {c.to_id: [CONTACT_TO_COMPANY]}
    # HubSpot keeps the inverse (company → contact 280) too
    assert stored_types(sandbox, "companies", firms[0], "contacts") == {people[0]: [280], people[1]: [280]}
    again = create_associations(client, "contacts", changes)  # idempotent: nothing changes
    assert again.done == changes and again.failed == []
    assert sandbox.counters()["associations_created"] == 3


def test_removes_only_the_listed_type(sandbox: Any) -> None:
    client = client_for(sandbox)
    people, firms = contacts(client, 2), companies(client, 1)
    primary = [change(p, firms[0], CONTACT_TO_PRIMARY_COMPANY) for p in people]
    created = create_associations(client, "contacts", [*primary, *(change(p, firms[0]) for p in people)])
    assert created.failed == []
    assert stored_types(sandbox, "contacts", people[0], "companies") == {firms[0]: [1, 279]}
    removed = remove_associations(client, "contacts", [primary[0]])
    assert removed.done == [primary[0]] and removed.failed == [] and removed.requests == 1
    assert read_types(client, people[0], "companies") == {firms[0]: [CONTACT_TO_COMPANY]}
    assert stored_types(sandbox, "contacts", people[1], "companies") == {firms[0]: [1, 279]}
    # the unlabelled type goes with every labelled one of the pair (§16.5)
    gone = remove_associations(client, "contacts", [change(people[1], firms[0])])
    assert gone.failed == [] and stored_types(sandbox, "contacts", people[1], "companies") == {}
    # removing what is not there is no error
    assert remove_associations(client, "contacts", [primary[0]]).done == [primary[0]]


def test_remove_on_the_legacy_api_accepts_204(sandbox: Any) -> None:
    client = client_for(sandbox)
    people, firms = contacts(client, 1), companies(client, 1)
    assert create_associations(client, "contacts", [change(people[0], firms[0])]).failed == []
    legacy = client_for(sandbox, api_version="v3")
    removed = remove_associations(legacy, "contacts", [change(people[0], firms[0])])
    assert removed.done == [change(people[0], firms[0])] and removed.failed == []
    assert sandbox.counters()["by_status"].get("204") == 1
    assert stored_types(sandbox, "contacts", people[0], "companies") == {}


def test_missing_target_fails_with_hubspots_message_and_the_others_are_done(sandbox: Any) -> None:
    client = client_for(sandbox)
    people, firms = contacts(client, 3), companies(client, 1)
    good = [change(people[0], firms[0]), change(people[2], firms[0])]
    missing = change(people[1], "99999999999")
    wrong_type = change(people[2], firms[0], 341)  # deal → company: no contact → company type
    writes = create_associations(client, "contacts", [good[0], missing, good[1], wrong_type])
    assert writes.done == good
    failures = dict(writes.failed)
    assert list(failures) == [missing, wrong_type]
    error = failures[missing]
    assert error.category == "VALIDATION_ERROR" and error.http_status == 207
    assert "One or more associations are invalid" in error.message and "99999999999" in error.message
    assert "341 is not a valid association type" in failures[wrong_type].message
    assert stored_types(sandbox, "contacts", people[0], "companies") == {firms[0]: [279]}
    assert stored_types(sandbox, "contacts", people[1], "companies") == {}
    assert stored_types(sandbox, "contacts", people[2], "companies") == {firms[0]: [279]}


def test_changes_beyond_one_request_are_split_per_target_type(sandbox: Any) -> None:
    client = client_for(sandbox)
    n = ASSOCIATION_BATCH_SIZE + 50
    people, firms = contacts(client, n), companies(client, 2)
    deals = make(client, "deals", 2, dealname="Deal")
    changes = [change(p, firms[i % 2]) for i, p in enumerate(people)]
    changes.insert(7, change(people[0], deals[0], CONTACT_TO_DEAL, to_type="deals"))
    changes.append(change(people[1], deals[1], CONTACT_TO_DEAL, to_type="deals"))
    before = sandbox.counters()["by_route"]
    writes = create_associations(client, "contacts", changes)
    assert writes.failed == [] and writes.done == changes and writes.requests == 3
    routes = sandbox.counters()["by_route"]
    assert routes["POST associations/batch/create"] - before.get("POST associations/batch/create", 0) == 3
    assert sandbox.counters()["associations_created"] == n + 2
    assert stored_types(sandbox, "contacts", people[-1], "companies") == {firms[(n - 1) % 2]: [279]}
    assert stored_types(sandbox, "contacts", people[0], "deals") == {deals[0]: [CONTACT_TO_DEAL]}
    removed = remove_associations(client, "contacts", changes)
    assert removed.failed == [] and removed.requests == 3
    assert sandbox.counters()["associations_archived"] == n + 2


def test_a_429_is_retried_and_written_exactly_once(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(rate_limit_window_ms=300)
    client = client_for(sandbox)
    people, firms = contacts(client, 4), companies(client, 1)
    # seed 1 draws 0.134 then 0.847: the first association write gets a 429, its retry passes
    sandbox.set_faults(FaultConfig(rate_limit_burst_rate=0.5, rate_limit_burst_length=1, seed=1))
    changes = [change(p, firms[0]) for p in people]
    writes = create_associations(client, "contacts", changes)
    assert writes.done == changes and writes.failed == [] and writes.requests == 2
    counters = sandbox.counters()
    assert counters["faults"].get("rate_limit_burst") == 1
    assert counters["by_route"]["POST associations/batch/create"] == 2
    assert counters["associations_created"] == len(people)
    assert stored_types(sandbox, "companies", firms[0], "contacts") == {p: [280] for p in people}


def test_a_whole_request_400_fails_its_changes_and_the_next_request_is_sent(sandbox: Any) -> None:
    client = client_for(sandbox)
    people, firms = contacts(client, 2), companies(client, 1)
    deals = make(client, "deals", 1, dealname="Deal")
    bad = change(people[0], firms[0], category="NOT_A_CATEGORY")
    fine = change(people[1], deals[0], CONTACT_TO_DEAL, to_type="deals")
    writes = create_associations(client, "contacts", [bad, fine])
    assert writes.done == [fine] and writes.requests == 2
    [(failed, error)] = writes.failed
    assert failed == bad
    assert error.category == "VALIDATION_ERROR" and error.http_status == 400
    assert "AssociationCategory" in error.message
    assert stored_types(sandbox, "contacts", people[1], "deals") == {deals[0]: [CONTACT_TO_DEAL]}


def test_the_daily_limit_fails_the_rest_without_sending_it(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(daily_limit=4)
    client = client_for(sandbox)
    people = contacts(client, 2)
    firms = companies(client, ASSOCIATION_BATCH_SIZE + 1)  # 3 requests so far
    changes = [change(p, f) for p in people for f in firms]  # 202 changes: 3 requests' worth
    writes = create_associations(client, "contacts", changes)
    assert writes.done == changes[:ASSOCIATION_BATCH_SIZE]
    assert [c for c, _e in writes.failed] == changes[ASSOCIATION_BATCH_SIZE:]
    assert {e.category for _c, e in writes.failed} == {RATE_LIMIT_DAILY}
    refused, not_sent = writes.failed[0][1], writes.failed[-1][1]
    assert refused.http_status == 429 and "not written" in refused.message
    assert not_sent.http_status is None and "not sent" in not_sent.message
    assert writes.requests == 2
    assert sandbox.counters()["associations_created"] == ASSOCIATION_BATCH_SIZE


def test_401_and_403_raise(sandbox_factory: Any) -> None:
    tokens = (
        TokenConfig("sandbox-token"),
        TokenConfig("deals-only", scopes=frozenset({"crm.objects.deals.read"})),
    )
    sandbox = sandbox_factory(tokens=tokens)
    client = client_for(sandbox)
    people, firms = contacts(client, 1), companies(client, 1)
    changes = [change(people[0], firms[0])]
    with pytest.raises(HubSpotScopeError):
        create_associations(client_for(sandbox, "deals-only"), "contacts", changes)
    with pytest.raises(HubSpotAuthenticationError):
        remove_associations(client_for(sandbox, "not-a-token"), "contacts", changes)
    assert stored_types(sandbox, "contacts", people[0], "companies") == {}


def test_no_changes_send_nothing(sandbox: Any) -> None:
    writes = create_associations(client_for(sandbox), "contacts", [])
    assert writes.done == [] and writes.failed == [] and writes.requests == 0
    assert sandbox.counters()["requests"] == 0
