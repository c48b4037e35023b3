"""A 100k-row load at the rate-limit ceiling with the ledger on SQLite and on PostgreSQL (issue 14).

    .venv/bin/python benchmarks/state_backends_load.py [--rows 100000] [--url POSTGRES_URL] [--out PATH]

The sandbox runs in its own process enforcing 190 requests per rolling 10 s with HubSpot-like latency
(``load_benchmark.sandbox_config``: 250 ms + 2 ms per input + 0-100 ms jitter). For each backend the
sandbox is reset and ``--rows`` contacts (``load_benchmark.make_frame``) are loaded through
``load_dataframe`` with the default ``ClientSettings()`` and a ledger on that backend, as the resource
loads: every batch written ahead and leased, settled when answered, the rate budget shared through the
same database. SQLite is a file in a temp dir (``synchronous=FULL``); PostgreSQL a throwaway local
cluster with its default durability (fsync, synchronous_commit on), or the server ``--url`` names.

Printed (and written to ``--out`` as JSON): each backend's rows/s overall and in steady state
(``load_benchmark.window_cycle_rate``: a fresh token's first window lets 190 requests go at once), the
fraction of the 1,900 rows/s ceiling, the 429s, whether every row was stored once, and PostgreSQL's steady
rate as a fraction of SQLite's (target: within 10 %). Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling module, also when loaded by path
import load_benchmark as lb

from hubspot_loader.core.model import CREATED, BatchOutcome
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle, start_sandbox_process
from hubspot_loader.state.ledger import open_ledger
from hubspot_loader.state.store_url import parse_state_url, redact

TARGET_RATIO = 0.90
"""PostgreSQL's steady rows/s at least this fraction of SQLite's (issue 14)."""


def load_once(
    sb: SandboxHandle, state_url: str, rows: int, tag: str, *, shared: bool = True
) -> dict[str, Any]:
    """Reset the sandbox and load ``rows`` contacts with a ledger at ``state_url``; return the figures."""
    sb.reset()
    df = lb.make_frame(rows, seed=1, tag=tag)
    completions: list[float] = []

    def on_batch(outcome: BatchOutcome) -> None:
        completions.append(time.monotonic())

    client = HubSpotClient(sb.token, base_url=sb.base_url, settings=ClientSettings())
    with client, open_ledger(state_url) as ledger:
        start, cpu_start = time.monotonic(), time.process_time()
        result = load_dataframe(
            df,
            lb.BENCHMARK_SPEC,
            client=client,
            ledger=ledger,
            run=LoadRun(on_batch=on_batch, portal="bench", share_rate_budget=shared),
        )
        wall, cpu = time.monotonic() - start, time.process_time() - cpu_start
    requests, limited, stored, duplicates = lb._sandbox_figures(sb)
    cycle = lb.window_cycle_rate(completions)
    steady = cycle * lb.BATCH_SIZE if cycle else None
    ceiling = lb.CEILING_ROWS_PER_S
    return {
        "state": redact(parse_state_url(state_url)),
        "rows": rows,
        "wall_s": round(wall, 2),
        "loader_cpu_s": round(cpu, 2),
        "rows_per_s": round(rows / wall, 1),
        "ceiling_fraction": round(rows / wall / ceiling, 4),
        "steady_rows_per_s": round(steady, 1) if steady else None,
        "steady_ceiling_fraction": round(steady / ceiling, 4) if steady else None,
        "requests": requests,
        "rate_limited": limited,
        "created_reported": Counter(result.rows.status_counts())[CREATED],
        "stored": stored,
        "duplicates": duplicates,
        "exactly_once": stored == rows and duplicates == 0,
    }


def run(
    rows: int, pg_url: str | None, out: Path | None, log: Any = print, *, shared: bool = True
) -> dict[str, Any]:
    """Load on SQLite, then on PostgreSQL; return (and write) the report."""
    if str(lb.ROOT) not in sys.path:  # the test helpers sit beside the package, not in the install
        sys.path.insert(0, str(lb.ROOT))
    from hubspot_loader_tests.postgres import find_postgres_bin, start_postgres

    server = None
    if pg_url is None:
        bin_dir = find_postgres_bin()
        if bin_dir is None:
            raise SystemExit("PostgreSQL binaries not found; give --url")
        server = start_postgres(bin_dir, durable=True)
        pg_url = server.url()
    config = lb.sandbox_config(latency=True, rate_limit=lb.TIER_REQUESTS_PER_10S)
    sb = start_sandbox_process(config.replace(host="127.0.0.1", port=0))
    report: dict[str, Any] = {
        "machine": lb.machine(),
        "latency_ms": list(lb.DEFAULT_LATENCY),
        "shared_rate_budget": shared,
        "backends": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="state_backends_") as tmp:
            for name, url in (("sqlite", f"sqlite:///{Path(tmp) / 'state.sqlite'}"), ("postgres", pg_url)):
                report["backends"][name] = load_once(sb, url, rows, tag=f"{name}x", shared=shared)
    finally:
        sb.stop()
        if server is not None:
            server.stop()
    sqlite, postgres = report["backends"]["sqlite"], report["backends"]["postgres"]
    if sqlite["steady_rows_per_s"] and postgres["steady_rows_per_s"]:
        report["postgres_over_sqlite_steady"] = round(
            postgres["steady_rows_per_s"] / sqlite["steady_rows_per_s"], 4
        )
    report["postgres_over_sqlite_overall"] = round(postgres["rows_per_s"] / sqlite["rows_per_s"], 4)
    report["target_ratio"] = TARGET_RATIO
    log(format_report(report))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as a small table."""
    lines = ["ledger backend   rows     rows/s  of ceiling  steady rows/s  of ceiling  429s  exactly once"]
    for name, b in report["backends"].items():
        steady = b["steady_rows_per_s"]
        steady_text = (
            f"{steady:13,.1f}  {b['steady_ceiling_fraction']:10.1%}" if steady else f"{'n/a':>13}  {'':>10}"
        )
        lines.append(
            f"{name:15s} {b['rows']:6,} {b['rows_per_s']:10,.1f} {b['ceiling_fraction']:10.1%}  {steady_text}"
            f"  {b['rate_limited']:4}  {'yes' if b['exactly_once'] else 'NO'}"
        )
    ratio = report.get("postgres_over_sqlite_steady")
    if ratio is not None:
        verdict = "met" if ratio >= report["target_ratio"] else "missed"
        lines.append(
            f"PostgreSQL / SQLite, steady state: {ratio:.3f} "
            f"(target >= {report['target_ratio']:.2f}: {verdict})"
        )
    lines.append(f"PostgreSQL / SQLite, overall: {report['postgres_over_sqlite_overall']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", help="a PostgreSQL state URL instead of a throwaway local cluster")
    parser.add_argument("--no-shared", action="store_true", help="LoadRun(share_rate_budget=False)")
    parser.add_argument(
        "--out", type=Path, default=lb.ROOT / "benchmarks" / "results" / "state_backends.json"
    )
    args = parser.parse_args(argv)
    run(args.rows, args.url, args.out, shared=not args.no_shared)


if __name__ == "__main__":
    main()
