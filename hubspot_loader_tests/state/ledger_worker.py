"""A ledger client in its own process, for the crash and concurrency tests (``python -m`` this module).

Commands (each opens the ledger at ``URL``; ``go`` means: wait for a line on stdin, so that several
workers start together):

``write-ahead URL``
    Settle ``done-0..9`` created, write ``long-0..9`` ahead leased for an hour and ``short-0..9`` leased
    for half a second (owner ``killed-run``), print ``marked``, then wait on stdin until killed.
``race URL OWNER ROWS BATCH``
    ``go``; then for the keys ``r0000..`` in batches: look them up, claim (lease) the rows not created,
    "send" the claimed ones (settle them created with id ``OWNER:KEY``), release at the end; print a JSON
    summary (claimed, refused by reason, skipped by lookup).
``write URL TAG ROWS BATCH``
    ``go``; then write ``TAG-…`` rows ahead and settle them created, unleased, batch by batch; print ``done``.
``open URL``
    ``go``; then open the ledger and print the version it found (``new`` for an empty database).
"""

from __future__ import annotations

import json
import sys

from hubspot_loader.state.ledger import CREATED, PendingRow, Settlement, content_hash, open_ledger

PORTAL = "test-portal"
OBJECT_TYPE = "contacts"


def pending(key: str) -> PendingRow:
    """A write-ahead record with a unique value, as contacts have."""
    email = f"{key}@example.com"
    return PendingRow(key, content_hash({"email": email}), "email", email)


def race_keys(rows: int) -> list[str]:
    """The keys both racers load."""
    return [f"r{i:04d}" for i in range(rows)]


def _write_ahead(url: str) -> None:
    ledger = open_ledger(url)
    done = [f"done-{i}" for i in range(10)]
    ledger.mark_pending(PORTAL, OBJECT_TYPE, [pending(k) for k in done], run_id="killed-run")
    ledger.settle(
        PORTAL, OBJECT_TYPE, [Settlement(k, CREATED, hubspot_id=f"id-{k}") for k in done], run_id="killed-run"
    )
    for prefix, seconds in (("long", 3600.0), ("short", 0.5)):
        rows = [pending(f"{prefix}-{i}") for i in range(10)]
        claim = ledger.mark_pending(
            PORTAL, OBJECT_TYPE, rows, run_id="killed-run", lease_owner="killed-run", lease_seconds=seconds
        )
        assert claim.complete, claim
    print("marked", flush=True)
    sys.stdin.readline()  # killed here


def _race(url: str, owner: str, rows: int, batch: int) -> None:
    ledger = open_ledger(url)
    keys = race_keys(rows)
    summary: dict[str, list[str]] = {
        "claimed": [],
        "skipped": [],
        "in_flight": [],
        "created": [],
        "in_doubt": [],
    }
    sys.stdin.readline()
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        known = ledger.lookup(PORTAL, OBJECT_TYPE, chunk)
        to_send = [k for k in chunk if k not in known or known[k].status != CREATED]
        summary["skipped"] += [k for k in chunk if k not in to_send]
        claim = ledger.mark_pending(
            PORTAL,
            OBJECT_TYPE,
            [pending(k) for k in to_send],
            run_id=owner,
            lease_owner=owner,
            lease_seconds=600,
        )
        sent = sorted(claim.claimed)
        summary["claimed"] += sent
        for key, refusal in claim.refused.items():
            summary[refusal.reason].append(key)
        settlements = [Settlement(k, CREATED, hubspot_id=f"{owner}:{k}") for k in sent]
        ledger.settle(PORTAL, OBJECT_TYPE, settlements, run_id=owner, lease_owner=owner)
    summary["released"] = [str(ledger.release_leases(owner))]
    ledger.close()
    print(json.dumps(summary), flush=True)


def _write(url: str, tag: str, rows: int, batch: int) -> None:
    ledger = open_ledger(url)
    sys.stdin.readline()
    for start in range(0, rows, batch):
        keys = [f"{tag}-{i}" for i in range(start, min(rows, start + batch))]
        ledger.mark_pending(PORTAL, OBJECT_TYPE, [pending(k) for k in keys], run_id=tag)
        ledger.settle(PORTAL, OBJECT_TYPE, [Settlement(k, CREATED, hubspot_id=k) for k in keys], run_id=tag)
    ledger.close()
    print("done", flush=True)


def _open(url: str) -> None:
    sys.stdin.readline()
    ledger = open_ledger(url)
    print(ledger.migrated_from or "new", flush=True)
    ledger.close()


def main(argv: list[str]) -> None:
    """Run one command (see the module docstring)."""
    command, url, *rest = argv
    if command == "write-ahead":
        _write_ahead(url)
    elif command == "race":
        _race(url, rest[0], int(rest[1]), int(rest[2]))
    elif command == "write":
        _write(url, rest[0], int(rest[1]), int(rest[2]))
    elif command == "open":
        _open(url)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
