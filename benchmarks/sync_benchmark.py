"""Sync benchmark (issue #13): what an upsert sync sends, and how fast its updates go against the ceiling.

One command, bounded in time (under about 3 minutes on a 2-core machine):

    .venv/bin/python benchmarks/sync_benchmark.py [--out benchmarks/results/sync_benchmark.json]

Every sandbox runs in its own process on 127.0.0.1 (``start_sandbox_process``), configured as the load
benchmark's (:func:`load_benchmark.sandbox_config`). Two parts:

1. **Request count.** ``--rows`` contacts (32-character text keys, unique emails, four properties) are
   synced with ``write_mode="upsert"`` into a sandbox without latency or rate limit and a
   :class:`SQLiteLedger` in a temporary directory (setup: every row is looked up and created). Then one
   property (``firstname``) changes in a ``--changed-share`` of the rows, picked at random, and the same
   sync runs again. Printed for that second sync: the requests the sandbox received per route (its
   ``by_route`` counters), rows updated / unchanged / created, whether the updates were exactly
   ``ceil(changed / 100)`` with nothing else sent, the records the sandbox updated, and the loader
   process's CPU seconds (``time.process_time``) and wall time.
2. **Update throughput.** ``--throughput-rows`` contacts are created (and known to a ledger) through an
   unthrottled sandbox that persists to a SQLite file (``SandboxConfig.db_path``: write-through, and a
   restarted sandbox reloads the file). Each measured run restarts the sandbox on that file with the
   190-requests-per-10-s limit and the load benchmark's latency (250 ms + 2 ms per input + 0-100 ms
   jitter; ``--no-latency``: none), so it starts with an empty rate window, and syncs a frame in which
   every row changed: ``throughput_rows / 100`` update requests. Once with the client's default
   :class:`ClientSettings`, once with the load benchmark's tuned setting (its ``max_in_flight`` and the
   190 budget). For each: overall rows/s, the steady-state rate (:func:`load_benchmark.window_cycle_rate`
   over the batch completion times: needs more than 2 x 190 batches) as a fraction of the ceiling (190 x
   100 / 10 s = 1,900 rows/s), the 429 share, the seconds before the first update was sent (the sync
   converts and diffs every row before it sends its updates). The overall rate of 400 requests is not
   the steady one: a fresh window lets 190 go at once, and 400 need three windows (about 20 s) whatever
   the client does, so the steady state is the figure the target is judged on.

Request counts come from the sandbox's counters (differences around each sync: a sandbox on a file keeps
its counters across restarts). Figures are logged as they are measured, then printed as a table and
written to JSON. Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core.model import BatchOutcome, LoadResult
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle, start_sandbox_process
from hubspot_loader.state.ledger import SQLiteLedger

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling module, also when loaded by path
from load_benchmark import (
    BATCH_SIZE,
    CEILING_ROWS_PER_S,
    TARGETS,
    TIER_REQUESTS_PER_10S,
    _load_average,
    machine,
    max_in_window,
    sandbox_config,
    window_cycle_rate,
)
from load_benchmark import Settings as LoadSettings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "sync_benchmark.json"

#: The sync measured: contacts keyed by a text column, matched by email, upsert, preflight off.
SYNC_SPEC = HubSpotLoadSpec(
    object_type="contacts",
    key_column="contact_key",
    unique_property="email",
    write_mode="upsert",
    preflight="off",
)
UPDATE_ROUTE = "POST batch/update"
#: The client used for setup and for part 1: the sandbox has no limit there, so neither has the client.
UNTHROTTLED = ClientSettings(max_in_flight=4, requests_per_10s=10**6)
#: The load benchmark's tuned setting for the 190 tier (``load_benchmark.py``'s defaults).
TUNED = ClientSettings(max_in_flight=LoadSettings().max_in_flight, requests_per_10s=TIER_REQUESTS_PER_10S)


# --------------------------------------------------------------------------------------------- workload


def make_contacts(rows: int, *, tag: str = "s", seed: int = 0) -> pd.DataFrame:
    """``rows`` contacts: 32-hex text keys, unique emails (``{tag}{i}@example.com``), four properties."""
    idx = np.arange(rows, dtype=np.uint64)
    high = pd.util.hash_array(idx).tolist()
    low = pd.util.hash_array(idx + np.uint64(rows)).tolist()
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "contact_key": [f"{a:016x}{b:016x}" for a, b in zip(high, low, strict=True)],
            "email": [f"{tag}{i}@example.com" for i in range(rows)],
            "firstname": [f"First{i % 1000}" for i in range(rows)],
            "lastname": [f"Last{i % 777}" for i in range(rows)],
            "company": [f"Company {i % 5000}" for i in range(rows)],
            "bench_score": rng.integers(0, 100, rows).astype(float),
        }
    )


def with_changes(df: pd.DataFrame, share: float, *, label: str, seed: int = 1) -> tuple[pd.DataFrame, int]:
    """``df`` with ``firstname`` changed in ``round(len * share)`` rows picked at random; and that count."""
    count = min(len(df), round(len(df) * share))
    positions = np.sort(np.random.default_rng(seed).choice(len(df), size=count, replace=False))
    out = df.copy()
    out.loc[positions, "firstname"] = [f"{label}{i}" for i in positions.tolist()]
    return out, count


# --------------------------------------------------------------------------------------------- helpers


def _counters(sb: SandboxHandle) -> dict[str, Any]:
    counters = sb.counters()
    return {
        "routes": {str(k): int(v) for k, v in counters["by_route"].items()},
        "write_requests": int(counters["write_requests"]),
        "rate_limited": int(counters["rate_limited"]),
        "updated": int(counters["updated"].get("contacts", 0)),
        "created": int(counters["created"].get("contacts", 0)),
        "archived": int(counters["archived"].get("contacts", 0)),
    }


def _since(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox counted between two :func:`_counters` snapshots."""
    routes = {k: v - before["routes"].get(k, 0) for k, v in after["routes"].items()}
    out = {k: after[k] - before[k] for k in after if k != "routes"}
    out["routes"] = {k: v for k, v in sorted(routes.items()) if v}
    return out


