"""Issue #13 acceptance: the fault soak's guarantees hold in the sync modes (``upsert`` and ``mirror``).

Contacts (unique by ``email``) and companies (unique by a custom ``warehouse_key`` made with
``hasUniqueValue`` through the properties API) go through three syncs against one sandbox:

1. an initial sync into the empty portal under injected faults: 5xx, 429 bursts, commit-then-drop and
   commit-then-hang-past-the-read-timeout (on the lookups too: ``writes_only=False``), and batch-create
   answers whose status is CANCELED, PENDING or PROCESSING;
2. a second sync under the same kinds of faults (another seed) in which 2 % of the rows changed a value,
   a few rows are new and, in mirror mode, a few keys (5 %) left the source; small batches so that the
   updates and archives are spread over many requests;
3. a clean rerun, which must find every row unchanged and write nothing.

After each: exactly one record per key, every record holding the row's latest values, nothing archived
that the source still has (the removed keys archived in mirror mode), the ledger's ids equal to the
sandbox's, and every row of the frame in the result exactly once.

The last tests reproduce, deterministically and without a crash (every write committed, then its answer
lost), the cases an earlier version got wrong: an update or an archive whose answer was lost, then a
source that goes back to what the ledger believed (the writes are now recorded ahead), and rows left in
doubt whose keys left the source (mirror now lists what to archive after reconciling them).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.model import (
    ADOPTED,
    ADOPTED_UPDATED,
    ARCHIVED,
    CREATED,
    RECONCILED,
    UNCHANGED,
    UPDATED,
    LoadResult,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadAborted, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED as LEDGER_CREATED
from hubspot_loader.state.ledger import PENDING, SQLiteLedger

from ..sync.conftest import create_unique_property, route_counts, writes_since
from .conftest import PORTAL, contacts_frame
from .test_fault_soak import SOAK_FAULTS, SOAK_RETRY

CONTACTS = 600
COMPANIES = 300
CHANGED_SHARE = 0.02
NEW_ROWS = 6
REMOVED_SHARE = 0.05  # under mirror's default archive_limit (10 %)

#: the initial sync: the create soak's faults, on the lookups too
FIRST_FAULTS = dataclasses.replace(SOAK_FAULTS, writes_only=False, seed=13)
#: the second sync: the same kinds, denser (few requests: 2 % of the rows), another seed
SECOND_FAULTS = dataclasses.replace(
    SOAK_FAULTS,
    writes_only=False,
    seed=14,
    error_rate=0.15,
    rate_limit_burst_rate=0.08,
    drop_after_commit_rate=0.08,
    hang_after_commit_rate=0.03,
)
#: what a sync may report for a row new to the ledger (adopted: a create answered 409 by a record a
#: lost answer had made)
NEW_STATUSES = {CREATED, RECONCILED, ADOPTED, ADOPTED_UPDATED}
#: mirror's last faulted step: its only write is one archive request per object type, answered in turn
#: by a commit-then-drop, a commit-then-hang past the read timeout, a 5xx and a 429 before it gets a 204
#: (seed 3474 draws exactly that sequence; ``writes_only``: the reads stay clean)
ARCHIVE_FAULTS = FaultConfig(
    error_rate=0.25,
    rate_limit_burst_rate=0.2,
    rate_limit_burst_length=1,
    drop_after_commit_rate=0.25,
    hang_after_commit_rate=0.2,
    hang_seconds=2.0,
    seed=3474,
)
ARCHIVE_FAULT_KINDS = {"drop", "hang", "rate_limit_burst"}
WRITE_ROUTES = ("POST batch/create", "POST batch/update", "POST batch/archive", "POST batch/upsert")


def _spec(object_type: str, key_column: str, unique: str, mode: str, batch_size: int) -> HubSpotLoadSpec:
    return HubSpotLoadSpec(
        object_type=object_type,
        key_column=key_column,
        unique_property=unique,
        preflight="off",
        write_mode=mode,  # type: ignore[arg-type]
        batch_size=batch_size,
    )


def companies_frame(n: int, *, start: int = 0) -> pd.DataFrame:
    """``n`` companies keyed ``co{i}``, the key also in the unique ``warehouse_key``."""
    idx = range(start, start + n)
    keys = [f"co{i}" for i in idx]
    return pd.DataFrame({"company_key": keys, "warehouse_key": keys, "name": [f"Company {i}" for i in idx]})


def _changed(frame: pd.DataFrame, column: str, every: int, value: str) -> tuple[pd.DataFrame, set[str]]:
    """Return ``frame`` with ``column`` of every ``every``-th row changed, and those rows' keys."""
    out = frame.copy()
    chosen = out.index % every == every // 2
    out.loc[chosen, column] = [f"{value} {i}" for i in out.index[chosen]]
    return out, set(out.loc[chosen, out.columns[0]])


