"""Issue #13 acceptance: a sync-mode load SIGKILLed mid-run, then run again, ends as if never interrupted.

As in ``test_crash_resume.py``, the load runs in a child process (``sync_worker.py``) against a sandbox with
latency, so that requests are in flight when it is killed; the sandbox still commits them (as HubSpot would:
the request had arrived), but their answers never reach the ledger.

- ``upsert``: a synced set of contacts, then a source where 2 % of the rows changed a value, with new rows
  and rows whose records HubSpot already has (to adopt). The child is killed while it creates the new rows
  (the write-ahead rows stay pending, the adopted ids are recorded but not updated yet) or while it sends
  the updates (committed in HubSpot, not in the ledger). Between the killed run and the rerun another 2 %
  of the rows change, rows left in doubt among them.
- ``mirror``: the same 2 % change and 8 % of the keys gone from the source; the child is killed while it
  archives them, one batch committed, the next in flight and the rest unsent; another 2 % change before
  the rerun.

The rerun must end with exactly one record per key holding the latest values, nothing archived that the
source still has, the ledger's ids equal to the sandbox's, and a last run that finds every row unchanged.

The last two tests cover what an earlier version got wrong: the source going back, between the runs, to
what the ledger believed HubSpot holds (the killed run's changed rows reverted; archived keys back in the
source). Updates and archives are now recorded in the ledger before they are sent, so the rerun redoes
them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.model import (
    ARCHIVED,
    CREATED,
    RECONCILED,
    UNCHANGED,
    UPDATED,
    LoadResult,
    PreparedInput,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED as LEDGER_CREATED
from hubspot_loader.state.ledger import PENDING, SQLiteLedger

from ..sync.conftest import route_counts, writes_since
from .conftest import PORTAL, contacts_frame, sandbox_id_map, wait_for_leases_to_expire
from .test_crash_resume import HANG_GUARD_S, _settled

SYNCED = 2000
CHANGED_EVERY = 50  # 2 % of the rows change their first name
ADOPTABLE = 200  # rows new to the ledger whose records HubSpot already has, with another first name
NEW = 1000
LATENCY = FaultConfig(latency_ms=300)
WRITE_ROUTES = ("POST batch/create", "POST batch/update", "POST batch/archive", "POST batch/upsert")


def _spec(mode: str) -> dict[str, Any]:
    return {
        "object_type": "contacts",
        "key_column": "contact_key",
        "unique_property": "email",
        "preflight": "off",
        "write_mode": mode,
    }


def _changed(frame: pd.DataFrame, *, offset: int, value: str) -> tuple[pd.DataFrame, set[str]]:
    """``frame`` with the first name of every 50th row (from ``offset``) changed: 2 %; the changed keys."""
    out = frame.copy()
    chosen = out.index % CHANGED_EVERY == offset
    out.loc[chosen, "firstname"] = [f"{value}{i}" for i in out.index[chosen]]
    return out, set(out.loc[chosen, "contact_key"])


def _keys(objects: list[dict[str, Any]]) -> set[str]:
    """The row keys of stored contacts (``k12@example.com`` → ``k12``)."""
    return {str(o["properties"]["email"]).split("@", 1)[0] for o in objects}


def _rows(result: LoadResult, frame: pd.DataFrame) -> dict[str, str]:
    """Assert every row of ``frame`` is in ``result`` exactly once and none failed; return key → status."""
    keys = Counter(r.key for r in result.rows)
    assert max(keys.values(), default=1) == 1, [k for k, n in keys.items() if n > 1][:5]
    assert set(keys) == set(frame["contact_key"])
    assert sorted(r.position for r in result.rows) == list(range(len(frame)))
    assert not result.failed_rows, result.failed_rows[:3]
    return {r.key: r.status for r in result.rows}


def _first_names(sandbox: SandboxHandle) -> dict[str, str]:
    """Row key → first name of every active contact."""
    return {
        str(o["properties"]["email"]).split("@", 1)[0]: str(o["properties"].get("firstname"))
        for o in sandbox.objects("contacts")
    }


def _check_state(sandbox: SandboxHandle, ledger: SQLiteLedger, frame: pd.DataFrame, gone: set[str]) -> None:
    """One record per key with the frame's values, only ``gone`` archived, the ledger's ids the sandbox's."""
    stored = sandbox_id_map(sandbox)  # asserts no email is stored twice
    assert set(stored) == set(frame["contact_key"])
    names = _first_names(sandbox)
    latest = dict(zip(frame["contact_key"], frame["firstname"], strict=True))
    wrong = {k: (v, names[k]) for k, v in latest.items() if names[k] != v}
    assert not wrong, f"{len(wrong)} stale first names, e.g. {list(wrong.items())[:3]}"
    assert _keys(sandbox.objects("contacts", archived=True)) == gone
    assert ledger.id_map(PORTAL, "contacts") == stored
    assert ledger.counts(PORTAL, "contacts") == {LEDGER_CREATED: len(frame)}


