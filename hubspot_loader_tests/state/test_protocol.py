"""The SyncLedger protocol on both backends: write-ahead, settling, lookups, partitions, threads, closing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from hubspot_loader.state.ledger import (
    CREATED,
    FAILED,
    PENDING,
    LedgerError,
    Settlement,
    SqlLedger,
    SyncLedger,
)

from .conftest import PORTAL, pending


def test_write_ahead_then_settle_keeps_first_run_and_moves_last_run(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    assert isinstance(ledger, SyncLedger)
    claim = ledger.mark_pending(
        PORTAL, "contacts", [pending("a", "a@x.io"), pending("b")], run_id="r1", partition="p1"
    )
    assert claim.claimed == {"a", "b"} and claim.complete
    assert [e.row_key for e in ledger.in_doubt(PORTAL, "contacts")] == ["a", "b"]
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.status, entry.first_run_id, entry.last_run_id, entry.partition) == (
        PENDING,
        "r1",
        "r1",
        "p1",
    )
    assert (entry.unique_property, entry.unique_value) == ("email", "a@x.io")
    assert (entry.lease_owner, entry.lease_expires_at, entry.sent_fingerprint) == (None, None, None)

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


def test_write_ahead_keeps_a_known_id_and_settle_writes_exactly_what_it_is_given(
    ledgers: Callable[[], SqlLedger],
) -> None:
    ledger = ledgers()
    ledger.settle(PORTAL, "contacts", [Settlement("a", CREATED, hubspot_id="7")], run_id="r1")
    ledger.mark_pending(PORTAL, "contacts", [pending("a", "new@x.io")], run_id="r2")
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.status, entry.hubspot_id, entry.first_run_id, entry.unique_value) == (
        PENDING,
        "7",
        "r1",
        "new@x.io",
    )
    # settling pending with the known id and an error (an ambiguous failure) keeps it in doubt
    ledger.settle(
        PORTAL,
        "contacts",
        [Settlement("a", PENDING, hubspot_id="7", error="TRANSPORT_ERROR: x")],
        run_id="r2",
    )
    assert [(e.row_key, e.hubspot_id, e.error) for e in ledger.in_doubt(PORTAL, "contacts")] == [
        ("a", "7", "TRANSPORT_ERROR: x")
    ]
    # settle writes hubspot_id as given: failed without an id clears it
    ledger.settle(PORTAL, "contacts", [Settlement("a", FAILED, error="gone")], run_id="r3")
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.status, entry.hubspot_id, entry.error, entry.last_run_id) == (FAILED, None, "gone", "r3")


def test_lookup_reads_many_keys_and_odd_keys_in_chunks(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    odd = ["ключ-✓", "a,'b\"c", "x" * 2000, "with space", "semi;colon", "%_wild"]
    keys = [f"k{i:04d}" for i in range(1203)] + odd
    ledger.settle(
        PORTAL,
        "contacts",
        [Settlement(k, CREATED, hubspot_id=str(i)) for i, k in enumerate(keys)],
        run_id="r",
    )
    found = ledger.lookup(PORTAL, "contacts", [*keys, "absent", keys[0]])
    assert set(found) == set(keys)
    assert found["ключ-✓"].hubspot_id == str(keys.index("ключ-✓"))
    assert ledger.lookup(PORTAL, "contacts", ["%"]) == {}  # keys are compared exactly, never as patterns
    assert len(ledger.id_map(PORTAL, "contacts")) == len(keys)


def test_a_key_given_twice_in_one_call_counts_once_the_last_time(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    ledger.mark_pending(
        PORTAL, "contacts", [pending("a", "first@x.io"), pending("a", "last@x.io")], run_id="r"
    )
    assert ledger.lookup(PORTAL, "contacts", ["a"])["a"].unique_value == "last@x.io"
    ledger.settle(
        PORTAL,
        "contacts",
        [Settlement("a", FAILED, error="x"), Settlement("a", CREATED, hubspot_id="9")],
        run_id="r",
    )
    assert ledger.id_map(PORTAL, "contacts") == {"a": "9"}


def test_bad_settlements_are_refused_before_anything_is_written(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    with pytest.raises(ValueError, match="without a HubSpot id"):
        ledger.settle(PORTAL, "contacts", [Settlement("a", FAILED), Settlement("b", CREATED)], run_id="r")
    with pytest.raises(ValueError, match="bad ledger status 'done' for row 'a'"):
        ledger.settle(PORTAL, "contacts", [Settlement("a", "done")], run_id="r")
    assert ledger.entries() == []


def test_writes_are_visible_to_another_ledger_on_the_same_store(ledgers: Callable[[], SqlLedger]) -> None:
    first, second = ledgers(), ledgers()
    first.mark_pending(PORTAL, "contacts", [pending("k1")], run_id="r1")
    assert [e.row_key for e in second.in_doubt(PORTAL, "contacts")] == ["k1"]
    second.settle(PORTAL, "contacts", [Settlement("k1", CREATED, hubspot_id="1")], run_id="r2")
    assert first.id_map(PORTAL, "contacts") == {"k1": "1"}
    assert [(e.portal, e.object_type, e.row_key) for e in first.entries(PORTAL)] == [
        (PORTAL, "contacts", "k1")
    ]
    assert first.entries("other") == [] and first.entries(PORTAL, "companies") == []


def test_many_threads_write_ahead_and_settle_without_losing_rows(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
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


def test_a_closed_ledger_refuses_calls_and_closing_twice_is_harmless(
    ledgers: Callable[[], SqlLedger],
) -> None:
    ledger = ledgers()
    ledger.mark_pending(PORTAL, "contacts", [pending("a")], run_id="r")
    ledger.close()
    ledger.close()
    with pytest.raises(LedgerError, match="is closed"):
        ledger.in_doubt(PORTAL, "contacts")
    with ledgers() as again:
        assert [e.row_key for e in again.in_doubt(PORTAL, "contacts")] == ["a"]


def test_empty_calls_write_nothing(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    assert ledger.mark_pending(PORTAL, "contacts", [], run_id="r").claimed == frozenset()
    ledger.settle(PORTAL, "contacts", [], run_id="r")
    assert ledger.lookup(PORTAL, "contacts", []) == {} and ledger.entries() == []
