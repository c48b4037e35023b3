"""Processes on both backends: a writer SIGKILLed between write-ahead and settle, and racing writers.

The children are ``ledger_worker`` commands (the ledger in another process, as a load in another Dagster
step or pod would be). Waits are on what the children print, never on time.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable

from hubspot_loader.state.ledger import CREATED, IN_FLIGHT, PENDING, UNRECONCILED, SqlLedger

from .conftest import PORTAL, Workers, pending, wait_until
from .ledger_worker import race_keys

HOUR = 3600.0


def test_a_writer_killed_between_write_ahead_and_settle_leaves_exactly_its_rows_in_doubt(
    state_url: str, ledgers: Callable[[], SqlLedger], workers: Workers
) -> None:
    child = workers.start("write-ahead", state_url)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "marked"  # written ahead and committed; now killed
    child.send_signal(signal.SIGKILL)
    child.wait()

    ledger = ledgers()
    doubt = ledger.in_doubt(PORTAL, "contacts")
    held = sorted(f"{p}-{i}" for p in ("long", "short") for i in range(10))
    assert [e.row_key for e in doubt] == held
    assert all(e.unique_value == f"{e.row_key}@example.com" and e.lease_owner == "killed-run" for e in doubt)
    assert {e.content_hash for e in doubt} == {pending(k, f"{k}@example.com").content_hash for k in held}
    assert ledger.id_map(PORTAL, "contacts") == {f"done-{i}": f"id-done-{i}" for i in range(10)}
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 10, PENDING: 20}

    # the rerun: rows under the dead run's live lease are not resent; expired ones are taken over for
    # reconciliation (never claimed for a blind resend)
    rerun = ledger.mark_pending(
        PORTAL,
        "contacts",
        [pending(k) for k in held],
        run_id="rerun",
        lease_owner="rerun",
        lease_seconds=HOUR,
    )
    assert rerun.claimed == frozenset()
    assert set(rerun.refused_for(IN_FLIGHT)) >= {f"long-{i}" for i in range(10)}
    assert set(rerun.refused_for(IN_FLIGHT)) | set(rerun.refused_for(UNRECONCILED)) == set(held)
    taken = wait_until(
        lambda: ledger.claim_in_doubt(PORTAL, "contacts", lease_owner="rerun", lease_seconds=HOUR),
        "the killed run's half-second leases expired",
    )
    assert [e.row_key for e in taken] == sorted(f"short-{i}" for i in range(10))  # type: ignore[attr-defined]


def test_two_processes_racing_for_the_same_rows_send_each_row_once(
    state_url: str, ledgers: Callable[[], SqlLedger], workers: Workers
) -> None:
    rows, batch = 600, 20
    racers = {owner: workers.start("race", state_url, owner, str(rows), str(batch)) for owner in ("A", "B")}
    workers.go(*racers.values())
    summaries = {owner: json.loads(workers.finish(p)) for owner, p in racers.items()}

    keys = set(race_keys(rows))
    claimed = {owner: set(s["claimed"]) for owner, s in summaries.items()}
    assert claimed["A"].isdisjoint(claimed["B"]), "a row was claimed (sent) by both processes"
    assert claimed["A"] | claimed["B"] == keys
    for owner, s in summaries.items():  # every row accounted for once in each process's own result
        outcomes = [k for name in ("claimed", "skipped", "in_flight", "created", "in_doubt") for k in s[name]]
        assert sorted(outcomes) == sorted(keys), owner
        assert s["in_doubt"] == [] and s["released"] == ["0"]
    ledger = ledgers()
    final = ledger.id_map(PORTAL, "contacts")
    assert final == {k: f"{owner}:{k}" for owner, mine in claimed.items() for k in mine}
    assert ledger.counts(PORTAL, "contacts") == {CREATED: rows}
    assert all(e.lease_owner is None for e in ledger.entries())


def test_concurrent_unleased_writers_lose_no_rows(
    state_url: str, ledgers: Callable[[], SqlLedger], workers: Workers
) -> None:
    writers = [workers.start("write", state_url, tag, "1500", "50") for tag in ("w1", "w2")]
    workers.go(*writers)
    assert [workers.finish(p).strip() for p in writers] == ["done", "done"]
    ledger = ledgers()
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 3000}
    assert len(ledger.id_map(PORTAL, "contacts")) == 3000
