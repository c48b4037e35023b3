"""The load benchmark's three portals: one process feeding several portals at their ceilings at once.

One :class:`HubSpotClient` per portal token (``ClientSettings()`` untouched), each loading a frame of its
own through ``load_dataframe`` in a thread of this process, against ONE sandbox process that accepts every
token and enforces the tier per token. The threads are released together (a barrier) once every frame is
built. Reported per portal: its steady state against its own ceiling (the median window cycle of its own
batch completions), overall rate, client retries; for the process: its CPU seconds during the loads.
"""

from __future__ import annotations

import contextlib
import resource
import threading
import time
from collections import Counter
from typing import Any

from load_results import COUNTED_DUPLICATES, reset_sandbox, sandbox_figures, steady_state
from load_workload import BATCH_SIZE, BENCHMARK_SPEC, latency_faults, load_average, make_frame

from hubspot_loader.core.model import CREATED, BatchOutcome
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle

PORTALS_TARGET = 0.95


def _cpu_seconds() -> float:
    """Return this process's user + system CPU seconds so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _portal_load(
    sb: SandboxHandle, token: str, df: Any, barrier: threading.Barrier, out: dict[str, Any]
) -> None:
    """Load ``df`` with ``token`` once ``barrier`` releases every portal; put the figures in ``out``."""
    completions: list[float] = []

    def on_batch(outcome: BatchOutcome) -> None:
        completions.append(time.monotonic())

    try:
        client = HubSpotClient(token, base_url=sb.base_url, settings=ClientSettings())
        with client:
            barrier.wait()
            start = time.monotonic()
            result = load_dataframe(df, BENCHMARK_SPEC, client=client, run=LoadRun(on_batch=on_batch))
    except BaseException as exc:
        out["error"] = repr(exc)
        barrier.abort()  # release the others and the main thread instead of leaving them waiting
        raise
    out.update(
        start=start,
        end=time.monotonic(),
        completions=completions,
        created=Counter(result.rows.status_counts())[CREATED],
        retries=sum(b.retries for b in result.batches),
        requests=client.requests_sent,
        round_trip_s=round(client.concurrency.round_trip_s, 3),
        in_flight_peak=client.concurrency.peak,
    )


def run_portals(
    sb: SandboxHandle,
    *,
    rows: int,
    tier: int,
    latency_ms: tuple[float, float, float] | None,
    seed: int = 0,
) -> dict[str, Any]:
    """Load ``rows`` rows into each of the sandbox's tokens at the same time; return the figures."""
    reset_sandbox(sb, latency_faults(latency_ms, seed=seed))
    tokens = sb.tokens
    frames = [make_frame(rows, seed=seed + i, tag=f"portal{i + 1}x") for i in range(len(tokens))]
    barrier = threading.Barrier(len(tokens) + 1)
    outs: list[dict[str, Any]] = [{} for _ in tokens]
    threads = [
        threading.Thread(target=_portal_load, args=(sb, token, df, barrier, out), name=f"portal-{i + 1}")
        for i, (token, df, out) in enumerate(zip(tokens, frames, outs, strict=True))
    ]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a portal that failed to start aborts it
        barrier.wait()
    cpu_start, wall_start = _cpu_seconds(), time.monotonic()
    for t in threads:
        t.join()
    cpu, wall = _cpu_seconds() - cpu_start, time.monotonic() - wall_start
    errors = [out.get("error", "no result") for out in outs if "created" not in out]
    if errors:
        raise RuntimeError(f"a portal's load failed: {errors}")
    requests, limited, stored, duplicates = sandbox_figures(sb, expected=rows * len(tokens))
    ceiling = tier * BATCH_SIZE / 10
    portals = []
    for i, out in enumerate(outs):
        own_wall = out["end"] - out["start"]
        portals.append(
            {
                "portal": i + 1,
                "rows": rows,
                "created": out["created"],
                "wall_s": round(own_wall, 2),
                "overall_ceiling_fraction": round(rows / own_wall / ceiling, 4),
                **steady_state(out["completions"], tier),
                "client_retries": out["retries"],
                "requests": out["requests"],
                "round_trip_s": out["round_trip_s"],
                "in_flight_peak": out["in_flight_peak"],
            }
        )
    return {
        "portals": portals,
        "tier": tier,
        "ceiling_rows_per_s_each": ceiling,
        "latency_ms": list(latency_ms) if latency_ms else None,
        "wall_s": round(wall, 2),
        "process_cpu_s": round(cpu, 2),
        "process_cpu_share_of_wall": round(cpu / wall, 3) if wall > 0 else None,
        "requests": requests,
        "rate_limited": limited,
        "rate_limited_fraction": round(limited / requests, 5) if requests else 0.0,
        "stored": stored,
        "duplicates": duplicates,
        "duplicates_counted_as": COUNTED_DUPLICATES,
        "exactly_once": stored == rows * len(tokens) and duplicates == 0,
        "load_average": load_average(),
    }


def portals_met(report: dict[str, Any]) -> bool:
    """Return whether every portal reached issue #16's share of its ceiling in steady state."""
    return all(
        p["steady_ceiling_fraction"] is not None and p["steady_ceiling_fraction"] >= PORTALS_TARGET
        for p in report["portals"]
    )


def format_portals(report: dict[str, Any]) -> list[str]:
    """Return the three-portal run as table lines."""
    lines = [
        f"{len(report['portals'])} portals from one process, {report['tier']}/10 s each "
        f"({report['ceiling_rows_per_s_each']:,.0f} rows/s ceiling each), one sandbox process:",
        f"  {'portal':>6} {'rows':>8} {'steady':>7} {'(mean)':>7} {'overall':>8} {'retries':>8} "
        f"{'round trip':>10}",
    ]
    for p in report["portals"]:
        steady, mean = p["steady_ceiling_fraction"], p["steady_mean_ceiling_fraction"]
        lines.append(
            f"  {p['portal']:>6} {p['rows']:>8,} {f'{steady:.1%}' if steady is not None else 'n/a':>7} "
            f"{f'{mean:.1%}' if mean is not None else 'n/a':>7} {p['overall_ceiling_fraction']:>8.1%} "
            f"{p['client_retries']:>8} {p['round_trip_s']:>9.3f}s"
        )
    load = report.get("load_average") or [float("nan")]
    lines.append(
        f"  process CPU {report['process_cpu_s']:.1f} s in {report['wall_s']:.1f} s wall "
        f"({report['process_cpu_share_of_wall']:.0%} of one core); 429s {report['rate_limited']} of "
        f"{report['requests']:,}; stored {report['stored']:,}, duplicates {report['duplicates']}; "
        f"load average {load[0]:.2f}"
    )
    return lines