def _sync(
    sb: SandboxHandle,
    df: pd.DataFrame,
    ledger: SQLiteLedger,
    portal: str,
    settings: ClientSettings,
    on_batch: Callable[[BatchOutcome], None] | None = None,
) -> tuple[LoadResult, dict[str, float], HubSpotClient]:
    """One upsert sync of ``df``; its result, wall and CPU seconds, and the (closed) client."""
    client = HubSpotClient(sb.token, base_url=sb.base_url, settings=settings)
    with client:
        start, cpu_start = time.monotonic(), time.process_time()
        result = load_dataframe(
            df, SYNC_SPEC, client=client, ledger=ledger, run=LoadRun(portal=portal, on_batch=on_batch)
        )
        clock = {"wall_s": time.monotonic() - start, "cpu_s": time.process_time() - cpu_start}
    return result, clock, client


def _rows(result: LoadResult) -> dict[str, int]:
    return {
        "updated": result.rows_updated,
        "unchanged": result.rows_unchanged,
        "created": result.rows_created,
        "adopted": result.rows_adopted,
        "skipped": result.rows_skipped,
        "failed": result.rows_failed,
    }


@contextmanager
def _sandbox(*, latency: bool, rate_limit: int | None, seed: int, db: Path | None) -> Iterator[SandboxHandle]:
    config = sandbox_config(latency=latency, rate_limit=rate_limit, seed=seed)
    sb = start_sandbox_process(config.replace(db_path=str(db)) if db is not None else config)
    try:
        assert sb.base_url.startswith("http://127.0.0.1:"), sb.base_url
        yield sb
    finally:
        sb.stop()


# --------------------------------------------------------------------------------------------- 1. count


