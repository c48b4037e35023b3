"""Loads that stop part-way: rows that were sent stay in doubt (pending), never ``NOT_SENT`` (findings 2, 4).

``load_dataframe`` with a ledger over real HTTP to the sandbox. A row HubSpot may have created must not
be reported as never sent and recorded ``failed`` (the next run would send it again and duplicate it):
it is failed in doubt (``UNMATCHED_RESULT``) and the ledger keeps it ``pending``. The moment of each
stop is set by the sandbox's request counters, never by a sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.model import NOT_SENT, UNMATCHED_RESULT, BatchOutcome
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.load import HubSpotLoadSpec, LoadAborted, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED, FAILED, PENDING, SQLiteLedger

from .conftest import PORTAL, contacts_frame, creates

#: Contacts in batches of 3 (preflight off, as the sandbox's faults are about the writes).
CONTACTS_IN_THREES = HubSpotLoadSpec(
    object_type="contacts", key_column="contact_key", batch_size=3, preflight="off"
)

#: A PENDING batch is looked up for up to ~30 s: far longer than the other batches need.
LONG_POLL = RetryPolicy(
    max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.02, pending_polls=3000, pending_poll_interval_s=0.01
)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll ``condition`` until it holds (a bounded wait on a state, not a sleep as synchronization)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


def stopped(run: Callable[[], Any]) -> LoadAborted:
    with pytest.raises(LoadAborted) as caught:
        run()
    return caught.value


def categories(exc: LoadAborted) -> dict[str, set[str]]:
    """Error category → the keys failed with it."""
    out: dict[str, set[str]] = {}
    for row in exc.result.rows:
        if row.error is not None:
            out.setdefault(row.error.category, set()).add(row.key)
    return out


def test_a_pending_batch_stopped_by_a_later_401_stays_pending_in_the_ledger(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    # batches 0 and 1 go out together: the first to arrive is answered PENDING without its rows (hidden
    # for good) and polls for them, the other COMPLETE; once that one is recorded every write is refused
    # 401, so batch 2 stops the load during the PENDING batch's poll
    faults = FaultConfig(
        status_sequence=("PENDING",), incomplete_listed_share=0.0, pending_reveal_after_requests=10**6
    )
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=2, retry=LONG_POLL, requests_per_10s=1000)
    ledger = open_ledger()

    def refuse_from_now_on(outcome: BatchOutcome) -> None:
        sandbox.set_faults(FaultConfig(error_rate=1.0, error_statuses=(401,)))

    exc = stopped(
        lambda: load_dataframe(
            contacts_frame(9, tag="ps"),
            CONTACTS_IN_THREES,
            client=client,
            ledger=ledger,
            run=LoadRun(portal=PORTAL, on_batch=refuse_from_now_on),
        )
    )
    assert "refused the access token" in str(exc)
    hidden = {o["properties"]["email"].split("@")[0] for o in sandbox.objects("contacts") if o.get("pending")}
    created = {r.key for r in exc.result.rows if r.status == "created"}
    assert len(hidden) == 3 and len(created) == 3 and len(sandbox.objects("contacts")) == 6
    by_category = categories(exc)
    assert by_category[UNMATCHED_RESULT] == hidden  # sent, and HubSpot holds them: in doubt
    assert NOT_SENT not in by_category
    refused = {r.key for r in exc.result.rows if r.error is not None and r.error.http_status == 401}
    assert len(refused) == 3 and refused.isdisjoint(hidden | created)
    entries = {e.row_key: e for e in ledger.entries(PORTAL, "contacts")}
    assert {k for k, e in entries.items() if e.status == PENDING} == hidden
    assert {k for k, e in entries.items() if e.status == CREATED} == created
    assert {k for k, e in entries.items() if e.status == FAILED} == refused


def test_rows_committed_without_an_answer_then_refused_stay_pending(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    # seed 15: the batch is committed and its connection dropped; its resend is refused 401
    faults = FaultConfig(error_rate=0.5, error_statuses=(401,), drop_after_commit_rate=0.5, seed=15)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=1)
    ledger = open_ledger()
    frame = pd.DataFrame({"key": [f"k{i}" for i in range(3)], "name": [f"K {i}" for i in range(3)]})
    spec = HubSpotLoadSpec(object_type="companies", key_column="key", preflight="off")
    exc = stopped(
        lambda: load_dataframe(frame, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))
    )
    assert creates(sandbox) == 2 and len(sandbox.objects("companies")) == 3
    assert categories(exc) == {UNMATCHED_RESULT: {"k0", "k1", "k2"}}
    assert ledger.counts(PORTAL, "companies") == {PENDING: 3}


def test_an_on_batch_error_reports_the_batch_in_flight_in_doubt_not_unsent(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    # two batches go out together; the progress callback of the first raises once HubSpot has
    # received both: the second batch was sent (and created) but its outcome never reached the load
    sandbox = sandbox_factory()
    client = client_for(sandbox, max_in_flight=2)
    ledger = open_ledger()

    def broken_progress(outcome: BatchOutcome) -> None:
        wait_until(lambda: creates(sandbox) >= 2, "both batches were received")
        raise RuntimeError("the progress display broke")

    exc = stopped(
        lambda: load_dataframe(
            contacts_frame(6, tag="ob"),
            CONTACTS_IN_THREES,
            client=client,
            ledger=ledger,
            run=LoadRun(portal=PORTAL, on_batch=broken_progress),
        )
    )
    assert "RuntimeError" in str(exc) and isinstance(exc.__cause__, RuntimeError)
    assert len(sandbox.objects("contacts")) == 6
    rows = list(exc.result.rows)
    assert [r.position for r in rows] == list(range(6))
    created = {r.key for r in rows if r.status == "created"}
    assert len(created) == 3
    by_category = categories(exc)
    assert NOT_SENT not in by_category
    assert len(by_category[UNMATCHED_RESULT]) == 3 and by_category[UNMATCHED_RESULT].isdisjoint(created)
    # the ledger still has the unconfirmed batch pending (written ahead, never settled): the next run
    # looks those rows up by email and finds them, so nothing is created twice
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 3, PENDING: 3}
    again = load_dataframe(
        contacts_frame(6, tag="ob"),
        CONTACTS_IN_THREES,
        client=client,
        ledger=ledger,
        run=LoadRun(portal=PORTAL),
    )
    assert creates(sandbox) == 2 and again.rows_skipped == 6
    assert len(sandbox.objects("contacts")) == 6