def _without(frame: pd.DataFrame, share: float) -> tuple[pd.DataFrame, set[str]]:
    """Return ``frame`` without an evenly spread ``share`` of its rows, and the removed keys."""
    every = round(1 / share)
    gone = frame.index % every == 1
    return frame[~gone].reset_index(drop=True), set(frame.loc[gone, frame.columns[0]])


def _statuses(result: LoadResult) -> dict[str, str]:
    """Key → status of every row, asserting each key of the result appears once."""
    keys = Counter(r.key for r in result.rows)
    repeated = {k: n for k, n in keys.items() if n > 1}
    assert not repeated, f"rows reported more than once: {list(repeated.items())[:5]}"
    return {r.key: r.status for r in result.rows}


def _accounted(result: LoadResult, frame: pd.DataFrame) -> dict[str, str]:
    """Assert every row of ``frame`` is in ``result`` exactly once, none failed; return key → status."""
    statuses = _statuses(result)
    key_column = frame.columns[0]
    assert set(statuses) == set(frame[key_column]), "the result's rows are not the frame's rows"
    assert sorted(r.position for r in result.rows) == list(range(len(frame)))
    failed = result.failed_rows
    assert not failed, f"{len(failed)} failed, e.g. {failed[:3]}"
    return statuses


def _stored(
    sandbox: SandboxHandle, object_type: str, unique: str, *, archived: bool = False
) -> dict[str, Any]:
    """Stored records of ``object_type`` by their unique value (asserting none is stored twice)."""
    objects = sandbox.objects(object_type, archived=archived)
    values = Counter(str(o["properties"].get(unique)).lower() for o in objects)
    repeated = {v: n for v, n in values.items() if n > 1}
    assert not repeated, f"{object_type} stored twice: {list(repeated.items())[:5]}"
    return {str(o["properties"].get(unique)).lower(): o for o in objects}


class _Load:
    """One object type's syncs in one mode, and the state checks that follow each of them."""

    def __init__(
        self, sandbox: SandboxHandle, ledger: SQLiteLedger, mode: str, object_type: str, unique: str
    ) -> None:
        self.sandbox, self.ledger, self.mode = sandbox, ledger, mode
        self.object_type, self.unique = object_type, unique
        self.key_column = "contact_key" if object_type == "contacts" else "company_key"
        self.changing = "firstname" if object_type == "contacts" else "name"
        self.values = [unique, self.changing]
        self.removed: set[str] = set()

    def key_of(self, unique_value: str) -> str:
        """The row key of a record's unique value (``s12@example.com`` → ``s12``; ``co3`` → ``co3``)."""
        return unique_value.split("@", 1)[0]

    def sync(self, frame: pd.DataFrame, client: HubSpotClient, *, batch_size: int) -> LoadResult:
        spec = _spec(self.object_type, self.key_column, self.unique, self.mode, batch_size)
        return load_dataframe(frame, spec, client=client, ledger=self.ledger, run=LoadRun(portal=PORTAL))

    def check_state(self, frame: pd.DataFrame, result: LoadResult) -> None:
        """One record per key with the frame's values; the ledger and the result hold the sandbox's ids."""
        active = _stored(self.sandbox, self.object_type, self.unique)
        key_column = self.key_column
        ids = {self.key_of(value): str(o["id"]) for value, o in active.items()}
        assert set(ids) == set(frame[key_column]), (
            f"{self.object_type}: missing {sorted(set(frame[key_column]) - set(ids))[:5]}, "
            f"extra {sorted(set(ids) - set(frame[key_column]))[:5]}"
        )
        by_key = {self.key_of(value): o for value, o in active.items()}
        wrong = [
            (row[key_column], column, row[column], by_key[row[key_column]]["properties"].get(column))
            for row in frame.to_dict("records")
            for column in self.values
            if by_key[row[key_column]]["properties"].get(column) != row[column]
        ]
        assert not wrong, f"{self.object_type}: {len(wrong)} stale values, e.g. {wrong[:3]}"
        assert self.ledger.id_map(PORTAL, self.object_type) == ids
        assert self.ledger.counts(PORTAL, self.object_type) == {LEDGER_CREATED: len(frame)}
        assert result.id_map == ids
        stored = _stored(self.sandbox, self.object_type, self.unique, archived=True)
        archived = {self.key_of(value) for value in stored}
        assert archived == self.removed, f"{self.object_type}: archived {sorted(archived ^ self.removed)[:5]}"
        assert self.sandbox.counters()["pending_objects"] == 0

    def archived_exactly(self, result: LoadResult, gone: set[str]) -> None:
        """Every key in ``gone`` archived once in ``result`` (and no other record)."""
        archived = Counter(r.key for r in result.archived)
        assert set(archived) == gone and set(archived.values()) <= {1}, archived
        not_archived = [r for r in result.archived if r.status != ARCHIVED]
        assert not not_archived, not_archived


