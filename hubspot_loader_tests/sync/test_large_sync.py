"""A sync large enough to scan its ledger rows at once decides every row as a small one does (issue #13).

From :data:`~hubspot_loader.state.brief_scan.SCAN_MIN_ROWS` rows on, a load reads the briefs of the object
type's ledger rows in one scan instead of looking each key up (:mod:`hubspot_loader.state.brief_table`).
Over real HTTP to the sandbox, with the default online preflight: the second sync updates exactly the
changed rows, adopts the one that failed, never looks a key's brief up one by one, and reads full ledger
entries only of the rows that changed or were not created.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hubspot_loader.core.model import ADOPTED, CREATED, UNCHANGED, UPDATED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.brief_scan import SCAN_MIN_ROWS
from hubspot_loader.state.brief_table import BriefTable
from hubspot_loader.state.ledger import FAILED, Settlement, SQLiteLedger

from .conftest import CONTACTS, PORTAL, by_email, contacts_frame, writes_since


class CountingLedger(SQLiteLedger):
    """The SQLite ledger, counting its scans and the keys whose briefs it is asked for one by one."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.scans: list[int] = []
        self.keys_looked_up = 0
        self.entries_read = 0

    def brief_table(self, portal: str, object_type: str, rows: int) -> BriefTable | None:
        table = super().brief_table(portal, object_type, rows)
        self.scans.append(-1 if table is None else len(table))
        return table

    def lookup(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, Any]:
        wanted = list(keys)
        self.entries_read += len(wanted)
        return super().lookup(portal, object_type, wanted)

    def briefs(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, Any]:
        wanted = list(keys)
        self.keys_looked_up += len(wanted)
        return super().briefs(portal, object_type, wanted)


def test_a_large_sync_scans_its_ledger_once_and_updates_exactly_the_changed_rows(
    sandbox: SandboxHandle, client: HubSpotClient, tmp_path: Path
) -> None:
    rows = SCAN_MIN_ROWS + 500
    frame = contacts_frame(rows)
    ledger = CountingLedger(tmp_path / "state.sqlite")
    try:

        def sync(df: Any) -> Any:
            return load_dataframe(df, CONTACTS, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))

        first = sync(frame)
        assert first.rows_created == rows and ledger.scans == [0]  # an empty ledger: an empty table
        # one row failed in the first run (as if HubSpot had refused it): the sync sends it again
        ledger.settle(PORTAL, "contacts", [Settlement("c11", FAILED, error="boom")], run_id="test")
        changed = frame.copy()
        renamed = changed.index % 40 == 3
        changed.loc[renamed, "firstname"] = "Renamed"
        before = sandbox.counters()["by_route"].copy()
        ledger.entries_read = 0

        second = sync(changed)
    finally:
        ledger.close()

    assert ledger.scans == [0, rows] and ledger.keys_looked_up == 0
    updated = int(renamed.sum())
    # full entries only of the rows not created (c11: once in preflight, once in the diff) and the changed
    # ones, not of every row: preflight takes the created rows from the scan too
    assert ledger.entries_read == updated + 2
    counts = second.rows.status_counts()
    assert counts == {UPDATED: updated, UNCHANGED: rows - updated - 1, ADOPTED: 1}, counts  # c11: by email
    writes = {k: v for k, v in writes_since(before, sandbox).items() if k.startswith("POST")}
    assert writes["POST batch/update"] == math.ceil(updated / 100)
    stored = by_email(sandbox)
    assert len(stored) == rows  # nothing created twice
    assert stored["c3@example.com"]["properties"]["firstname"] == "Renamed"
    assert stored["c4@example.com"]["properties"]["firstname"] == "First4"
    ids = {r.key: r.hubspot_id for r in first.rows if r.status == CREATED}
    assert {r.key: r.hubspot_id for r in second.rows} == ids  # every row with its record's id
