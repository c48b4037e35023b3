"""Row leases on both backends: claims in the write-ahead, refusals with the reason, takeover, release.

Two ledgers on one store are two connections, as two loads in two processes would be.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from hubspot_loader.state.ledger import (
    ALREADY_CREATED,
    CREATED,
    FAILED,
    IN_FLIGHT,
    PENDING,
    UNRECONCILED,
    Claim,
    Settlement,
    SqlLedger,
)

from .conftest import PORTAL, pending, wait_until

HOUR = 3600.0


def claim(
    ledger: SqlLedger, owner: str, *keys: str, seconds: float = HOUR, resend_created: bool = False
) -> Claim:
    return ledger.mark_pending(
        PORTAL,
        "contacts",
        [pending(k, f"{k}@x.io") for k in keys],
        run_id=f"run-{owner}",
        lease_owner=owner,
        lease_seconds=seconds,
        resend_created=resend_created,
    )


def test_a_live_lease_refuses_other_owners_and_leaves_the_row_untouched(
    ledgers: Callable[[], SqlLedger],
) -> None:
    a, b = ledgers(), ledgers()
    before = datetime.now(timezone.utc)
    got = claim(a, "A", "k1", "k2")
    assert got.claimed == {"k1", "k2"} and got.complete
    held = a.lookup(PORTAL, "contacts", ["k2"])["k2"]
    assert held.lease_owner == "A" and held.status == PENDING
    assert held.lease_expires_at is not None and held.lease_expires_at.tzinfo is not None
    # the database's clock may differ a little from ours: only the order of magnitude is checked
    assert before + timedelta(minutes=50) < held.lease_expires_at < before + timedelta(minutes=70)

    got = claim(b, "B", "k2", "k3")
    assert got.claimed == {"k3"} and got.refused_for(IN_FLIGHT) == ["k2"]
    refusal = got.refused["k2"]
    assert (refusal.entry.lease_owner, refusal.entry.last_run_id) == ("A", "run-A")
    assert b.lookup(PORTAL, "contacts", ["k2"])["k2"] == held  # untouched
    assert claim(a, "A", "k1").claimed == {"k1"}  # the owner claims its own rows again


def test_settling_ends_the_owners_lease_and_a_created_row_is_not_claimed_again(
    ledgers: Callable[[], SqlLedger],
) -> None:
    a, b = ledgers(), ledgers()
    claim(a, "A", "c", "f", "p")
    a.settle(
        PORTAL,
        "contacts",
        [
            Settlement("c", CREATED, hubspot_id="11"),
            Settlement("f", FAILED, error="INVALID_EMAIL"),
            Settlement("p", PENDING, error="TRANSPORT_ERROR: no answer"),
        ],
        run_id="run-A",
        lease_owner="A",
    )
    rows = a.lookup(PORTAL, "contacts", ["c", "f", "p"])
    assert [rows[k].lease_owner for k in ("c", "f", "p")] == [None, None, "A"]  # in doubt: still held

    got = claim(b, "B", "c", "f", "p")
    assert got.claimed == {"f"}  # a failed row is sent again
    assert got.refused["c"].reason == ALREADY_CREATED and got.refused["c"].entry.hubspot_id == "11"
    assert got.refused["p"].reason == IN_FLIGHT
    assert claim(b, "B", "c", resend_created=True).claimed == {"c"}  # a full refresh sends it again
    assert b.lookup(PORTAL, "contacts", ["c"])["c"].hubspot_id == "11"  # and keeps its id


def test_a_released_row_in_doubt_must_be_reconciled_before_it_is_sent_again(
    ledgers: Callable[[], SqlLedger],
) -> None:
    a, b = ledgers(), ledgers()
    claim(a, "A", "p", "q")
    a.settle(PORTAL, "contacts", [Settlement("q", CREATED, hubspot_id="5")], run_id="run-A", lease_owner="A")
    assert a.release_leases("A") == 1  # only "p" was still held
    assert a.release_leases("A") == 0
    assert a.lookup(PORTAL, "contacts", ["p"])["p"].lease_owner is None

    got = claim(b, "B", "p")
    assert got.claimed == frozenset() and got.refused_for(UNRECONCILED) == ["p"]
    taken = b.claim_in_doubt(PORTAL, "contacts", lease_owner="B", lease_seconds=HOUR)
    assert [(e.row_key, e.lease_owner, e.status, e.unique_value) for e in taken] == [
        ("p", "B", PENDING, "p@x.io")
    ]
    assert claim(b, "B", "p").claimed == {"p"}  # now B's: reconciled as not found, sent again
    assert claim(a, "A", "p").refused_for(IN_FLIGHT) == ["p"]


def test_claim_in_doubt_leaves_rows_another_owner_is_sending(ledgers: Callable[[], SqlLedger]) -> None:
    a, b = ledgers(), ledgers()
    claim(a, "A", "live")
    b.mark_pending(PORTAL, "contacts", [pending("orphan")], run_id="old")  # unleased: left by a crash
    b.settle(PORTAL, "contacts", [Settlement("done", CREATED, hubspot_id="1")], run_id="old")
    taken = b.claim_in_doubt(PORTAL, "contacts", lease_owner="B", lease_seconds=HOUR)
    assert [e.row_key for e in taken] == ["orphan"]
    assert b.claim_in_doubt(PORTAL, "contacts", lease_owner="B", lease_seconds=HOUR)[0].row_key == "orphan"
    assert a.claim_in_doubt(PORTAL, "contacts", lease_owner="A", lease_seconds=HOUR)[0].row_key == "live"
    assert [e.row_key for e in a.in_doubt(PORTAL, "contacts")] == ["live", "orphan"]  # in_doubt: all of them


def test_an_expired_lease_can_be_taken_over(ledgers: Callable[[], SqlLedger]) -> None:
    a, b = ledgers(), ledgers()
    claim(a, "A", "p", "f", seconds=0.05)
    a.settle(PORTAL, "contacts", [Settlement("f", FAILED, error="x")], run_id="run-A")  # no owner: lease kept
    # once A's lease expired, the failed row is B's for the asking, the pending one only via reconciliation
    wait_until(lambda: claim(b, "B", "f").claimed == {"f"}, "A's lease on f expired")
    assert claim(b, "B", "p").refused_for(UNRECONCILED) == ["p"]
    b.settle(PORTAL, "contacts", [Settlement("f", CREATED, hubspot_id="8")], run_id="run-B", lease_owner="B")
    taken = b.claim_in_doubt(PORTAL, "contacts", lease_owner="B", lease_seconds=HOUR)
    assert [(e.row_key, e.lease_owner) for e in taken] == [("p", "B")]
    assert claim(a, "A", "p").refused_for(IN_FLIGHT) == ["p"]  # A, back too late, is refused


def test_renewing_extends_only_the_owners_leases(ledgers: Callable[[], SqlLedger]) -> None:
    a = ledgers()
    claim(a, "A", "k1", "k2", seconds=60)
    claim(a, "B", "k3", seconds=60)
    before = a.lookup(PORTAL, "contacts", ["k1", "k3"])
    assert a.renew_leases("A", 2 * HOUR) == 2
    after = a.lookup(PORTAL, "contacts", ["k1", "k3"])
    assert after["k1"].lease_expires_at > before["k1"].lease_expires_at + timedelta(minutes=100)  # type: ignore[operator]
    assert after["k3"].lease_expires_at == before["k3"].lease_expires_at
    assert a.renew_leases("nobody", 60) == 0


def test_without_an_owner_the_write_ahead_ignores_leases_as_in_version_1(
    ledgers: Callable[[], SqlLedger],
) -> None:
    a, b = ledgers(), ledgers()
    claim(a, "A", "k")
    got = b.mark_pending(PORTAL, "contacts", [pending("k", "other@x.io")], run_id="unleased")
    assert got.claimed == {"k"}
    entry = b.lookup(PORTAL, "contacts", ["k"])["k"]
    assert (entry.last_run_id, entry.unique_value, entry.lease_owner) == ("unleased", "other@x.io", "A")


@pytest.mark.parametrize(
    ("owner", "seconds", "message"),
    [
        (None, 10.0, "lease_seconds without lease_owner"),
        ("", 10.0, "lease_owner must be a non-empty string"),
        ("A", None, "lease_seconds must be a positive number"),
        ("A", 0.0, "lease_seconds must be a positive number"),
        ("A", -1.0, "lease_seconds must be a positive number"),
    ],
)
def test_bad_lease_arguments_are_refused_before_anything_is_written(
    ledgers: Callable[[], SqlLedger], owner: str | None, seconds: float | None, message: str
) -> None:
    ledger = ledgers()
    with pytest.raises(ValueError, match=message):
        ledger.mark_pending(
            PORTAL, "contacts", [pending("k")], run_id="r", lease_owner=owner, lease_seconds=seconds
        )
    assert ledger.entries() == []