def run_request_count(rows: int, share: float, workdir: Path, *, seed: int = 0) -> dict[str, Any]:
    """Part 1: set ``rows`` contacts up by an upsert sync, change a share of them, sync again; count."""
    df = make_contacts(rows, tag="count", seed=seed)
    portal = "sync-benchmark:count"
    ledger = SQLiteLedger(workdir / "count-state.sqlite")
    try:
        with _sandbox(latency=False, rate_limit=None, seed=seed, db=None) as sb:
            before = _counters(sb)
            first, setup, _ = _sync(sb, df, ledger, portal, UNTHROTTLED)
            setup_counts = _since(before, _counters(sb))
            changed_df, changed = with_changes(df, share, label="Changed", seed=seed + 1)
            before = _counters(sb)
            second, clock, _ = _sync(sb, changed_df, ledger, portal, UNTHROTTLED)
            sent = _since(before, _counters(sb))
            stored = int(sb.counts().get("contacts", 0))
    finally:
        ledger.close()
    expected = math.ceil(changed / BATCH_SIZE)
    routes = sent["routes"]
    other = {k: v for k, v in routes.items() if k != UPDATE_ROUTE}
    counts = _rows(second)
    return {
        "rows": rows,
        "changed_share": share,
        "changed_rows": changed,
        "setup": {
            "wall_s": round(setup["wall_s"], 2),
            "rows": _rows(first),
            "routes": setup_counts["routes"],
        },
        "routes": routes,
        "update_requests": routes.get(UPDATE_ROUTE, 0),
        "expected_update_requests": expected,
        "other_requests": sum(other.values()),
        "rows_second_sync": counts,
        "rows_accounted": sum(counts[k] for k in ("updated", "unchanged", "created", "skipped", "failed")),
        "records_updated_by_sandbox": sent["updated"],
        "records_created_by_sandbox": sent["created"],
        "records_archived_by_sandbox": sent["archived"],
        "stored_contacts": stored,
        "batches": len(second.batches),
        "exact": bool(
            routes.get(UPDATE_ROUTE, 0) == expected
            and not other
            and counts["updated"] == changed
            and counts["unchanged"] == rows - changed
            and counts["created"] == counts["failed"] == 0
            and sent["updated"] == changed
            and sent["created"] == sent["archived"] == 0
            and stored == rows
        ),
        "cpu_s": round(clock["cpu_s"], 3),
        "wall_s": round(clock["wall_s"], 3),
    }


# --------------------------------------------------------------------------------------------- 2. rate


def throughput_run(
    sb: SandboxHandle,
    df: pd.DataFrame,
    ledger: SQLiteLedger,
    portal: str,
    *,
    name: str,
    settings: ClientSettings,
) -> dict[str, Any]:
    """One sync in which every row of ``df`` changed, against the throttled sandbox ``sb``."""
    completions: list[float] = []
    sends: list[float] = []

    def on_batch(outcome: BatchOutcome) -> None:
        completions.append(time.monotonic())
        if outcome.record.sent_at is not None:
            sends.append(outcome.record.sent_at.timestamp())

    before = _counters(sb)
    started_at = time.time()  # the clock of BatchRecord.sent_at
    result, clock, client = _sync(sb, df, ledger, portal, settings, on_batch)
    sent = _since(before, _counters(sb))
    rate = len(df) / clock["wall_s"]
    cycle = window_cycle_rate(completions)
    sustained = cycle * BATCH_SIZE if cycle else None
    requests_sent = sent["write_requests"]
    return {
        "name": name,
        "max_in_flight": settings.max_in_flight,
        "requests_per_10s": settings.requests_per_10s,
        "rows": len(df),
        "wall_s": round(clock["wall_s"], 2),
        "cpu_s": round(clock["cpu_s"], 2),
        "rows_per_s": round(rate, 1),
        "ceiling_fraction": round(rate / CEILING_ROWS_PER_S, 4),
        "sustained_rows_per_s": round(sustained, 1) if sustained else None,
        "sustained_ceiling_fraction": round(sustained / CEILING_ROWS_PER_S, 4) if sustained else None,
        "routes": sent["routes"],
        "write_requests": requests_sent,
        "rate_limited": sent["rate_limited"],
        "rate_limited_fraction": round(sent["rate_limited"] / requests_sent, 5) if requests_sent else 0.0,
        "batches": len(result.batches),
        "first_batch_after_s": round(min(sends) - started_at, 2) if sends else None,
        "max_batches_sent_in_any_10s": max_in_window(sends),
        "max_batches_note": "by BatchRecord.sent_at, stamped before the client's limiter wait",
        "client_retries": sum(b.retries for b in result.batches),
        "limiter_waited_s": round(client.limiter.waited_s, 2),
        "rows_result": _rows(result),
        "records_updated_by_sandbox": sent["updated"],
    }