def _fault_kinds(before: dict[str, int], sandbox: SandboxHandle) -> Counter[str]:
    after = sandbox.counters()["faults"]
    return Counter({k: int(v) - before.get(k, 0) for k, v in after.items() if int(v) - before.get(k, 0)})


@pytest.mark.parametrize("reads", ["by_key", "scanned"])
@pytest.mark.parametrize("mode", ["upsert", "mirror"])
def test_sync_soak_under_faults_ends_with_one_record_per_key_holding_the_latest_values(
    mode: str,
    reads: str,
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[..., SQLiteLedger],
) -> None:
    """``reads``: the rows' state looked up by key, or scanned at once as a large sync does."""
    sandbox = sandbox_factory(
        rate_limit_per_10s=500, rate_limit_window_ms=500, shuffle_results=True, faults=FIRST_FAULTS
    )
    create_unique_property(sandbox, "companies", "warehouse_key", "companyinformation")
    client = client_for(
        sandbox, timeout=(2.0, 1.5), requests_per_10s=10_000, max_in_flight=4, retry=SOAK_RETRY
    )
    ledger = open_ledger(scanning=reads == "scanned")
    contacts = _Load(sandbox, ledger, mode, "contacts", "email")
    companies = _Load(sandbox, ledger, mode, "companies", "warehouse_key")
    frames = {contacts: contacts_frame(CONTACTS, tag="s"), companies: companies_frame(COMPANIES)}
    new_rows = {
        contacts: contacts_frame(NEW_ROWS, start=CONTACTS, tag="s"),
        companies: companies_frame(NEW_ROWS, start=COMPANIES),
    }

    # 1. the initial sync into an empty portal, under faults
    for load, frame in frames.items():
        result = load.sync(frame, client, batch_size=10)
        statuses = _accounted(result, frame)
        assert set(statuses.values()) <= NEW_STATUSES, Counter(statuses.values())
        assert result.archived == []
        load.check_state(frame, result)
    first_faults = Counter(sandbox.counters()["faults"])

    # 2. 2 % of the rows changed, a few are new and, in mirror mode, 5 % of the keys left the source;
    # under the same kinds of faults, in small batches (archives follow the client's batch size)
    sandbox.set_faults(SECOND_FAULTS)
    small = client_for(
        sandbox, timeout=(2.0, 1.5), requests_per_10s=10_000, max_in_flight=4, retry=SOAK_RETRY, batch_size=5
    )
    for load, frame in frames.items():
        frame, changed = _changed(frame, load.changing, round(1 / CHANGED_SHARE), "Renamed")
        if mode == "mirror":
            frame, load.removed = _without(frame, REMOVED_SHARE)
            assert load.removed and not load.removed & changed  # the removed rows are others
        new = set(new_rows[load][load.key_column])
        frame = frames[load] = pd.concat([frame, new_rows[load]], ignore_index=True)
        result = load.sync(frame, small, batch_size=3)
        statuses = _accounted(result, frame)
        assert {k for k, s in statuses.items() if s == UPDATED} == changed
        assert {statuses[k] for k in new} <= NEW_STATUSES, {k: statuses[k] for k in new}
        assert {statuses[k] for k in set(statuses) - changed - new} == {UNCHANGED}
        load.archived_exactly(result, load.removed)
        load.check_state(frame, result)
    second = _fault_kinds(first_faults, sandbox)
    assert sum(second.values()) >= 1, second  # the second sync's writes and reads met faults too
    every_kind = first_faults + second
    assert every_kind["rate_limit_burst"] >= 1 and every_kind["drop"] + every_kind["hang"] >= 1, every_kind
    assert any(k.startswith("status_5") for k in every_kind), every_kind

    # 2b. mirror: more keys leave the source; the one archive request of each type meets every fault kind
    if mode == "mirror":
        for load, frame in frames.items():
            sandbox.set_faults(ARCHIVE_FAULTS)
            before = Counter(sandbox.counters()["faults"])
            frame, gone = _without(frame, 0.03)
            frames[load] = frame
            load.removed |= gone
            result = load.sync(frame, client, batch_size=3)
            assert set(_accounted(result, frame).values()) == {UNCHANGED}
            load.archived_exactly(result, gone)
            kinds = _fault_kinds(before, sandbox)
            assert {k for k in kinds if not k.startswith("status_5")} == ARCHIVE_FAULT_KINDS, kinds
            assert sum(kinds.values()) == 4 and [b.requests for b in result.batches] == [5], kinds
            load.check_state(frame, result)

    # 3. a clean rerun: every row unchanged, nothing written
    sandbox.set_faults(FaultConfig())
    routes = route_counts(sandbox)
    for load, frame in frames.items():
        result = load.sync(frame, client, batch_size=3)
        assert set(_accounted(result, frame).values()) == {UNCHANGED}
        assert result.batches == [] and result.archived == []
        load.check_state(frame, result)
    assert not {k for k in writes_since(routes, sandbox) if k in WRITE_ROUTES}
    print(f"sync soak ({mode}): faults {dict(every_kind)}, second sync {dict(second)}")


