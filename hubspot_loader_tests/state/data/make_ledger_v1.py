"""Make ``ledger-v1-main-cea513f.db``: a schema version 1 ledger written by main's own SQLiteLedger.

The file was made by the ledger of commit cea513f (the last main with schema version 1), never by
today's code, so the migration test reads what users' files really hold::

    git show cea513f:hubspot_loader/state/ledger.py > /tmp/ledger_v1.py
    .venv/bin/python hubspot_loader_tests/state/data/make_ledger_v1.py /tmp/ledger_v1.py \
        hubspot_loader_tests/state/data/ledger-v1-main-cea513f.db

Closing the ledger checkpoints its WAL into the file, so the one file holds every row.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

PORTAL = "test-portal"
OTHER_PORTAL = "http://127.0.0.1:8765#0123456789ab"


def _load(module_path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("ledger_v1", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ledger_v1"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert module.SCHEMA_VERSION == "1", module.SCHEMA_VERSION
    return module


def write_rows(v1: Any, path: Path) -> None:
    pending, settle = v1.PendingRow, v1.Settlement
    ledger = v1.SQLiteLedger(path)
    h = v1.content_hash
    contacts = [
        pending("c-created", h({"email": "ann@example.com"}), "email", "ann@example.com"),
        pending("c-failed", h({"email": "bad"}), "email", "bad"),
        pending("c-in-doubt", h({"email": "cy@example.com"}), "email", "cy@example.com"),
        pending("c-held", h({"firstname": "Di"})),
        pending("c-resent", h({"email": "ed@example.com"}), "email", "ed@example.com"),
        pending("ключ-✓ 'quoted', \"double\"", h({"email": "uni@example.com"}), "email", "uni@example.com"),
        pending("k" * 1000, h({"email": "long@example.com"}), "email", "long@example.com"),
    ]
    ledger.mark_pending(PORTAL, "contacts", contacts, run_id="run-1", partition="2026-11-01")
    ledger.settle(
        PORTAL,
        "contacts",
        [
            settle("c-created", v1.CREATED, hubspot_id="101"),
            settle("c-failed", v1.FAILED, error="INVALID_EMAIL: bad is not a valid email"),
            settle("c-held", v1.PENDING, error="HUBSPOT_PENDING: HubSpot is still processing this row"),
            settle("c-resent", v1.CREATED, hubspot_id="105"),
            settle("ключ-✓ 'quoted', \"double\"", v1.CREATED, hubspot_id="106"),
            settle("k" * 1000, v1.CREATED, hubspot_id="107"),
        ],
        run_id="run-1",
    )
    # a second run resends one row (full refresh) and fails: the id stays, the error is kept
    ledger.mark_pending(PORTAL, "contacts", [contacts[4]], run_id="run-2", partition="2026-11-02")
    ledger.settle(
        PORTAL,
        "contacts",
        [settle("c-resent", v1.CREATED, hubspot_id="105", error="CONFLICT: exists")],
        run_id="run-2",
    )
    # rows settled without a write-ahead (rejected before sending), in other portals and object types
    ledger.settle(OTHER_PORTAL, "companies", [settle("co-1", v1.FAILED, error="MISSING_KEY")], run_id="cli")
    ledger.mark_pending(OTHER_PORTAL, "0-3", [pending("deal-1", h({"dealname": "D"}))], run_id="cli")
    ledger.mark_pending(
        PORTAL, "p_vendor", [pending(f"v{i:04d}", h({"n": str(i)})) for i in range(600)], run_id="bulk"
    )
    ledger.settle(
        PORTAL,
        "p_vendor",
        [settle(f"v{i:04d}", v1.CREATED, hubspot_id=str(9000 + i)) for i in range(0, 600, 2)],
        run_id="bulk",
        partition="bulk-p",
    )
    ledger.close()


def main() -> None:
    module_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    if out.exists():
        raise SystemExit(f"{out} exists; remove it first")
    write_rows(_load(module_path), out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
