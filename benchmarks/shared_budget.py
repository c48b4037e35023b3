"""Shared rate budget benchmark (issue 14): N processes loading with one token, with and without the window.

    .venv/bin/python benchmarks/shared_budget.py --processes 5 --rows 6000 [--no-shared]
    .venv/bin/python benchmarks/shared_budget.py --processes 20 --rows 1500 [--no-shared]

It starts the sandbox in its own process enforcing 190 requests per rolling 10 s with HubSpot-like latency
(200 ms + 2 ms per input + 0-100 ms jitter; ``load_benchmark.sandbox_config``), then ``--processes``
child processes, each loading ``--rows`` contacts of its own (``load_benchmark.make_frame``, distinct
emails) through ``load_dataframe`` with the default ``ClientSettings()``, the same token and a ledger on
one state database (a SQLite file in a temp dir, or ``--state-url``), as the resource and the CLI load: by
default the load paces through the token's window in that database (``LoadRun(share_rate_budget=True)``);
``--no-shared`` gives each its own limiter only (the baseline; the same ledger). The children are started
first and released together once all are ready.

Printed (and written to ``--out`` as JSON): total rows/s over the run, the fraction of the 1,900 rows/s
ceiling (190 x 100 / 10) overall (flattered by a fresh token's first window, which may take 190 requests at
once: 300 batches take about 6 s more than 190, not 15.8 s) and in steady state when the run is long enough
(more than 380 batches: ``load_benchmark.window_cycle_rate``), the slot-reuse cycle from the first batch on
(the same median gap between batch k and k + 190 completing, with k from 0: a rate short runs have too,
not flattered by the burst), the share of requests answered 429 (the
sandbox's counters), and whether every row was created exactly once (contacts stored, counted by email).
Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling module, also when loaded by path
import load_benchmark as lb

from hubspot_loader.core.model import BatchOutcome
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import LoadRun, load_dataframe
from hubspot_loader.sandbox import start_sandbox_process
from hubspot_loader.state.ledger import open_ledger
from hubspot_loader.state.rate_budget import SharedRateWindow

#: HubSpot-like latency of this benchmark: base ms, ms per input, uniform jitter ms (issue 14)
LATENCY_MS = (200.0, 2.0, 100.0)
TARGETS = {"ceiling_fraction": 0.95, "rate_limited_fraction": 0.005}
#: hang guard for one child (a run is expected to take well under 2 minutes)
CHILD_TIMEOUT_S = 240.0


@dataclass
class Settings:
    """What one benchmark invocation runs."""

    processes: int = 5
    rows: int = 6_000
    shared: bool = True
    state_url: str | None = None
    latency: bool = True
    out: Path | None = None


# --------------------------------------------------------------------------------------------- child


def child(index: int, rows: int, base_url: str, token: str, state_url: str, shared: bool) -> dict[str, Any]:
    """Load ``rows`` contacts of child ``index`` after a ``go`` line on stdin; return its figures.

    The real path: a ledger on ``state_url`` and ``LoadRun(share_rate_budget=shared)``; the load opens the
    token's window in the ledger's database itself (``hubspot_loader.budget_step``).
    """
    df = lb.make_frame(rows, seed=index, tag=f"p{index}x")
    df["id"] += index * rows  # keys of their own: the children share one ledger
    completions: list[tuple[float, int]] = []
    client = HubSpotClient(token, base_url=base_url, settings=ClientSettings())
    transactions = [0]

    def on_batch(outcome: BatchOutcome) -> None:
        completions.append((time.time(), outcome.record.created))  # wall clock: one machine, many processes
        window = client.limiter.shared
        if isinstance(window, SharedRateWindow):
            transactions[0] = window.transactions

    ledger = open_ledger(state_url)
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.time()
    with client, ledger:
        run = LoadRun(on_batch=on_batch, share_rate_budget=shared, portal="benchmark")
        result = load_dataframe(df, lb.BENCHMARK_SPEC, client=client, ledger=ledger, run=run)
    end = time.time()
    statuses = Counter(result.rows.status_counts())
    return {
        "index": index,
        "rows": rows,
        "created": statuses["created"],
        "start": start,
        "end": end,
        "requests": client.requests_sent,
        "completions": completions,
        "limiter_waited_s": round(client.limiter.waited_s, 2),
        "shared_refusals": client.limiter.shared_refusals,
        "shared_transactions": transactions[0],
        "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2),
    }


# --------------------------------------------------------------------------------------------- parent


def steady_rows_per_s(completions: list[tuple[float, int]], first: int | None = None) -> float | None:
    """Steady-state rows/s: ``load_benchmark.window_cycle_rate`` over every process's batch completions.

    The median time one window's budget (190 batches) takes, after the first window; ``None`` when the run
    has fewer than two windows' budget after the first (then only the overall rate is reported, which a
    fresh token's first window flatters: it may send 190 requests at once). ``first=0``: the slot-reuse
    cycle from the first batch on (``window_cycle_rate(first=0)``), which short runs have too.
    """
    cycle = lb.window_cycle_rate([t for t, _ in completions], budget=lb.TIER_REQUESTS_PER_10S, first=first)
    return cycle * lb.BATCH_SIZE if cycle else None


def _start_children(settings: Settings, base_url: str, token: str, state_url: str) -> list[Any]:
    env = {**os.environ, "PYTHONPATH": str(lb.ROOT)}
    children = []
    for index in range(settings.processes):
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(index), str(settings.rows),
                   base_url, token, state_url, "shared" if settings.shared else "alone"]  # fmt: skip
        children.append(
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        )
    for process in children:  # wait until every child has built its frame and client
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"a child did not start: {line!r}")
    return children


def _collect(children: list[Any]) -> list[dict[str, Any]]:
    for process in children:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in children:
        out, _ = process.communicate(timeout=CHILD_TIMEOUT_S)
        if process.returncode != 0:
            raise RuntimeError(f"a child failed with exit code {process.returncode}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def run(settings: Settings, log: Any = print) -> dict[str, Any]:
    """Run one configuration; return the report (also written to ``settings.out``)."""
    config = lb.sandbox_config(
        latency=settings.latency, rate_limit=lb.TIER_REQUESTS_PER_10S, latency_ms=LATENCY_MS
    )
    sb = start_sandbox_process(config.replace(host="127.0.0.1", port=0))
    with tempfile.TemporaryDirectory(prefix="shared_budget_") as tmp:
        state_url = settings.state_url or f"sqlite:///{Path(tmp) / 'state.sqlite'}"
        try:
            children = _start_children(settings, sb.base_url, sb.token, state_url)
            results = _collect(children)
            write_requests, limited, stored, duplicates = lb._sandbox_figures(sb)
        finally:
            sb.stop()
    report = _report(settings, results, write_requests, limited, stored, duplicates)
    log(format_report(report))
    if settings.out is not None:
        settings.out.parent.mkdir(parents=True, exist_ok=True)
        settings.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _report(
    settings: Settings, results: list[dict[str, Any]], requests: int, limited: int, stored: int, dupes: int
) -> dict[str, Any]:
    rows = settings.processes * settings.rows
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    completions = [(t, n) for r in results for t, n in r["completions"]]
    steady = steady_rows_per_s(completions)
    reuse = steady_rows_per_s(completions, first=0)
    ceiling = lb.CEILING_ROWS_PER_S
    rate = rows / wall if wall > 0 else 0.0
    return {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
        "sandbox": {
            "rate_limit_per_10s": lb.TIER_REQUESTS_PER_10S,
            "latency_ms": list(LATENCY_MS) if settings.latency else None,
        },
        "rows": rows,
        "wall_s": round(wall, 2),
        "rows_per_s": round(rate, 1),
        "ceiling_rows_per_s": ceiling,
        "ceiling_fraction": round(rate / ceiling, 4),
        "steady_rows_per_s": round(steady, 1) if steady else None,
        "steady_ceiling_fraction": round(steady / ceiling, 4) if steady else None,
        "slot_reuse_ceiling_fraction": round(reuse / ceiling, 4) if reuse else None,
        "requests": requests,
        "rate_limited": limited,
        "rate_limited_fraction": round(limited / requests, 5) if requests else 0.0,
        "created_reported": sum(r["created"] for r in results),
        "stored": stored,
        "duplicates": dupes,
        "exactly_once": stored == rows and dupes == 0,
        "shared_refusals": sum(r["shared_refusals"] for r in results),
        "shared_transactions": sum(r["shared_transactions"] for r in results),
        "children_cpu_s": round(sum(r["cpu_s"] for r in results), 1),
        "targets": TARGETS,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as a few lines of text."""
    s = report["settings"]
    steady = report["steady_ceiling_fraction"]
    steady_text = f"{steady:.1%} steady state" if steady is not None else "steady state n/a (run too short)"
    reuse = report.get("slot_reuse_ceiling_fraction")
    if reuse is not None:
        steady_text += f", {reuse:.1%} slot-reuse cycle (from the first batch)"
    return "\n".join(
        [
            f"{s['processes']} processes x {s['rows']:,} rows, one token, "
            f"{'shared window' if s['shared'] else 'no shared window (baseline)'}",
            f"  {report['rows_per_s']:,.1f} rows/s in {report['wall_s']} s: "
            f"{report['ceiling_fraction']:.1%} of the {report['ceiling_rows_per_s']:,.0f} rows/s ceiling "
            f"overall, {steady_text}",
            f"  429s: {report['rate_limited']} of {report['requests']} requests "
            f"({report['rate_limited_fraction']:.2%})",
            f"  stored {report['stored']:,} of {report['rows']:,}, duplicates {report['duplicates']}: "
            f"{'every row exactly once' if report['exactly_once'] else 'NOT exactly once'}",
            f"  shared window: {report['shared_refusals']} refusals, "
            f"{report['shared_transactions']} transactions; the loading processes used "
            f"{report['children_cpu_s']} s CPU",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run (or run one child with ``--child``)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        index, rows, base_url, token, state_url, sharing = argv[1:7]
        figures = child(int(index), int(rows), base_url, token, state_url, sharing == "shared")
        print(json.dumps(figures), flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=Settings.processes)
    parser.add_argument("--rows", type=int, default=Settings.rows, help="rows per process")
    parser.add_argument("--no-shared", action="store_true", help="each process its own limiter only")
    parser.add_argument(
        "--state-url", help="the shared window's state database (default: a SQLite temp file)"
    )
    parser.add_argument("--no-latency", action="store_true", help="no injected latency (a quick check)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    settings = Settings(
        processes=args.processes,
        rows=args.rows,
        shared=not args.no_shared,
        state_url=args.state_url,
        latency=not args.no_latency,
        out=args.out,
    )
    run(settings)


if __name__ == "__main__":
    main()