# ------------------------------------------- writes HubSpot committed whose answers were all lost (no crash)

#: every write is committed, then its connection dropped; two attempts, so the write fails in the end (and
#: the load stops: HubSpot "never answered")
ALL_DROPPED = FaultConfig(drop_after_commit_rate=1.0, seed=1)
TWO_ATTEMPTS = dataclasses.replace(SOAK_RETRY, max_attempts=2)


def test_an_update_committed_without_an_answer_then_reverted_in_the_source_is_sent_again(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    sandbox = sandbox_factory()
    client = client_for(sandbox, retry=TWO_ATTEMPTS, timeout=(2.0, 1.5))
    load = _Load(sandbox, open_ledger(), "upsert", "contacts", "email")
    synced = contacts_frame(50, tag="u")
    assert load.sync(synced, client, batch_size=10).rows_created == 50
    renamed, changed = _changed(synced, "firstname", 50, "Renamed")  # one row: u25

    sandbox.set_faults(ALL_DROPPED)
    with pytest.raises(LoadAborted, match="never answered") as stopped:
        load.sync(renamed, client, batch_size=10)
    sandbox.set_faults(FaultConfig())
    failed = stopped.value.result
    assert {r.key for r in failed.failed_rows} == changed  # the update got no answer: the row failed
    held = _stored(sandbox, "contacts", "email")["u25@example.com"]["properties"]["firstname"]
    assert held == "Renamed 25"  # ... but HubSpot had committed it

    rerun = load.sync(synced, client, batch_size=10)  # the source is back to the synced values

    assert rerun.count(UPDATED) == 1, Counter(r.status for r in rerun.rows)  # the record must be corrected
    load.check_state(synced, rerun)


def test_a_record_archived_without_an_answer_whose_key_comes_back_is_active_again(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    sandbox = sandbox_factory()
    client = client_for(sandbox, retry=TWO_ATTEMPTS, timeout=(2.0, 1.5))
    load = _Load(sandbox, open_ledger(), "mirror", "contacts", "email")
    synced = contacts_frame(50, tag="a")
    assert load.sync(synced, client, batch_size=10).rows_created == 50

    sandbox.set_faults(ALL_DROPPED)
    shrunk = synced[synced["contact_key"] != "a7"].reset_index(drop=True)
    with pytest.raises(LoadAborted, match="never answered") as stopped:
        load.sync(shrunk, client, batch_size=10)
    sandbox.set_faults(FaultConfig())
    failed = stopped.value.result
    assert [(r.key, r.status) for r in failed.archived] == [("a7", "failed")]  # not known to be archived
    assert set(_stored(sandbox, "contacts", "email", archived=True)) == {"a7@example.com"}  # but it is

    back = load.sync(synced, client, batch_size=10)  # the key is back in the source

    assert "a7@example.com" in _stored(sandbox, "contacts", "email"), Counter(r.status for r in back.rows)


def test_rows_left_in_doubt_whose_keys_left_the_source_are_archived_by_the_run_that_finds_them(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    sandbox = sandbox_factory()
    client = client_for(sandbox, retry=TWO_ATTEMPTS, timeout=(2.0, 1.5))
    ledger = open_ledger()
    load = _Load(sandbox, ledger, "mirror", "contacts", "email")
    synced = contacts_frame(100, tag="d")
    assert load.sync(synced, client, batch_size=10).rows_created == 100
    grown = pd.concat([synced, contacts_frame(5, start=100, tag="d")], ignore_index=True)

    sandbox.set_faults(dataclasses.replace(ALL_DROPPED, writes_only=False))  # the lookups get no answer too
    with pytest.raises(LoadAborted, match="never answered"):
        load.sync(grown, client, batch_size=10)
    sandbox.set_faults(FaultConfig())
    assert ledger.counts(PORTAL, "contacts") == {LEDGER_CREATED: 100, PENDING: 5}
    assert len(_stored(sandbox, "contacts", "email")) == 105  # HubSpot made the 5 new ones

    result = load.sync(synced, client, batch_size=10)  # the 5 new keys left the source again

    assert {r.key for r in result.archived} == {f"d{i}" for i in range(100, 105)}, result.warnings
    load.removed = {f"d{i}" for i in range(100, 105)}
    load.check_state(synced, result)