def run_throughput(
    rows: int, workdir: Path, *, latency: bool, seed: int = 0, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Part 2: create ``rows`` contacts into a sandbox file, then time all-changed syncs on it, throttled."""
    db = workdir / "throughput-sandbox.sqlite"
    portal = f"sync-benchmark:{db}"  # the port changes with every restart; the ledger's portal must not
    df = make_contacts(rows, tag="rate", seed=seed)
    ledger = SQLiteLedger(workdir / "throughput-state.sqlite")
    out: dict[str, Any] = {"rows": rows, "runs": []}
    try:
        with _sandbox(latency=False, rate_limit=None, seed=seed, db=db) as sb:
            setup, clock, _ = _sync(sb, df, ledger, portal, UNTHROTTLED)
        out["setup"] = {"wall_s": round(clock["wall_s"], 2), "rows": _rows(setup)}
        log(f"  setup: {setup.rows_created:,} contacts created in {clock['wall_s']:.1f} s (file {db.name})")
        for turn, (name, settings) in enumerate((("default", ClientSettings()), ("tuned", TUNED))):
            changed, _count = with_changes(df, 1.0, label=f"Round{turn}-", seed=seed + 2 + turn)
            start = time.monotonic()
            with _sandbox(latency=latency, rate_limit=TIER_REQUESTS_PER_10S, seed=seed, db=db) as sb:
                reloaded = int(sb.counts().get("contacts", 0))
                restart_s = time.monotonic() - start
                figures = throughput_run(sb, changed, ledger, portal, name=name, settings=settings)
            figures.update(restart_s=round(restart_s, 2), records_after_restart=reloaded)
            out["runs"].append(figures)
            log(throughput_line(figures))
    finally:
        ledger.close()
    return out


# --------------------------------------------------------------------------------------------- report


def count_lines(c: dict[str, Any]) -> list[str]:
    """Part 1's figures, readable."""
    r = c["rows_second_sync"]
    return [
        f"request count: {c['rows']:,} rows, {c['changed_rows']:,} changed ({c['changed_share']:.1%}); "
        f"setup (first sync) {c['setup']['wall_s']:.1f} s, {c['setup']['routes']}",
        f"  second sync sent {c['routes']} (sandbox by_route)",
        f"  update requests {c['update_requests']:,} (expected ceil({c['changed_rows']:,}/100) = "
        f"{c['expected_update_requests']:,}), other requests {c['other_requests']:,}; sandbox updated "
        f"{c['records_updated_by_sandbox']:,} records, created {c['records_created_by_sandbox']:,}, "
        f"archived {c['records_archived_by_sandbox']:,}; {c['stored_contacts']:,} contacts stored",
        f"  rows: updated {r['updated']:,}, unchanged {r['unchanged']:,}, created {r['created']:,}, "
        f"adopted {r['adopted']:,}, failed {r['failed']:,}; exactly as expected: {c['exact']}",
        f"  second sync: {c['cpu_s']:.2f} CPU s (loader process), {c['wall_s']:.2f} s wall",
    ]


def throughput_line(r: dict[str, Any]) -> str:
    """One throughput run's figures, readable."""
    sustained = r["sustained_ceiling_fraction"]
    steady = "n/a (< 381 batches)"
    if sustained:
        steady = f"{r['sustained_rows_per_s']:,.0f} rows/s = {sustained:.1%}"
    return (
        f"  {r['name']} (max_in_flight={r['max_in_flight']}, requests_per_10s={r['requests_per_10s']}): "
        f"{r['rows']:,} rows in {r['wall_s']:.1f} s = {r['rows_per_s']:,.0f} rows/s "
        f"({r['ceiling_fraction']:.1%} of 1,900); steady state {steady}"
        f"; {r['write_requests']:,} writes {r['routes']}, 429s {r['rate_limited']:,} "
        f"({r['rate_limited_fraction']:.2%}), first batch after {r['first_batch_after_s']} s (diff), most "
        f"batches started in any 10 s {r['max_batches_sent_in_any_10s']} (sent_at: before the limiter wait), "
        f"retries {r['client_retries']}, updated {r['rows_result']['updated']:,}, "
        f"failed {r['rows_result']['failed']:,}; sandbox restarted on its file in {r['restart_s']:.1f} s "
        f"holding {r['records_after_restart']:,} contacts"
    )


def verdicts(report: dict[str, Any]) -> dict[str, Any]:
    """Each target with the measured value and whether it is met (reported, not asserted)."""
    out: dict[str, Any] = {}
    count = report.get("request_count")
    if count:
        out["updates_equal_ceil_changed_over_100"] = {
            "value": count["update_requests"],
            "target": f"== {count['expected_update_requests']}, nothing else",
            "met": count["exact"],
        }
    for r in (report.get("throughput") or {}).get("runs", []):
        if r["sustained_ceiling_fraction"] is not None:
            out[f"{r['name']}_sustained_ceiling_fraction"] = {
                "value": r["sustained_ceiling_fraction"],
                "target": f">= {TARGETS['ceiling_fraction']}",
                "met": r["sustained_ceiling_fraction"] >= TARGETS["ceiling_fraction"],
            }
        out[f"{r['name']}_rate_limited_fraction"] = {
            "value": r["rate_limited_fraction"],
            "target": f"<= {TARGETS['rate_limited_fraction']}",
            "met": r["rate_limited_fraction"] <= TARGETS["rate_limited_fraction"],
        }
    return out


def format_report(report: dict[str, Any]) -> str:
    """The human-readable summary of a report."""
    lines: list[str] = []
    if report.get("request_count"):
        lines.extend(count_lines(report["request_count"]))
    throughput = report.get("throughput")
    if throughput:
        lines.append(
            f"update throughput: {throughput['rows']:,} rows, every row changed, sandbox "
            f"{report['sandbox']['rate_limit_per_10s']}/10 s, latency {report['sandbox']['latency']}"
        )
        lines.extend(throughput_line(r) for r in throughput["runs"])
    lines.append("targets:")
    for name, v in report.get("targets", {}).items():
        lines.append(f"  {'MET   ' if v['met'] else 'MISSED'} {name}: {v['value']} (target {v['target']})")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- main


@dataclass
class Settings:
    """What one benchmark invocation runs (0 rows skips a part)."""

    rows: int = 100_000
    changed_share: float = 0.05
    throughput_rows: int = 40_000
    latency: bool = True
    seed: int = 0
    out: Path = DEFAULT_OUT


def run(settings: Settings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run both parts; return the report (also written to ``settings.out``)."""
    started = time.monotonic()
    report: dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(),
        "machine": machine(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
        "sandbox": {
            "process": "separate (start_sandbox_process), 127.0.0.1",
            "rate_limit_per_10s": TIER_REQUESTS_PER_10S,
            "latency": "250 ms + 2 ms per input + uniform 0-100 ms jitter" if settings.latency else "none",
            "throughput_sandbox": "restarted on the SQLite file (db_path) the setup wrote, per run",
        },
        "ceiling_rows_per_s": CEILING_ROWS_PER_S,
        "load_average_at_start": _load_average(),
        "targets_definition": {k: TARGETS[k] for k in ("ceiling_fraction", "rate_limited_fraction")},
    }
    with tempfile.TemporaryDirectory(prefix="sync-benchmark-") as tmp:
        if settings.rows:
            log(f"request count: {settings.rows:,} rows, {settings.changed_share:.1%} changed ...")
            report["request_count"] = run_request_count(
                settings.rows, settings.changed_share, Path(tmp), seed=settings.seed
            )
            for line in count_lines(report["request_count"]):
                log(line)
        if settings.throughput_rows:
            log(f"update throughput: {settings.throughput_rows:,} rows, every row changed ...")
            report["throughput"] = run_throughput(
                settings.throughput_rows, Path(tmp), latency=settings.latency, seed=settings.seed, log=log
            )
    report["targets"] = verdicts(report)
    report["total_s"] = round(time.monotonic() - started, 1)
    report["load_average_at_end"] = _load_average()
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> None:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=defaults.rows, help="rows of the request-count part")
    parser.add_argument("--changed-share", type=float, default=defaults.changed_share)
    parser.add_argument("--throughput-rows", type=int, default=defaults.throughput_rows)
    parser.add_argument("--no-latency", action="store_true", help="no injected latency (quick checks)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=defaults.out)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not 0.0 <= args.changed_share <= 1.0:
        parser.error("--changed-share must be between 0 and 1")
    settings = Settings(
        rows=args.rows,
        changed_share=args.changed_share,
        throughput_rows=args.throughput_rows,
        latency=not args.no_latency,
        seed=args.seed,
        out=args.out,
    )
    report = run(settings, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(format_report(report))
    print(f"JSON: {settings.out} (total {report['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
