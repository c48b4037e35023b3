"""HubSpotClient under rate limits, server errors, scope errors and commit-then-fail faults."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from hubspot_loader.core.model import CREATED, FAILED, RATE_LIMIT_DAILY, RECONCILED, BatchOutcome
from hubspot_loader.errors import HubSpotRateLimitError, HubSpotScopeError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import FaultConfig
from hubspot_loader.sandbox.config import TokenConfig

from .conftest import FAST_RETRY, contacts, rows_of, stored_emails


def client_for(sandbox: Any, **settings: Any) -> HubSpotClient:
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("timeout", (2.0, 10.0))
    return HubSpotClient(sandbox.token, base_url=sandbox.base_url, settings=ClientSettings(**settings))


def assert_exactly_once(sandbox: Any, outcomes: list[BatchOutcome], n: int) -> None:
    rows = rows_of(outcomes)
    assert len(rows) == n
    assert all(r.status in (CREATED, RECONCILED) and r.hubspot_id for r in rows), [
        r for r in rows if r.status == FAILED
    ][:3]
    counts = stored_emails(sandbox)
    assert len(counts) == n and set(counts.values()) == {1}
    ids = {str(o["id"]): str(o["properties"]["email"]).lower() for o in sandbox.objects("contacts")}
    assert len({r.hubspot_id for r in rows}) == n
    assert all(r.hubspot_id in ids for r in rows)


def test_403_missing_scope_raises_with_required_scopes(sandbox_factory: Any) -> None:
    tokens = (
        TokenConfig("sandbox-token"),
        TokenConfig("read-only", scopes=frozenset({"crm.objects.contacts.read"})),
    )
    sandbox = sandbox_factory(tokens=tokens)
    client = HubSpotClient("read-only", base_url=sandbox.base_url, settings=ClientSettings(retry=FAST_RETRY))
    with pytest.raises(HubSpotScopeError) as caught:
        list(client.batch_create("contacts", contacts(3, "scope")))
    exc = caught.value
    assert exc.status == 403 and "crm.objects.contacts.write" in exc.required_scopes
    assert "required scopes" in str(exc) and "read-only" not in str(exc)


def test_small_server_limit_is_respected_without_losing_rows(sandbox_factory: Any) -> None:
    # The client is told 1000/10s but the server allows 4 per 500 ms: the limiter must adapt.
    sandbox = sandbox_factory(rate_limit_per_10s=4, rate_limit_window_ms=500)
    client = client_for(sandbox, requests_per_10s=1000, max_in_flight=4, batch_size=2)
    started = time.monotonic()
    outcomes = list(client.batch_create("contacts", contacts(24, "rl")))
    elapsed = time.monotonic() - started
    assert_exactly_once(sandbox, outcomes, 24)
    counters = sandbox.counters()
    assert elapsed >= 1.0  # 12 requests at 4 per 0.5 s need at least 1 s
    rate_limited = counters.get("rate_limited", 0)
    assert rate_limited <= 4, counters  # at most the first burst before headers were seen
    assert sum(o.record.requests for o in outcomes) == 12 + rate_limited


def test_injected_429_bursts_are_retried(sandbox_factory: Any) -> None:
    faults = FaultConfig(rate_limit_burst_rate=0.3, rate_limit_burst_length=2, seed=3)
    sandbox = sandbox_factory(rate_limit_window_ms=300, faults=faults)
    client = client_for(sandbox, max_in_flight=2, batch_size=5)
    outcomes = list(client.batch_create("contacts", contacts(40, "burst")))
    assert_exactly_once(sandbox, outcomes, 40)
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sandbox.counters()["rate_limited"] >= 1


def test_daily_limit_raises_after_yielding_finished_batches(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(daily_limit=2)
    client = client_for(sandbox, max_in_flight=1, batch_size=5)
    seen: list[BatchOutcome] = []
    with pytest.raises(HubSpotRateLimitError) as caught:
        for outcome in client.batch_create("contacts", contacts(30, "daily")):
            seen.append(outcome)
    exc = caught.value
    assert exc.daily and not exc.retryable
    assert "kept" in str(exc) and "10 row(s) created in 2 batch(es)" in str(exc)
    created = [o for o in seen if o.record.created]
    assert len(created) == 2 and all(r.status == CREATED for o in created for r in o.rows)
    stopped = [o for o in seen if not o.record.created]
    assert len(stopped) == 1
    assert all(
        r.status == FAILED and r.error is not None and r.error.category == RATE_LIMIT_DAILY
        for r in stopped[0].rows
    )
    assert len(stored_emails(sandbox)) == 10


def test_5xx_are_retried_and_each_row_created_once(sandbox_factory: Any) -> None:
    faults = FaultConfig(error_rate=0.4, error_statuses=(500, 503, 524), seed=11)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=3, batch_size=4)
    outcomes = list(client.batch_create("contacts", contacts(40, "5xx"), unique_property="email"))
    assert_exactly_once(sandbox, outcomes, 40)
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sum(1 for o in outcomes if o.record.http_status == 201) == len(outcomes)


def test_commit_then_drop_reconciled_by_email_without_duplicates(sandbox_factory: Any) -> None:
    faults = FaultConfig(drop_after_commit_rate=0.4, seed=5)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=3, batch_size=5)
    outcomes = list(client.batch_create("contacts", contacts(50, "drop"), unique_property="email"))
    assert_exactly_once(sandbox, outcomes, 50)
    reconciled = [r for r in rows_of(outcomes) if r.status == RECONCILED]
    assert reconciled
    assert sum(o.record.reconciled for o in outcomes) == len(reconciled)
    warnings = [w for o in outcomes for w in o.record.warnings]
    by_read = sum(int(m.group(1)) for w in warnings if (m := re.search(r"reconciled (\d+) row", w)))
    assert by_read == len(reconciled)  # found by reading back, not by resending
    assert "409" not in sandbox.counters()["by_status"]  # committed rows were never resent


def test_commit_then_hang_reconciled_by_email_without_duplicates(sandbox_factory: Any) -> None:
    # the read timeout (3 s) is far above an ordinary answer even on a loaded machine, and far below the hang
    faults = FaultConfig(hang_after_commit_rate=0.3, hang_seconds=6.0, seed=7)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=4, batch_size=5, timeout=(5.0, 3.0))
    outcomes = list(client.batch_create("contacts", contacts(30, "hang"), unique_property="email"))
    assert_exactly_once(sandbox, outcomes, 30)
    assert any(r.status == RECONCILED for r in rows_of(outcomes))
    assert "409" not in sandbox.counters()["by_status"]


def test_commit_then_drop_without_unique_property_resends_and_resolves_409(sandbox_factory: Any) -> None:
    # Contacts have a unique email, so the resend answers 409 naming the row's own earlier create;
    # the client knows it sent that row unacknowledged and records it as reconciled, with a warning.
    faults = FaultConfig(drop_after_commit_rate=0.3, seed=2)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=1, batch_size=4)
    outcomes = list(client.batch_create("contacts", contacts(24, "nouniq")))
    assert_exactly_once(sandbox, outcomes, 24)
    assert any(r.status == RECONCILED for r in rows_of(outcomes))
    assert any("duplicates are possible" in w for o in outcomes for w in o.record.warnings)


def test_ambiguous_failure_can_fail_instead_of_resending(sandbox_factory: Any) -> None:
    faults = FaultConfig(drop_after_commit_rate=1.0, seed=1)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, resend_ambiguous=False, batch_size=3)
    (outcome,) = list(client.batch_create("contacts", contacts(3, "noresend")))
    assert outcome.record.requests == 1
    assert all(
        r.status == FAILED and r.error is not None and "may exist" in r.error.message for r in outcome.rows
    )
    assert len(stored_emails(sandbox)) == 3  # they were in fact committed: the message was right
