"""HubSpotClient.batch_update over real HTTP against the sandbox: matching, 207s, duplicates, retries, faults.

Reference = ``shared/reference/hubspot-api.md`` (§16.1 batch/update, §16.2 clearing, §5.3 207 rules).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from hubspot_loader.core.model import (
    FAILED,
    RATE_LIMIT_DAILY,
    UNMATCHED_RESULT,
    UPDATED,
    BatchOutcome,
    BatchRecord,
    RowOutcome,
    UpdateInput,
)
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotRateLimitError
from hubspot_loader.http.batch_state import BatchState, LoadState
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.http.sync_writer import UpdateWriter
from hubspot_loader.http.transport import Answer
from hubspot_loader.sandbox import FaultConfig

from .conftest import FAST_RETRY, contacts, rows_of

_serial = itertools.count()


def client_for(sandbox: Any, token: str | None = None, **settings: Any) -> HubSpotClient:
    settings.setdefault("retry", FAST_RETRY)
    settings.setdefault("timeout", (2.0, 10.0))
    return HubSpotClient(
        token or sandbox.token, base_url=sandbox.base_url, settings=ClientSettings(**settings)
    )


def created(sandbox: Any, n: int, tag: str) -> list[str]:
    """Create ``n`` contacts (no faults yet); return their ids in input order."""
    client = client_for(sandbox)
    rows = rows_of(list(client.batch_create("contacts", contacts(n, tag))))
    assert all(r.hubspot_id for r in rows)
    return [str(r.hubspot_id) for r in rows]


def change(position: int, hubspot_id: str, **props: str) -> UpdateInput:
    return UpdateInput(
        position=position,
        key=f"k{position}",
        trace_id=f"up-{next(_serial)}-{position}",
        hubspot_id=hubspot_id,
        properties=dict(props),
    )


def firstnames(ids: list[str], value: str) -> list[UpdateInput]:
    return [change(i, hid, firstname=f"{value}{i}") for i, hid in enumerate(ids)]


def stored(sandbox: Any, hubspot_id: str) -> dict[str, Any]:
    obj = sandbox.get_object("contacts", hubspot_id)
    assert obj is not None
    return dict(obj["properties"])


def by_position(outcomes: list[BatchOutcome]) -> dict[int, RowOutcome]:
    rows = rows_of(outcomes)
    positions = [r.position for r in rows]
    assert len(positions) == len(set(positions)), "a row was counted twice"
    return {r.position: r for r in rows}


def assert_all_updated(sandbox: Any, outcomes: list[BatchOutcome], ids: list[str], value: str) -> None:
    """Every input updated exactly once, with its own id, and the value is in the sandbox."""
    rows = by_position(outcomes)
    assert sorted(rows) == list(range(len(ids)))
    failed = [r for r in rows.values() if r.status != UPDATED]
    assert not failed, failed[:3]
    assert [rows[i].hubspot_id for i in range(len(ids))] == ids
    assert sum(o.record.updated for o in outcomes) == len(ids)
    assert all(o.record.created == 0 and o.record.failed == 0 for o in outcomes)
    for i, hid in enumerate(ids):
        assert stored(sandbox, hid)["firstname"] == f"{value}{i}"


def test_update_of_several_batches_changes_the_records(sandbox: Any) -> None:
    ids = created(sandbox, 12, "upd")
    client = client_for(sandbox, max_in_flight=2, batch_size=5)
    inputs = firstnames(ids, "G")
    outcomes = list(client.batch_update("contacts", iter(inputs)))
    assert len(outcomes) == 3
    assert_all_updated(sandbox, outcomes, ids, "G")
    assert {o.record.index for o in outcomes} == {0, 1, 2}
    by_trace = {r.trace_id: r for r in rows_of(outcomes)}
    assert set(by_trace) == {i.trace_id for i in inputs}
    for outcome in outcomes:
        record = outcome.record
        assert record.endpoint == "update" and record.http_status == 200 and record.status == "COMPLETE"
        assert record.requests == 1 and record.retries == 0 and record.splits == 0
        assert record.started_at is not None and record.completed_at is not None
        assert record.sent_at is not None and record.duration_s > 0
        assert all(r.batch_index == record.index for r in outcome.rows)
    assert stored(sandbox, ids[0])["email"] == "upd-0@example.com"  # what was not sent is kept


def test_the_new_path_and_the_body_sent(sandbox: Any) -> None:
    client = client_for(sandbox)
    assert client.objects_path("contacts", "update") == "/crm/objects/2026-03/contacts/batch/update"
    assert client.objects_path("contacts", "archive") == "/crm/objects/2026-03/contacts/batch/archive"
    (hid,) = created(sandbox, 1, "path")
    before = sandbox.counters()["requests"]
    (outcome,) = list(client.batch_update("contacts", [change(0, hid, firstname="P")]))
    assert outcome.rows[0].status == UPDATED
    assert sandbox.counters()["requests"] == before + 1


def test_an_empty_string_clears_a_value(sandbox: Any) -> None:
    """Reference §16.2: ``""`` clears a value; a cleared value reads back as ``""``."""
    client = client_for(sandbox)
    (hid,) = created(sandbox, 1, "clear")
    assert stored(sandbox, hid)["firstname"] == "F0"
    (outcome,) = list(client.batch_update("contacts", [change(0, hid, firstname="", lastname="L")]))
    assert outcome.rows[0].status == UPDATED
    props = stored(sandbox, hid)
    assert props["firstname"] in ("", None) and props["lastname"] == "L"


def test_a_nonexistent_id_fails_that_row_only(sandbox: Any) -> None:
    """Reference §16.1: 207 ``OBJECT_NOT_FOUND`` naming the missing id; the other inputs are updated."""
    ids = created(sandbox, 3, "nf")
    client = client_for(sandbox)
    inputs = [*firstnames(ids, "N"), change(3, "999999999", firstname="ghost")]
    (outcome,) = list(client.batch_update("contacts", inputs))
    rows = by_position([outcome])
    assert [rows[i].status for i in range(3)] == [UPDATED] * 3
    ghost = rows[3]
    assert ghost.status == FAILED and ghost.error is not None and ghost.key == "k3"
    assert ghost.error.category == "OBJECT_NOT_FOUND" and ghost.error.http_status == 207
    assert "may be deleted or not exist" in ghost.error.message
    assert outcome.record.http_status == 207 and outcome.record.updated == 3 and outcome.record.failed == 1
    assert stored(sandbox, ids[1])["firstname"] == "N1"


def test_results_without_trace_ids_are_matched_by_record_id(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(echo_trace_ids=False)
    ids = created(sandbox, 6, "noecho")
    client = client_for(sandbox, batch_size=3)
    inputs = [*firstnames(ids, "E"), change(6, "999999998", firstname="ghost")]
    rows = by_position(list(client.batch_update("contacts", inputs)))
    assert [rows[i].hubspot_id for i in range(6)] == ids
    assert all(rows[i].status == UPDATED for i in range(6))
    assert rows[6].status == FAILED and rows[6].error is not None
    assert rows[6].error.category == "OBJECT_NOT_FOUND"


def test_duplicate_ids_fail_those_rows_with_hubspots_message(sandbox: Any) -> None:
    """Reference §16.1: the same id twice fails the whole batch with 400 ``Duplicate IDs found in batch
    input``. Those inputs fail with HubSpot's message (never split apart, where each would succeed); the
    other inputs of the batch are resent and updated."""
    ids = created(sandbox, 4, "dup")
    client = client_for(sandbox)
    inputs = [
        change(0, ids[0], firstname="D0"),
        change(1, ids[1], firstname="D1"),
        change(2, ids[0], firstname="D2"),
        change(3, ids[2], firstname="D3"),
    ]
    (outcome,) = list(client.batch_update("contacts", inputs))
    rows = by_position([outcome])
    for i in (0, 2):
        error = rows[i].error
        assert rows[i].status == FAILED and error is not None
        assert error.message.startswith("Duplicate IDs found in batch input") and ids[0] in error.message
        assert error.category == "VALIDATION_ERROR" and error.http_status == 400
    assert rows[1].status == UPDATED and rows[3].status == UPDATED
    assert stored(sandbox, ids[0])["firstname"] == "F0"  # neither duplicate was written
    assert stored(sandbox, ids[1])["firstname"] == "D1" and stored(sandbox, ids[2])["firstname"] == "D3"
    record = outcome.record
    assert record.http_status == 400 and record.requests == 2 and record.splits == 1
    assert record.updated == 2 and record.failed == 2


def test_a_batch_of_only_duplicates_fails_without_an_exception(sandbox: Any) -> None:
    (hid,) = created(sandbox, 1, "onlydup")
    client = client_for(sandbox)
    (outcome,) = list(client.batch_update("contacts", [change(0, hid, firstname="A"), change(1, hid)]))
    assert all(r.status == FAILED and r.error is not None for r in outcome.rows)
    assert all("Duplicate IDs" in str(r.error and r.error.message) for r in outcome.rows)
    assert outcome.record.requests == 1 and outcome.record.splits == 0


def test_a_whole_batch_409_is_isolated_by_splitting(sandbox: Any) -> None:
    """Reference §16.1: a unique value another record holds fails the whole batch with 409 ``Existing ID``
    (naming no input); splitting finds the one input, the others are updated."""
    ids = created(sandbox, 4, "conf")
    client = client_for(sandbox)
    inputs = [*firstnames(ids[:3], "C"), change(3, ids[3], email="conf-0@example.com")]
    (outcome,) = list(client.batch_update("contacts", inputs))
    rows = by_position([outcome])
    assert [rows[i].status for i in range(3)] == [UPDATED] * 3
    error = rows[3].error
    assert rows[3].status == FAILED and error is not None
    assert error.category == "CONFLICT" and error.http_status == 409 and ids[0] in error.message
    record = outcome.record
    assert record.http_status == 409 and record.splits >= 1 and record.requests >= 3
    assert record.updated == 3 and record.failed == 1
    assert stored(sandbox, ids[3])["email"] == "conf-3@example.com"


def test_the_split_budget_is_the_clients(sandbox: Any) -> None:
    ids = created(sandbox, 4, "budget")
    client = client_for(sandbox, max_split_requests=0)
    inputs = [*firstnames(ids[:3], "B"), change(3, ids[3], email="budget-0@example.com")]
    (outcome,) = list(client.batch_update("contacts", inputs))
    assert outcome.record.requests == 1 and outcome.record.splits == 0
    for row in outcome.rows:
        assert row.status == FAILED and row.error is not None and row.error.category == "CONFLICT"
        assert "split budget exhausted" in row.error.message


def test_invalid_values_fail_their_row_through_the_207(sandbox: Any) -> None:
    """Reference §5.3/§16.1: with a trace id on every input, an invalid value is a 207 item keyed by it."""
    ids = created(sandbox, 3, "inv")
    client = client_for(sandbox)
    inputs = [*firstnames(ids[:2], "V"), change(2, ids[2], no_such_property="x")]
    rows = by_position(list(client.batch_update("contacts", inputs)))
    assert rows[0].status == UPDATED and rows[1].status == UPDATED
    error = rows[2].error
    assert rows[2].status == FAILED and error is not None and error.category == "VALIDATION_ERROR"
    assert error.property == "no_such_property" or "no_such_property" in error.message


def test_injected_5xx_are_retried_and_each_row_updated_once(sandbox: Any) -> None:
    ids = created(sandbox, 30, "u5xx")
    sandbox.set_faults(FaultConfig(error_rate=0.4, error_statuses=(500, 502, 503, 524), seed=11))
    client = client_for(sandbox, max_in_flight=3, batch_size=4)
    outcomes = list(client.batch_update("contacts", firstnames(ids, "X")))
    assert_all_updated(sandbox, outcomes, ids, "X")
    assert sum(o.record.retries for o in outcomes) >= 1
    assert all(o.record.http_status == 200 for o in outcomes)
    assert sum(v for k, v in sandbox.counters()["faults"].items() if k.startswith("status_")) >= 1


def test_injected_429_bursts_are_retried(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(rate_limit_window_ms=300)
    ids = created(sandbox, 30, "u429")
    sandbox.set_faults(FaultConfig(rate_limit_burst_rate=0.3, rate_limit_burst_length=2, seed=3))
    client = client_for(sandbox, max_in_flight=2, batch_size=5)
    outcomes = list(client.batch_update("contacts", firstnames(ids, "R")))
    assert_all_updated(sandbox, outcomes, ids, "R")
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sandbox.counters()["rate_limited"] >= 1


def test_a_dropped_answer_is_resent_and_updated(sandbox: Any) -> None:
    """The update was committed but the connection dropped: idempotent, so it is resent as it was."""
    ids = created(sandbox, 20, "udrop")
    sandbox.set_faults(FaultConfig(drop_after_commit_rate=0.4, seed=3))
    client = client_for(sandbox, max_in_flight=2, batch_size=4)
    outcomes = list(client.batch_update("contacts", firstnames(ids, "D")))
    assert_all_updated(sandbox, outcomes, ids, "D")
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sandbox.counters()["faults"].get("drop", 0) >= 1


def test_a_timeout_is_resent_and_updated(sandbox: Any) -> None:
    # the read timeout (2 s) is far above an ordinary answer and far below the hang (5 s)
    ids = created(sandbox, 6, "uhang")
    sandbox.set_faults(FaultConfig(hang_after_commit_rate=0.5, hang_seconds=5.0, seed=1))
    client = client_for(sandbox, max_in_flight=2, batch_size=3, timeout=(5.0, 2.0))
    outcomes = list(client.batch_update("contacts", firstnames(ids, "H")))
    assert_all_updated(sandbox, outcomes, ids, "H")
    assert sum(o.record.retries for o in outcomes) >= 1
    assert sandbox.counters()["faults"].get("hang", 0) >= 1


def test_retries_spent_fail_the_rows_with_a_transport_error(sandbox: Any) -> None:
    ids = created(sandbox, 2, "uspent")
    sandbox.set_faults(FaultConfig(drop_after_commit_rate=1.0, seed=1))
    client = client_for(sandbox)
    (outcome,) = list(client.batch_update("contacts", firstnames(ids, "S")))
    assert outcome.record.requests == FAST_RETRY.max_attempts
    for row in outcome.rows:
        assert row.status == FAILED and row.error is not None
        assert row.error.category == "TRANSPORT_ERROR" and "gave up after" in row.error.message
    assert outcome.record.failed == 2 and outcome.record.updated == 0


def test_401_raises_authentication_error(sandbox: Any) -> None:
    ids = created(sandbox, 2, "u401")
    client = client_for(sandbox, token="not-a-token")
    with pytest.raises(HubSpotAuthenticationError):
        list(client.batch_update("contacts", firstnames(ids, "A")))
    assert stored(sandbox, ids[0])["firstname"] == "F0"


def test_daily_limit_raises_after_yielding_finished_batches(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(daily_limit=3)
    ids = created(sandbox, 15, "udaily")  # one request of the three
    client = client_for(sandbox, max_in_flight=1, batch_size=5)
    seen: list[BatchOutcome] = []
    with pytest.raises(HubSpotRateLimitError) as caught:
        for outcome in client.batch_update("contacts", firstnames(ids, "Y")):
            seen.append(outcome)
    assert caught.value.daily
    assert "10 row(s) updated in 2 batch(es)" in str(caught.value)
    assert [o.record.updated for o in seen] == [5, 5, 0]
    assert all(
        r.status == FAILED and r.error is not None and r.error.category == RATE_LIMIT_DAILY
        for r in seen[2].rows
    )
    assert stored(sandbox, ids[10])["firstname"] == "F10"


# Answers the sandbox cannot produce (it has no merges), as recorded or mocked by third parties and fed to
# the writer's answer handling directly: nothing is sent.


def settle_recorded(body: dict[str, Any], rows: list[UpdateInput], status: int = 200) -> BatchState:
    batch = BatchState(index=0, record=BatchRecord(index=0, rows=len(rows), endpoint="update"))
    with HubSpotClient("unused-token", base_url="http://127.0.0.1:9") as client:
        load = LoadState(object_type="contacts", unique_property=None, split_budget=0)
        step = UpdateWriter(client, load).after_success(batch, rows, Answer(status, body, {}, "http://x/"))
    assert step is None
    assert set(batch.outcomes) == {r.trace_id for r in rows}
    return batch


def test_a_merged_id_dropped_from_a_complete_answer_fails_unmatched() -> None:
    """Reference §16.1 (hotglue cassette ``batch_company_update_stale_id_fallback_test``): two inputs, one
    the id of a merged record; 200 ``COMPLETE`` with one result and no error."""
    rows = [change(0, "101", name="a"), change(1, "202", name="b")]
    body = {
        "status": "COMPLETE",
        "results": [{"id": "101", "properties": {"name": "a"}, "objectWriteTraceId": rows[0].trace_id}],
        "startedAt": "2026-07-07T10:00:00.000Z",
        "completedAt": "2026-07-07T10:00:00.200Z",
    }
    batch = settle_recorded(body, rows)
    assert batch.outcomes[rows[0].trace_id].status == UPDATED
    dropped = batch.outcomes[rows[1].trace_id]
    assert dropped.status == FAILED and dropped.error is not None
    assert dropped.error.category == UNMATCHED_RESULT and "merged" in dropped.error.message
    assert "not in HubSpot's answer" in dropped.error.message
    assert batch.record.status == "COMPLETE" and batch.record.completed_at is not None


def test_an_error_naming_ids_and_joined_trace_ids_fails_only_the_missing_id() -> None:
    """Reference §16.1 (Rudder fixtures): ``context`` with the missing ``ids`` and ``objectWriteTraceId``
    ``["2,3"]``; the result carries no trace id (matched by record id)."""
    rows = [
        UpdateInput(0, "k0", "2", "90001", {"firstname": "a"}),
        UpdateInput(1, "k1", "3", "90002", {"firstname": "b"}),
    ]
    body = {
        "status": "COMPLETE",
        "results": [{"id": "90001", "properties": {"firstname": "a"}}],
        "numErrors": 1,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
                "context": {"ids": ["90002"], "objectWriteTraceId": ["2,3"]},
            }
        ],
    }
    batch = settle_recorded(body, rows, status=207)
    assert batch.outcomes["2"].status == UPDATED and batch.outcomes["2"].hubspot_id == "90001"
    missing = batch.outcomes["3"]
    assert missing.status == FAILED and missing.error is not None
    assert missing.error.category == "OBJECT_NOT_FOUND" and missing.error.http_status == 207
