"""HubSpotClient.batch_archive over real HTTP against the sandbox: 204s, nonexistent ids, retries, refusals.

Reference = ``shared/reference/hubspot-api.md`` (§16.4 batch/archive).
"""

from __future__ import annotations

from typing import Any

import pytest

from hubspot_loader.core.model import ARCHIVED, FAILED, BatchOutcome, RecordRef, RowOutcome
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotScopeError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import FaultConfig
from hubspot_loader.sandbox.config import TokenConfig

from .conftest import FAST_RETRY, contacts, rows_of


def client_for(sandbox: Any, token: str | None = None, **settings: Any) -> HubSpotClient:
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("timeout", (2.0, 10.0))
    return HubSpotClient(
        token or sandbox.token, base_url=sandbox.base_url, settings=ClientSettings(**settings)
    )


def created(sandbox: Any, n: int, tag: str) -> list[RecordRef]:
    """Create ``n`` contacts (no faults yet); return them as records to archive, keyed ``k0`` …"""
    rows = rows_of(list(client_for(sandbox).batch_create("contacts", contacts(n, tag))))
    return [RecordRef(key=r.key, hubspot_id=str(r.hubspot_id)) for r in rows]


def live_ids(sandbox: Any) -> set[str]:
    return {str(o["id"]) for o in sandbox.objects("contacts")}


def archived_ids(sandbox: Any) -> set[str]:
    return {str(o["id"]) for o in sandbox.objects("contacts", archived=True)}


def by_key(outcomes: list[BatchOutcome]) -> dict[str, RowOutcome]:
    rows = [r for o in outcomes for r in o.rows]
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)), "a row was counted twice"
    return {r.key: r for r in rows}


def assert_all_archived(sandbox: Any, outcomes: list[BatchOutcome], refs: list[RecordRef]) -> None:
    rows = by_key(outcomes)
    assert set(rows) == {r.key for r in refs}
    for ref in refs:
        row = rows[ref.key]
        assert row.status == ARCHIVED and row.hubspot_id == ref.hubspot_id and row.position == -1, row
        assert row.error is None and row.trace_id is None
    assert sum(o.record.updated for o in outcomes) == len(refs)
    assert all(o.record.created == 0 and o.record.failed == 0 for o in outcomes)
    ids = {r.hubspot_id for r in refs}
    assert not ids & live_ids(sandbox)
    assert ids <= archived_ids(sandbox)


def test_archive_of_several_batches_removes_the_records(sandbox: Any) -> None:
    refs = created(sandbox, 8, "arc")
    keep = created(sandbox, 2, "keep")
    client = client_for(sandbox, max_in_flight=2, batch_size=3)
    outcomes = list(client.batch_archive("contacts", iter(refs)))
    assert len(outcomes) == 3
    assert_all_archived(sandbox, outcomes, refs)
    assert live_ids(sandbox) == {r.hubspot_id for r in keep}
    assert sandbox.get_object("contacts", refs[0].hubspot_id) is None
    for outcome in outcomes:
        record = outcome.record
        assert record.endpoint == "archive" and record.http_status == 204
        assert record.status is None and record.started_at is None  # 204: no body, no batch times
        assert record.requests == 1 and record.retries == 0 and record.sent_at is not None
        assert record.updated == len(outcome.rows) == record.rows
        assert all(r.batch_index == record.index for r in outcome.rows)


def test_a_nonexistent_or_already_archived_id_is_archived_too(sandbox: Any) -> None:
    """Reference §16.4: 204 whatever the record's state (active, already archived, non-existent)."""
    (ref,) = created(sandbox, 1, "twice")
    client = client_for(sandbox)
    list(client.batch_archive("contacts", [ref]))
    ghost = RecordRef(key="ghost", hubspot_id="999999999")
    (outcome,) = list(client.batch_archive("contacts", [ref, ghost]))
    assert [(r.key, r.status, r.hubspot_id) for r in outcome.rows] == [
        (ref.key, ARCHIVED, ref.hubspot_id),
        ("ghost", ARCHIVED, "999999999"),
    ]
    assert outcome.record.http_status == 204 and outcome.record.updated == 2


def test_injected_5xx_and_429s_are_retried(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(rate_limit_window_ms=300)
    refs = created(sandbox, 24, "a5xx")
    faults = FaultConfig(error_rate=0.3, error_statuses=(500, 503, 524), rate_limit_burst_rate=0.2, seed=7)
    sandbox.set_faults(faults)
    # about 44 % of requests fail: patient retries, so that giving up (0.44^20 per batch) never happens
    patient = RetryPolicy(max_attempts=20, backoff_base_s=0.01, backoff_max_s=0.05, max_elapsed_s=120)
    client = client_for(sandbox, max_in_flight=3, batch_size=4, retry=patient)
    outcomes = list(client.batch_archive("contacts", refs))
    assert_all_archived(sandbox, outcomes, refs)
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sandbox.counters()["faults"]


def test_a_dropped_answer_is_resent_and_archived(sandbox: Any) -> None:
    refs = created(sandbox, 12, "adrop")
    sandbox.set_faults(FaultConfig(drop_after_commit_rate=0.4, seed=3))
    client = client_for(sandbox, max_in_flight=2, batch_size=3)
    outcomes = list(client.batch_archive("contacts", refs))
    assert_all_archived(sandbox, outcomes, refs)
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sandbox.counters()["faults"].get("drop", 0) >= 1


def test_a_failed_batch_fails_every_row_with_the_reason(sandbox: Any) -> None:
    refs = created(sandbox, 3, "aspent")
    sandbox.set_faults(FaultConfig(error_rate=1.0, error_statuses=(503,), seed=1))
    client = client_for(sandbox)
    (outcome,) = list(client.batch_archive("contacts", refs))
    assert outcome.record.requests == FAST_RETRY.max_attempts
    assert outcome.record.http_status == 503 and outcome.record.failed == 3 and outcome.record.updated == 0
    for row in outcome.rows:
        assert row.status == FAILED and row.position == -1 and row.error is not None
        assert row.error.http_status == 503 and "gave up after" in row.error.message
    sandbox.set_faults(FaultConfig())
    assert {r.hubspot_id for r in refs} <= live_ids(sandbox)


def test_401_raises_authentication_error(sandbox: Any) -> None:
    refs = created(sandbox, 2, "a401")
    with pytest.raises(HubSpotAuthenticationError):
        list(client_for(sandbox, token="not-a-token").batch_archive("contacts", refs))
    assert {r.hubspot_id for r in refs} <= live_ids(sandbox)


def test_403_missing_scope_raises(sandbox_factory: Any) -> None:
    tokens = (
        TokenConfig("sandbox-token"),
        TokenConfig("read-only", scopes=frozenset({"crm.objects.contacts.read"})),
    )
    sandbox = sandbox_factory(tokens=tokens)
    refs = created(sandbox, 2, "a403")
    with pytest.raises(HubSpotScopeError) as caught:
        list(client_for(sandbox, token="read-only").batch_archive("contacts", refs))
    assert caught.value.status == 403
