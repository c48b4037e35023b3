"""Issue #14: loads of one portal and object type at the same time share the ledger without duplicates.

Every test runs on SQLite and on a real PostgreSQL server (``state_url``). Each load has its own ledger
connection and its own client, as two processes or pods would; the sandbox has latency so that their
batches overlap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pandas as pd
import pytest

from hubspot_loader.core.model import (
    CREATED,
    RECONCILED,
    SKIPPED,
    SKIPPED_IN_FLIGHT,
    LoadResult,
    PreparedInput,
)
from hubspot_loader.core.tables import outcome_line
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state import ledger as ledger_mod
from hubspot_loader.state.ledger import PendingRow, SqlLedger, content_hash

from .conftest import (
    PORTAL,
    contacts_frame,
    creates,
    load_together,
    sandbox_id_map,
    wait_for_leases_to_expire,
)

SPEC = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off", batch_size=20)


@pytest.mark.parametrize(("loads", "reads"), [(2, "by_key"), (3, "by_key"), (2, "scanned"), (3, "scanned")])
def test_concurrent_loads_of_one_frame_create_each_row_once_and_account_for_it_once(
    loads: int,
    reads: str,
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    ledgers: Callable[..., SqlLedger],
) -> None:
    """``reads``: each load looks its rows' state up by key, or scans it once at its start (a snapshot the
    other loads' creates soon make stale: their write-ahead claims keep every row created once)."""
    rows = 600
    sandbox = sandbox_factory(faults=FaultConfig(latency_ms=80))
    frame = contacts_frame(rows)

    def one(i: int) -> Callable[[], LoadResult]:
        client, ledger = client_for(sandbox, max_in_flight=4), ledgers(scanning=reads == "scanned")
        run = LoadRun(portal=PORTAL, run_id=f"load-{i}")
        return lambda: load_dataframe(frame, SPEC, client=client, ledger=ledger, run=run)

    results = load_together([one(i) for i in range(loads)])

    stored = sandbox_id_map(sandbox)  # asserts no email is stored twice
    assert len(stored) == rows
    per_key: dict[str, list[str]] = {}
    for result in results:
        assert result.rows_total == rows and result.rows_failed == 0
        for row in result.rows:
            per_key.setdefault(row.key, []).append(row.status)
    for key, statuses in per_key.items():
        counted = Counter(statuses)
        assert counted[CREATED] + counted[RECONCILED] == 1, (key, statuses)  # created by exactly one load
        assert set(statuses) <= {CREATED, RECONCILED, SKIPPED, SKIPPED_IN_FLIGHT}, (key, statuses)
    assert sum(r.rows_created for r in results) == rows
    # a row another load was sending has no id in this load's result; the ledger has every id
    ledger = ledgers()
    assert ledger.id_map(PORTAL, "contacts") == stored
    assert ledger.counts(PORTAL, "contacts") == {ledger_mod.CREATED: rows}
    assert not any(e.lease_owner for e in ledger.entries(PORTAL, "contacts"))  # every lease ended

    # the next run, alone, skips every row
    again = load_dataframe(frame, SPEC, client=client_for(sandbox), ledger=ledger, run=LoadRun(portal=PORTAL))
    assert again.rows_skipped == rows and again.id_map == stored


def test_rows_a_dead_load_holds_are_skipped_in_flight_until_its_lease_ends_then_reconciled(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    ledgers: Callable[[], SqlLedger],
) -> None:
    rows, held = 120, 40
    sandbox = sandbox_factory()
    frame = contacts_frame(rows)
    ledger = ledgers()
    # A load that died mid-run: it had written 40 rows ahead under its lease and sent them; HubSpot created
    # the first 25, and the answer never came back.
    dead = "dead-run/0123456789ab"
    claim = ledger.mark_pending(
        PORTAL, "contacts", _pending(frame.head(held)), run_id="dead-run", lease_owner=dead, lease_seconds=600
    )
    assert claim.complete
    existing = client_for(sandbox)
    created_by_dead = list(
        existing.batch_create("contacts", _inputs(frame.head(25)), unique_property="email")
    )
    assert sum(o.record.created for o in created_by_dead) == 25

    client = client_for(sandbox)
    during = load_dataframe(
        frame, SPEC, client=client, ledger=ledger, run=LoadRun(portal=PORTAL, run_id="live")
    )
    assert during.rows_in_flight == held and during.rows_failed == 0
    assert {r.key for r in during.rows if r.status == SKIPPED_IN_FLIGHT} == set(frame.contact_key.head(held))
    assert all(r.hubspot_id is None for r in during.rows if r.status == SKIPPED_IN_FLIGHT)
    assert during.rows_created == rows - held
    counts = f"{rows - held} created, 0 failed, {held} skipped, {held} of them in flight of {rows} rows"
    assert outcome_line(during) == counts
    assert ledger.counts(PORTAL, "contacts") == {ledger_mod.CREATED: rows - held, ledger_mod.PENDING: held}
    assert {e.lease_owner for e in ledger.entries(PORTAL, "contacts") if e.lease_owner} == {dead}

    # nobody renews the dead load's lease: shortened to one second here, it runs out on its own
    assert ledger.renew_leases(dead, 1.0) == held
    wait_for_leases_to_expire(ledger)
    before = creates(sandbox)
    after = load_dataframe(
        frame, SPEC, client=client, ledger=ledger, run=LoadRun(portal=PORTAL, run_id="after")
    )
    assert after.rows_failed == 0 and after.rows_in_flight == 0
    assert after.rows_created == held - 25  # the 25 HubSpot had were found by email, not sent again
    assert creates(sandbox) - before == 1  # the 15 it did not have, in one batch
    stored = sandbox_id_map(sandbox)
    assert len(stored) == rows and ledger.id_map(PORTAL, "contacts") == stored
    assert any("reconciled 40 row(s)" in w for w in after.warnings), after.warnings


def _properties(row: object) -> dict[str, str]:
    return {"email": str(row.email), "firstname": str(row.firstname)}  # type: ignore[attr-defined]


def _pending(frame: pd.DataFrame) -> list[PendingRow]:
    """The write-ahead records the dead load had made of the frame's rows (email as unique property)."""
    return [
        PendingRow(str(r.contact_key), content_hash(_properties(r)), "email", str(r.email))
        for r in frame.itertuples()
    ]


def _inputs(frame: pd.DataFrame) -> list[PreparedInput]:
    """The frame's rows as batch-create inputs, as the dead load had sent them."""
    return [
        PreparedInput(position=i, key=str(r.contact_key), trace_id=f"dead-{i}", properties=_properties(r))
        for i, r in enumerate(frame.itertuples())
    ]
