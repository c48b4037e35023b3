"""SQLiteLedger on real files: write-ahead, settling, lookups, partitions, threads, schema version."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from hubspot_loader.state.ledger import (
    CREATED,
    FAILED,
    PENDING,
    PendingRow,
    Settlement,
    SQLiteLedger,
    SyncLedger,
    content_hash,
    default_portal,
    token_fingerprint,
)

from .conftest import PORTAL


def pending(key: str, value: str | None = None) -> PendingRow:
    return PendingRow(key, content_hash({"email": value or key}), "email" if value else None, value)


def test_write_ahead_then_settle_keeps_first_run_and_moves_last_run(
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    ledger = open_ledger()
    assert isinstance(ledger, SyncLedger)
    ledger.mark_pending(
        PORTAL, "contacts", [pending("a", "a@x.io"), pending("b")], run_id="r1", partition="p1"
    )
    assert [e.row_key for e in ledger.in_doubt(PORTAL, "contacts")] == ["a", "b"]
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.status, entry.first_run_id, entry.last_run_id, entry.partition) == (
        PENDING,
        "r1",
        "r1",
        "p1",
    )
    assert (entry.unique_property, entry.unique_value) == ("email", "a@x.io")

    ledger.settle(
        PORTAL,
        "contacts",
        [Settlement("a", CREATED, hubspot_id="101"), Settlement("b", FAILED, error="INVALID_EMAIL")],
        run_id="r1",
        partition="p1",
    )
    assert ledger.in_doubt(PORTAL, "contacts") == []
    ledger.mark_pending(PORTAL, "contacts", [pending("b")], run_id="r2", partition="p2")
    ledger.settle(PORTAL, "contacts", [Settlement("b", CREATED, hubspot_id="102")], run_id="r2")
    got = ledger.lookup(PORTAL, "contacts", ["a", "b", "missing"])
    assert set(got) == {"a", "b"}
    b = got["b"]
    assert (b.status, b.hubspot_id, b.first_run_id, b.last_run_id, b.error) == (
        CREATED,
        "102",
        "r1",
        "r2",
        None,
    )
    assert b.partition == "p2"  # a settle without partition keeps the one written ahead
    assert ledger.id_map(PORTAL, "contacts") == {"a": "101", "b": "102"}
    assert ledger.id_map(PORTAL, "contacts", partition="p1") == {"a": "101"}
    assert ledger.id_map(PORTAL, "companies") == {} and ledger.id_map("other", "contacts") == {}
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 2}


def test_writes_are_visible_to_another_connection_and_the_file_uses_wal(
    ledger_path: Path, open_ledger: Callable[[], SQLiteLedger]
) -> None:
    first = open_ledger()
    first.mark_pending(PORTAL, "contacts", [pending("k1")], run_id="r1")
    second = open_ledger()
    assert [e.row_key for e in second.in_doubt(PORTAL, "contacts")] == ["k1"]
    with sqlite3.connect(ledger_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [r[1] for r in raw.execute("PRAGMA table_info(sync_rows)")]
    assert columns[:11] == [
        "portal",
        "object_type",
        "row_key",
        "hubspot_id",
        "content_hash",
        "first_run_id",
        "last_run_id",
        "status",
        "error",
        "updated_at",
        "partition",
    ]


def test_many_threads_write_ahead_and_settle_without_losing_rows(
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    ledger = open_ledger()
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for batch in range(10):
                keys = [f"t{t}-b{batch}-{i}" for i in range(50)]
                ledger.mark_pending(PORTAL, "contacts", [pending(k) for k in keys], run_id="r")
                ledger.settle(
                    PORTAL, "contacts", [Settlement(k, CREATED, hubspot_id=k) for k in keys], run_id="r"
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 8 * 10 * 50}


def test_bad_settlements_are_refused_before_anything_is_written(
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    ledger = open_ledger()
    with pytest.raises(ValueError, match="without a HubSpot id"):
        ledger.settle(PORTAL, "contacts", [Settlement("a", FAILED), Settlement("b", CREATED)], run_id="r")
    with pytest.raises(ValueError, match="bad ledger status"):
        ledger.settle(PORTAL, "contacts", [Settlement("a", "done")], run_id="r")
    assert ledger.entries() == []


def test_a_newer_schema_version_is_refused(
    ledger_path: Path, open_ledger: Callable[[], SQLiteLedger]
) -> None:
    open_ledger().close()
    with sqlite3.connect(ledger_path) as raw:
        raw.execute("UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="schema version 99"):
        SQLiteLedger(ledger_path)


def test_content_hash_covers_properties_and_associations_only() -> None:
    props = {"email": "a@x.io", "firstname": "A"}
    assert content_hash(props) == content_hash(dict(reversed(props.items())))
    assert content_hash(props) != content_hash({**props, "firstname": "B"})
    link = [
        {"to": {"id": "7"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}
    ]
    assert content_hash(props, link) != content_hash(props)


def test_default_portal_names_the_token_without_revealing_it() -> None:
    token = "pat-na1-11111111-2222-3333-4444-555555555555"
    portal = default_portal("https://api.hubapi.com/", token_fingerprint(token))
    assert portal.startswith("https://api.hubapi.com#") and len(portal.split("#")[1]) == 12
    assert token not in portal and "5555" not in portal
    assert portal != default_portal("https://api.hubapi.com", token_fingerprint(token + "x"))