class _Child:
    """The load in a child process, killed with SIGKILL once ``ready`` says so."""

    def __init__(self, sandbox: SandboxHandle, ledger_path: Path, tmp_path: Path) -> None:
        self.sandbox, self.ledger_path, self.tmp_path = sandbox, ledger_path, tmp_path

    def run_and_kill(
        self, frame: pd.DataFrame, mode: str, ready: Callable[[], bool], *, batch_size: int, in_flight: int
    ) -> None:
        frame_path = self.tmp_path / "frame.pkl"
        frame.to_pickle(frame_path)
        repo = Path(__file__).resolve().parents[2]
        args = [
            self.sandbox.base_url, self.sandbox.token, str(self.ledger_path), str(frame_path),
            json.dumps(_spec(mode)), "killed-run", str(batch_size), str(in_flight),
        ]  # fmt: skip
        child = subprocess.Popen(
            [sys.executable, "-m", "hubspot_loader_tests.ledger.sync_worker", *args],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + HANG_GUARD_S  # the child starts Python and pandas first
            while not ready():
                assert child.poll() is None, child.communicate()
                assert time.monotonic() < deadline, f"the child did not get there in {HANG_GUARD_S}s"
                time.sleep(0.01)  # poll interval; ready() is what is waited for
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        output, errors = child.communicate()  # also closes the pipes
        assert child.returncode == -signal.SIGKILL, errors
        assert "finished" not in output
        _settled(self.sandbox)  # every request the child sent is committed and answered (to nobody)
        self.sandbox.set_faults(FaultConfig())  # the rerun needs no latency


def _load(
    frame: pd.DataFrame, mode: str, client: HubSpotClient, ledger: SQLiteLedger, run_id: str
) -> LoadResult:
    spec = HubSpotLoadSpec.from_mapping(_spec(mode))
    run = LoadRun(portal=PORTAL, run_id=run_id)
    wait_for_leases_to_expire(ledger, spec.object_type)  # rows a killed run held are free once its leases end
    return load_dataframe(frame, spec, client=client, ledger=ledger, run=run)


def _unchanged_and_quiet(
    sandbox: SandboxHandle, frame: pd.DataFrame, mode: str, client: HubSpotClient, ledger: SQLiteLedger
) -> None:
    """One more run finds every row unchanged and writes nothing (the ledger's fingerprints are right)."""
    routes = route_counts(sandbox)
    again = _load(frame, mode, client, ledger, "last-run")
    assert set(_rows(again, frame).values()) == {UNCHANGED}
    assert again.batches == [] and again.archived == []
    assert not {k for k in writes_since(routes, sandbox) if k in WRITE_ROUTES}


def _updates_received(sandbox: SandboxHandle) -> int:
    return int(sandbox.counters()["by_route"].get("POST batch/update", 0))


@pytest.mark.parametrize("reads", ["by_key", "scanned"])
@pytest.mark.parametrize("killed_while", ["creating", "updating"])
def test_upsert_killed_mid_run_then_rerun_ends_with_one_record_per_key_and_the_latest_values(
    killed_while: str,
    reads: str,
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[..., SQLiteLedger],
    ledger_path: Path,
    tmp_path: Path,
) -> None:
    """``reads``: the runs in this process look the rows' state up by key, or scan it as a large sync does."""
    sandbox = sandbox_factory()
    client = client_for(sandbox, max_in_flight=4)
    ledger = open_ledger(scanning=reads == "scanned")
    synced = contacts_frame(SYNCED, tag="k")
    assert _load(synced, "upsert", client, ledger, "first-run").rows_created == SYNCED
    existing = [  # made by someone else: HubSpot has them, the ledger does not
        PreparedInput(i, f"x{i}", f"x{i}", {"email": f"k{i}@example.com", "firstname": "Old"})
        for i in range(SYNCED, SYNCED + ADOPTABLE)
    ]
    assert sum(o.record.created for o in client.batch_create("contacts", existing)) == ADOPTABLE
    client.close()  # no connection of ours stays open: _settled waits for the sandbox's to close
    frame, changed = _changed(synced, offset=25, value="Renamed")
    adoptable = {f"k{i}" for i in range(SYNCED, SYNCED + ADOPTABLE)}
    frame = pd.concat([frame, contacts_frame(ADOPTABLE + NEW, start=SYNCED, tag="k")], ignore_index=True)
    new = set(frame["contact_key"].iloc[-NEW:])

    sandbox.set_faults(LATENCY)
    if killed_while == "creating":
        seen = [0]

        def ready() -> bool:  # a create batch was just committed; its siblings are still in flight
            count = int(sandbox.counts().get("contacts", 0))
            just_committed, seen[0] = count != seen[0], count
            return count >= SYNCED + ADOPTABLE + NEW // 3 and just_committed

    else:

        def ready() -> bool:  # the first update requests are inside the sandbox
            return _updates_received(sandbox) >= 1

    _Child(sandbox, ledger_path, tmp_path).run_and_kill(frame, "upsert", ready, batch_size=50, in_flight=4)

    statuses = ledger.counts(PORTAL, "contacts")
    pending = {e.row_key for e in ledger.entries(PORTAL, "contacts") if e.status == PENDING}
    assert adoptable <= set(ledger.id_map(PORTAL, "contacts"))  # adopted ids are recorded before writing
    existed = set(sandbox_id_map(sandbox))
    if killed_while == "creating":
        assert pending, statuses  # written ahead, unanswered
        assert pending & existed and SYNCED + ADOPTABLE + NEW // 3 <= len(existed) < len(frame)
    else:
        assert statuses == {LEDGER_CREATED: len(frame)}
        assert sandbox.counters()["updated"].get("contacts", 0) >= 1  # HubSpot has updates the ledger lacks

    # between the runs another 2 % of the rows change, rows left in doubt by the kill among them
    frame, again = _changed(frame, offset=10, value="Again")
    in_doubt = sorted(pending & existed)[:10]
    frame.loc[frame["contact_key"].isin(in_doubt), "firstname"] = "Again (in doubt)"
    again |= set(in_doubt)
    client = client_for(sandbox, max_in_flight=4)
    resumed = _load(frame, "upsert", client, ledger, "resume-run")

    rows = _rows(resumed, frame)
    # the adopted records (recorded with no fingerprint) are sent in full; changed rows that exist updated
    assert {k for k, s in rows.items() if s == UPDATED} == ((changed | again) & existed) | adoptable
    assert {rows[k] for k in new - existed} <= {CREATED, RECONCILED}, Counter(rows[k] for k in new - existed)
    assert {s for k, s in rows.items() if k in existed - changed - again - adoptable} == {UNCHANGED}
    _check_state(sandbox, ledger, frame, set())
    assert resumed.id_map == sandbox_id_map(sandbox)
    _unchanged_and_quiet(sandbox, frame, "upsert", client, ledger)


def test_mirror_killed_while_archiving_then_rerun_archives_exactly_the_keys_that_left(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
    ledger_path: Path,
    tmp_path: Path,
) -> None:
    sandbox = sandbox_factory()
    client = client_for(sandbox, max_in_flight=4)
    ledger = open_ledger()
    synced = contacts_frame(3000, tag="m")
    assert _load(synced, "mirror", client, ledger, "first-run").rows_created == 3000
    client.close()  # no connection of ours stays open: _settled waits for the sandbox's to close
    frame, changed = _changed(synced, offset=25, value="Renamed")
    leaving = frame.index % 12 == 2  # 250 keys (8 %), none of them changed (those are odd)
    gone = set(frame.loc[leaving, "contact_key"])
    frame = frame[~leaving].reset_index(drop=True)
    assert len(gone) == 250 and not gone & changed

    sandbox.set_faults(LATENCY)
    before = route_counts(sandbox)

    def ready() -> bool:  # the second of five archive batches is inside the sandbox; three are unsent
        return writes_since(before, sandbox).get("POST batch/archive", 0) >= 2

    # one batch in flight at a time, 50 records each
    _Child(sandbox, ledger_path, tmp_path).run_and_kill(frame, "mirror", ready, batch_size=50, in_flight=1)

    archived_now = _keys(sandbox.objects("contacts", archived=True))
    assert archived_now and archived_now < gone  # killed part-way through the archives
    entries = {e.row_key: e for e in ledger.entries(PORTAL, "contacts")}
    # every record being archived was written ahead (pending, ARCHIVING): archived or not, the rerun reads it
    pending = {k for k, e in entries.items() if e.status == "pending"}
    assert pending <= gone and gone - archived_now <= pending  # the answered batches' keys are forgotten
    assert set(ledger.id_map(PORTAL, "contacts")) == set(frame["contact_key"])

    # between the runs another 2 % of the rows change
    frame, again = _changed(frame, offset=10, value="Again")
    client = client_for(sandbox, max_in_flight=4)
    resumed = _load(frame, "mirror", client, ledger, "resume-run")

    # the killed run's updates had all been answered before its archives began: only the new changes
    rows = _rows(resumed, frame)
    assert {k for k, s in rows.items() if s == UPDATED} == again
    assert {s for k, s in rows.items() if k not in again} == {UNCHANGED}
    archived = Counter(r.key for r in resumed.archived)  # the rest: found archived, forgotten
    assert set(archived) == gone - archived_now and set(archived.values()) == {1}
    assert {r.status for r in resumed.archived} == {ARCHIVED}
    _check_state(sandbox, ledger, frame, gone)
    _unchanged_and_quiet(sandbox, frame, "mirror", client, ledger)


# ------------------------------------------------------ the source returns to what the ledger believes


def test_upsert_killed_while_updating_then_the_changed_rows_revert_before_the_rerun(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
    ledger_path: Path,
    tmp_path: Path,
) -> None:
    sandbox = sandbox_factory()
    client = client_for(sandbox, max_in_flight=4)
    ledger = open_ledger()
    synced = contacts_frame(SYNCED, tag="r")
    assert _load(synced, "upsert", client, ledger, "first-run").rows_created == SYNCED
    client.close()  # no connection of ours stays open: _settled waits for the sandbox's to close
    renamed, changed = _changed(synced, offset=25, value="Renamed")
    sandbox.set_faults(LATENCY)

    def ready() -> bool:  # the first update requests are inside the sandbox (8 batches of 5, 4 in flight)
        return _updates_received(sandbox) >= 1

    _Child(sandbox, ledger_path, tmp_path).run_and_kill(renamed, "upsert", ready, batch_size=5, in_flight=4)
    committed = {k for k, name in _first_names(sandbox).items() if name.startswith("Renamed")}
    assert committed and committed <= changed  # HubSpot holds some of the killed run's values

    # between the runs the 2 % of rows change again, back to the synced run's values (a correction
    # reverted): the source now equals what the ledger says HubSpot holds
    client = client_for(sandbox, max_in_flight=4)
    resumed = _load(synced, "upsert", client, ledger, "resume-run")

    _rows(resumed, synced)
    stale = {k: name for k, name in _first_names(sandbox).items() if name.startswith("Renamed")}
    assert not stale, (
        f"{len(stale)} of the {len(committed)} records the killed run updated keep its value although the "
        f"source reverted it (reported {Counter(r.status for r in resumed.rows if r.key in stale)}), "
        f"e.g. {sorted(stale.items())[:3]}"
    )
    _check_state(sandbox, ledger, synced, set())


def test_mirror_killed_while_archiving_then_some_keys_come_back_before_the_rerun(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
    ledger_path: Path,
    tmp_path: Path,
) -> None:
    sandbox = sandbox_factory()
    client = client_for(sandbox, max_in_flight=4)
    ledger = open_ledger()
    synced = contacts_frame(3000, tag="b")
    assert _load(synced, "mirror", client, ledger, "first-run").rows_created == 3000
    client.close()  # no connection of ours stays open: _settled waits for the sandbox's to close
    leaving = synced.index % 12 == 2  # 250 keys (8 %)
    gone = set(synced.loc[leaving, "contact_key"])
    shrunk = synced[~leaving].reset_index(drop=True)
    sandbox.set_faults(LATENCY)
    before = route_counts(sandbox)

    def ready() -> bool:  # the second of five archive batches is inside the sandbox; three are unsent
        return writes_since(before, sandbox).get("POST batch/archive", 0) >= 2

    _Child(sandbox, ledger_path, tmp_path).run_and_kill(shrunk, "mirror", ready, batch_size=50, in_flight=1)
    archived_now = _keys(sandbox.objects("contacts", archived=True))
    pending = {e.row_key for e in ledger.entries(PORTAL, "contacts") if e.status == "pending"}
    in_doubt = archived_now & pending  # archived in HubSpot, the answer lost: written ahead, still pending
    forgotten = archived_now - pending  # archived and answered: the ledger forgot them
    unsent = gone - archived_now  # never archived: written ahead too
    assert in_doubt and unsent and unsent <= pending, (len(in_doubt), len(forgotten), len(unsent))

    # between the runs some of the keys come back to the source (2 % of the rows), some of each kind
    back = set(sorted(in_doubt)[:20]) | set(sorted(forgotten)[:20]) | set(sorted(unsent)[:20])
    frame = synced[~leaving | synced["contact_key"].isin(back)].reset_index(drop=True)
    client = client_for(sandbox, max_in_flight=4)
    resumed = _load(frame, "mirror", client, ledger, "resume-run")

    _rows(resumed, frame)
    active = sandbox_id_map(sandbox)  # one record per email among the active ones
    missing = set(frame["contact_key"]) - set(active)
    assert not missing, (
        f"{len(missing)} keys back in the source have no active record (the killed run archived them and "
        f"lost the answer): reported {Counter(r.status for r in resumed.rows if r.key in missing)}, "
        f"e.g. {sorted(missing)[:3]}"
    )
    assert set(active) == set(frame["contact_key"])
    archived = _keys(sandbox.objects("contacts", archived=True))
    assert gone - back <= archived <= gone  # a key that came back may keep its old archived record
    assert ledger.id_map(PORTAL, "contacts") == active
    _unchanged_and_quiet(sandbox, frame, "mirror", client, ledger)
