"""Fault soak (issue #4): load N contacts under injected faults and check exactly-once, ledger == sandbox.

Starts the sandbox in its own process with 10 % 5xx, 5 % 429, 2 % commit-then-drop-connection and 1 %
commit-then-hang-past-the-read-timeout on write requests, and answers 3 % each of the batch creates with
status CANCELED, PENDING or PROCESSING (listing 60 % of their rows; ``--incomplete-rate`` changes the
share), loads the rows with a SQLite ledger, then checks:
every row created exactly once (no duplicated email), every row mapped to its id, the ledger's id map
equal to the sandbox's contents, nothing left pending. Optionally a second, incremental run must send no
create request. Exits 1 on any violation. Run:

    .venv/bin/python benchmarks/fault_soak.py [--rows 50000] [--seed 4] [--in-flight 4] [--rerun]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from hubspot_loader.core.model import RECONCILED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxConfig, run_sandbox
from hubspot_loader.state.ledger import SQLiteLedger

PORTAL = "fault-soak"


def frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_key": [f"soak{i}" for i in range(rows)],
            "email": [f"soak{i}@example.com" for i in range(rows)],
            "firstname": [f"First{i}" for i in range(rows)],
        }
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--hang-seconds", type=float, default=2.0)
    parser.add_argument("--read-timeout", type=float, default=1.5)
    parser.add_argument(
        "--incomplete-rate",
        type=float,
        default=0.03,
        help="probability of each of CANCELED, PENDING and PROCESSING per batch create (default 0.03)",
    )
    parser.add_argument("--rerun", action="store_true", help="run again incrementally: expect 0 creates")
    return parser.parse_args()


def sandbox_config(args: argparse.Namespace) -> SandboxConfig:
    faults = FaultConfig(
        error_rate=0.10,
        rate_limit_burst_rate=0.05,
        rate_limit_burst_length=1,
        drop_after_commit_rate=0.02,
        hang_after_commit_rate=0.01,
        hang_seconds=args.hang_seconds,
        seed=args.seed,
        canceled_rate=args.incomplete_rate,
        pending_rate=args.incomplete_rate,
        processing_rate=args.incomplete_rate,
        incomplete_listed_share=0.6,
        pending_reveal_after_requests=3,
    )
    return SandboxConfig(rate_limit_per_10s=500, rate_limit_window_ms=500, faults=faults)


RETRY = RetryPolicy(
    max_attempts=10,
    backoff_base_s=0.01,
    backoff_max_s=0.2,
    max_elapsed_s=120,
    pending_polls=4,
    pending_poll_interval_s=0.05,
)


def main() -> int:
    args = parse_args()
    config = sandbox_config(args)

    problems: list[str] = []
    rows = frame(args.rows)
    with tempfile.TemporaryDirectory() as tmp, run_sandbox(config, in_subprocess=True) as sandbox:
        ledger = SQLiteLedger(Path(tmp) / "state.sqlite")
        client = HubSpotClient(
            sandbox.token,
            base_url=sandbox.base_url,
            settings=ClientSettings(
                timeout=(2.0, args.read_timeout),
                max_in_flight=args.in_flight,
                requests_per_10s=10_000,
                retry=RETRY,
            ),
        )
        spec = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off")
        started = time.monotonic()
        result = load_dataframe(rows, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))
        elapsed = time.monotonic() - started
        counters = sandbox.counters()
        objects = sandbox.objects("contacts")
        emails = Counter(str(o["properties"]["email"]).lower() for o in objects)
        stored = {
            e.split("@")[0]: str(o["id"]) for o, e in ((o, str(o["properties"]["email"])) for o in objects)
        }
        duplicated = sum(n - 1 for n in emails.values() if n > 1)
        if result.rows_failed:
            problems.append(f"{result.rows_failed} rows failed, e.g. {result.failed_rows[:2]}")
        if duplicated:
            problems.append(f"{duplicated} duplicated objects")
        if len(objects) != args.rows:
            problems.append(f"{len(objects)} objects stored for {args.rows} rows")
        if result.id_map != stored:
            problems.append("the load's id map differs from the sandbox's contents")
        if ledger.id_map(PORTAL, "contacts") != stored:
            problems.append("the ledger differs from the sandbox's contents")
        if ledger.in_doubt(PORTAL, "contacts"):
            problems.append(f"{len(ledger.in_doubt(PORTAL, 'contacts'))} rows left pending")
        if counters.get("pending_objects"):
            problems.append(f"{counters['pending_objects']} objects never became readable")
        statuses = Counter(b.status for b in result.batches)
        print(
            f"{args.rows:,} rows in {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s): "
            f"{result.rows_created:,} created ({result.count(RECONCILED):,} reconciled after lost answers), "
            f"{result.rows_failed} failed, {result.requests:,} write requests "
            f"({result.retries:,} retries); faults injected: {dict(counters['faults'])}; "
            f"batch statuses: {dict(statuses)} (overall {result.hubspot_status})"
        )
        if args.rerun:
            before = counters["by_route"].get("POST batch/create", 0)
            again = load_dataframe(rows, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))
            sent = sandbox.counters()["by_route"].get("POST batch/create", 0) - before
            print(f"incremental rerun: {again.rows_skipped:,} skipped, {sent} create requests")
            if sent or again.id_map != stored:
                problems.append(f"rerun sent {sent} create requests or changed the id map")
        client.close()
        ledger.close()
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    print("OK: exactly one object per row; ledger == sandbox" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
