"""What was sent, stored on both backends: digests and fingerprint records in settle/mark_pending; forget."""

from __future__ import annotations

from collections.abc import Callable

from hubspot_loader.state.ledger import (
    CREATED,
    FAILED,
    PENDING,
    PendingRow,
    Settlement,
    SqlLedger,
    SyncLedger,
)

from .conftest import PORTAL

RECORD_1 = '{"v":1,"p":{"email":"1111111111111111","phone":null}}'
RECORD_2 = '{"v":1,"p":{"email":"2222222222222222","phone":null},"a":["HUBSPOT_DEFINED/279/7"]}'


def stored(ledger: SqlLedger, key: str, object_type: str = "contacts") -> tuple[str | None, str | None]:
    entry = ledger.lookup(PORTAL, object_type, [key])[key]
    return entry.content_hash, entry.sent_fingerprint


def test_settle_writes_digest_and_record_when_given_and_keeps_them_when_not(
    ledgers: Callable[[], SqlLedger],
) -> None:
    ledger = ledgers()
    ledger.settle(
        PORTAL,
        "contacts",
        [
            Settlement("a", CREATED, hubspot_id="101", content_hash="fp1:aaaa", fingerprint=RECORD_1),
            Settlement("b", CREATED, hubspot_id="102"),  # a new row without them: NULL
        ],
        run_id="r1",
        partition="p1",
    )
    assert stored(ledger, "a") == ("fp1:aaaa", RECORD_1)
    assert stored(ledger, "b") == (None, None)

    # None keeps what is stored; every other field behaves as before (written as given)
    ledger.settle(PORTAL, "contacts", [Settlement("a", FAILED, error="boom")], run_id="r2")
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.content_hash, entry.sent_fingerprint) == ("fp1:aaaa", RECORD_1)
    assert (entry.status, entry.hubspot_id, entry.error) == (FAILED, None, "boom")
    assert (entry.first_run_id, entry.last_run_id, entry.partition) == ("r1", "r2", "p1")

    ledger.settle(
        PORTAL,
        "contacts",
        [Settlement("a", CREATED, hubspot_id="101", content_hash="fp1:bbbb", fingerprint=RECORD_2)],
        run_id="r3",
    )
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.content_hash, entry.sent_fingerprint, entry.error) == ("fp1:bbbb", RECORD_2, None)
    assert (entry.status, entry.hubspot_id, entry.last_run_id) == (CREATED, "101", "r3")

    # "" is a value: an adopted record's empty fingerprint (the next run updates it in full)
    ledger.settle(
        PORTAL, "contacts", [Settlement("a", CREATED, hubspot_id="101", content_hash="", fingerprint="")],
        run_id="r4",
    )  # fmt: skip
    assert stored(ledger, "a") == ("", "")
    assert stored(ledger, "b") == (None, None)  # the other row was not touched


def test_a_settlement_given_twice_counts_once_with_its_last_values(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    ledger.settle(
        PORTAL,
        "contacts",
        [
            Settlement("a", CREATED, hubspot_id="1", content_hash="fp1:first", fingerprint=RECORD_1),
            Settlement("a", CREATED, hubspot_id="1"),
        ],
        run_id="r1",
    )
    assert stored(ledger, "a") == (None, None)


def test_settle_with_a_lease_owner_writes_them_too(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    ledger.mark_pending(
        PORTAL, "contacts", [PendingRow("a", "fp1:aaaa", fingerprint=RECORD_1)], run_id="r1",
        lease_owner="A", lease_seconds=3600.0,
    )  # fmt: skip
    ledger.settle(
        PORTAL, "contacts",
        [Settlement("a", CREATED, hubspot_id="9", content_hash="fp1:bbbb", fingerprint=RECORD_2)],
        run_id="r1", lease_owner="A",
    )  # fmt: skip
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.content_hash, entry.sent_fingerprint, entry.lease_owner) == ("fp1:bbbb", RECORD_2, None)


def test_write_ahead_writes_the_record_when_given_and_keeps_the_stored_one_when_not(
    ledgers: Callable[[], SqlLedger],
) -> None:
    ledger = ledgers()
    first = PendingRow("a", "fp1:aaaa", "email", "a@x.io", fingerprint=RECORD_1)
    ledger.mark_pending(PORTAL, "contacts", [first], run_id="r1")
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.status, entry.content_hash, entry.sent_fingerprint) == (PENDING, "fp1:aaaa", RECORD_1)
    assert (entry.unique_property, entry.unique_value) == ("email", "a@x.io")
    ledger.settle(PORTAL, "contacts", [Settlement("a", CREATED, hubspot_id="5")], run_id="r1")

    # content_hash is written ahead as before; the record only when given
    ledger.mark_pending(PORTAL, "contacts", [PendingRow("a", "fp1:cccc")], run_id="r2")
    entry = ledger.lookup(PORTAL, "contacts", ["a"])["a"]
    assert (entry.content_hash, entry.sent_fingerprint, entry.hubspot_id) == ("fp1:cccc", RECORD_1, "5")
    ledger.mark_pending(PORTAL, "contacts", [PendingRow("a", "fp1:dddd", fingerprint=RECORD_2)], run_id="r3")
    assert stored(ledger, "a") == ("fp1:dddd", RECORD_2)
    ledger.mark_pending(PORTAL, "contacts", [PendingRow("new", "fp1:eeee")], run_id="r3")
    assert stored(ledger, "new") == ("fp1:eeee", None)


def test_a_claiming_write_ahead_writes_the_record_only_for_the_rows_it_claims(
    ledgers: Callable[[], SqlLedger],
) -> None:
    a, b = ledgers(), ledgers()

    def claim(ledger: SqlLedger, owner: str, key: str, digest: str, record: str | None) -> frozenset[str]:
        rows = [PendingRow(key, digest, fingerprint=record)]
        got = ledger.mark_pending(
            PORTAL, "contacts", rows, run_id=f"run-{owner}", lease_owner=owner, lease_seconds=3600.0
        )
        return got.claimed

    assert claim(a, "A", "k", "fp1:aaaa", RECORD_1) == {"k"}
    assert claim(b, "B", "k", "fp1:bbbb", RECORD_2) == frozenset()  # refused: A holds it
    assert stored(a, "k") == ("fp1:aaaa", RECORD_1)
    assert claim(a, "A", "k", "fp1:cccc", None) == {"k"}  # the owner again, without a record: kept
    assert stored(a, "k") == ("fp1:cccc", RECORD_1)
    assert claim(a, "A", "k", "fp1:dddd", RECORD_2) == {"k"}
    assert stored(b, "k") == ("fp1:dddd", RECORD_2)


def test_forget_deletes_exactly_the_keys_given(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    assert isinstance(ledger, SyncLedger)
    keys = [f"k{i:04d}" for i in range(1_203)]  # more than one statement's worth of keys
    made = [Settlement(k, CREATED, hubspot_id=str(i)) for i, k in enumerate(keys)]
    ledger.settle(PORTAL, "contacts", made, run_id="r1")
    ledger.settle(PORTAL, "companies", [Settlement("k0000", CREATED, hubspot_id="c")], run_id="r1")
    ledger.settle("other", "contacts", [Settlement("k0001", CREATED, hubspot_id="o")], run_id="r1")
    ledger.mark_pending(PORTAL, "contacts", [PendingRow("pending-one", "fp1:x")], run_id="r1")

    gone = [*keys[:1_100], "pending-one", "unknown", keys[0]]  # a repeat and an unknown key
    assert ledger.forget(PORTAL, "contacts", gone) == 1_101
    assert ledger.id_map(PORTAL, "contacts") == {k: str(i) for i, k in enumerate(keys) if i >= 1_100}
    assert set(ledger.lookup(PORTAL, "contacts", gone)) == set()
    assert ledger.id_map(PORTAL, "companies") == {"k0000": "c"}
    assert ledger.id_map("other", "contacts") == {"k0001": "o"}
    assert ledger.forget(PORTAL, "contacts", []) == 0
    assert ledger.forget(PORTAL, "contacts", keys[:10]) == 0  # already gone
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 103}


def test_id_map_is_every_created_row_and_no_other(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    ledger.settle(
        PORTAL,
        "contacts",
        [
            Settlement("made", CREATED, hubspot_id="1"),
            Settlement("failed", FAILED, error="no"),
            Settlement("doubt", PENDING, hubspot_id="3", error="timeout"),
        ],
        run_id="r1",
    )
    assert ledger.id_map(PORTAL, "contacts") == {"made": "1"}


def test_keys_of_any_text_are_looked_up_and_forgotten(ledgers: Callable[[], SqlLedger]) -> None:
    ledger = ledgers()
    odd = ["", 'quote"d', "back\\slash", "é", "日本", "😀", "new\nline", "tab\t", "[1]", "null", "a,b", "'"]
    made = [Settlement(k, CREATED, hubspot_id=str(i)) for i, k in enumerate(odd)]
    ledger.settle(PORTAL, "contacts", made, run_id="r")
    found = ledger.lookup(PORTAL, "contacts", [*odd, "absent"])
    assert {k: e.hubspot_id for k, e in found.items()} == {k: str(i) for i, k in enumerate(odd)}
    assert ledger.forget(PORTAL, "contacts", odd[:6]) == 6
    assert sorted(ledger.id_map(PORTAL, "contacts")) == sorted(odd[6:])
