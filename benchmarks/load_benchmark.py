"""Load benchmark (issues #6 and #16): our loader by default against its peers and the rate-limit ceiling.

One command, bounded in time (525 s on the 2-core machine under a load average of 1.2-3.5):

    .venv/bin/python benchmarks/load_benchmark.py --rss-keys string [--out PATH.json]

The sandbox runs in its own process with HubSpot-like behaviour: ``--tier`` requests per rolling 10 s per
token enforced (190), latency ``--latency-ms`` (200 ms + 2 ms per input + 0-100 ms uniform jitter, about
0.45 s for a batch of 100). The parts, each skipped when its size is 0:

1. Side by side, same frame shape (unique emails per run), same latency and tier: ``load_dataframe`` with
   ``ClientSettings()`` untouched (``--tuned`` uses ``--max-in-flight``/``--requests-per-10s``); the
   official ``hubspot-api-client`` in an 8-thread pool with response models and the same pool with
   ``_preload_content=False`` (``--pool-rows`` slices); its sequential README loop (``--official-rows``);
   optionally one record per request, drt-style (``--drt-seconds``). Ratio ours/each (``load_peers.py``).
2. Latency sweep: the default configuration at round trips of about 0.05, 0.45, 1 and 3 s, at the 190 and
   250 tiers (``load_sweep.py``), plotted to ``docs/benchmarks-latency-sweep.png``.
3. Three portals: 3 clients with 3 tokens loading at the same time from this process into one sandbox
   process (``load_portals.py``); each portal's steady state and the process's CPU seconds.
4. In child processes, so that their peak RSS is their own: CPU-only validate + convert + serialize, and
   a large load's peak RSS against the frame's memory (``load_cpu_memory.py``, ``load_memory.py``).

It prints tables and writes everything to JSON. Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules, also when loaded by path
from load_cpu_memory import (  # noqa: F401 (re-exported for the tests)
    CPU_PASSES,
    cpu_child,
    iter_bodies,
    naive_bodies,
    run_cpu,
    run_load_rss,
)
from load_memory import INSTALLS, KEY_KINDS
from load_ours import run_loader
from load_peers import run_official, run_official_pool, run_one_per_request
from load_portals import run_portals
from load_report import TARGETS, format_table, ratios, verdicts
from load_results import (  # noqa: F401 (re-exported for sync_benchmark, shared_budget, state_backends_load)
    RunResult,
    max_in_window,
    sandbox_figures,
    window_cycle_rate,
)
from load_sweep import SWEEP_LATENCIES, SWEEP_TIERS, SWEEP_WINDOWS, plot_sweep, run_point, sweep_rows
from load_workload import (  # noqa: F401 (re-exported for the other benchmarks)
    BATCH_SIZE,
    BENCHMARK_SPEC,
    CEILING_ROWS_PER_S,
    DEFAULT_LATENCY,
    DRT_REQUESTS_PER_S,
    ISSUE16_LATENCY,
    ROOT,
    TIER_REQUESTS_PER_10S,
    latency_faults,
    load_average,
    machine,
    make_frame,
    sandbox_config,
)

from hubspot_loader.sandbox import SandboxHandle, start_sandbox_process

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "load_benchmark.json"
DEFAULT_PLOT = ROOT / "docs" / "benchmarks-latency-sweep.png"
_sandbox_figures = sandbox_figures  # the older private names the other benchmarks import
_load_average = load_average

Latency = tuple[float, float, float]


@dataclass
class Settings:
    """What one benchmark invocation runs (a size of 0 skips that part)."""

    rows: int = 57_000  # 3 windows' budget at 190, as a sweep point (load_sweep.SWEEP_WINDOWS)
    pool_rows: int = 20_000
    official_rows: int = 3_000
    drt_seconds: float = 0.0
    cpu_rows: int = 1_000_000
    baseline_rows: int = 100_000
    rss_rows: int = 1_000_000
    rss_keys: str = "int"
    rss_install: str = "base"
    max_in_flight: int = 16
    requests_per_10s: int = TIER_REQUESTS_PER_10S
    default_config: bool = True
    tier: int = TIER_REQUESTS_PER_10S
    latency_ms: Latency = ISSUE16_LATENCY
    latency: bool = True
    sweep: tuple[tuple[float, Latency], ...] = SWEEP_LATENCIES
    sweep_tiers: tuple[int, ...] = SWEEP_TIERS
    sweep_windows: float = SWEEP_WINDOWS
    sweep_rows: int = 0
    portals: int = 3
    portal_rows: int = 0
    plot: Path | None = DEFAULT_PLOT
    seed: int = 0
    out: Path = DEFAULT_OUT

    def point_rows(self, tier: int) -> int:
        """Return the rows of one sweep point at ``tier`` (``sweep_rows``, or ``sweep_windows`` windows)."""
        return self.sweep_rows or sweep_rows(tier, self.sweep_windows)

    def base_faults(self) -> Any:
        """Return the sandbox faults of the side-by-side runs and the portals."""
        return latency_faults(self.latency_ms if self.latency else None, seed=self.seed)


def _header(settings: Settings) -> dict[str, Any]:
    return {
        "started": datetime.now(timezone.utc).isoformat(),
        "machine": machine(),
        "settings": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items() if k != "sweep"
        }
        | {"sweep": [[rt, list(ms)] for rt, ms in settings.sweep]},
        "sandbox": {
            "process": "separate (start_sandbox_process)",
            "rate_limit_per_10s": settings.tier,
            "latency": (
                "{:g} ms + {:g} ms per input + uniform 0-{:g} ms jitter".format(*settings.latency_ms)
                if settings.latency
                else "no latency"
            ),
        },
        "ceiling_rows_per_s": settings.tier * BATCH_SIZE / 10,
        "load_average_at_start": load_average(),
        "targets_definition": TARGETS,
        "runs": [],
        "parts_s": {},
        "sweep": {"points": [], "definition": "steady = median window cycle (load_results.steady_state)"},
    }


def _side_by_side(
    sb: SandboxHandle, settings: Settings, report: dict[str, Any], log: Callable[[str], None]
) -> None:
    """Run ours and its peers at the base tier and latency; a matching sweep point reuses ours."""
    faults, seed = settings.base_faults(), settings.seed
    if settings.rows:
        log(f"ours: {settings.rows:,} rows ...")
        ours = run_loader(
            sb,
            make_frame(settings.rows, seed=seed, tag="ours"),
            max_in_flight=settings.max_in_flight,
            requests_per_10s=settings.requests_per_10s,
            tier=settings.tier,
            default_config=settings.default_config,
            faults=faults,
        )
        report["runs"].append(asdict(ours))
        if settings.default_config and settings.latency:
            for round_trip, latency_ms in settings.sweep:
                if tuple(latency_ms) == tuple(settings.latency_ms) and settings.tier in settings.sweep_tiers:
                    point = _point_from(ours, round_trip, latency_ms)
                    report["sweep"]["points"].append(point | {"reused": "ours"})
    for models in (True, False):
        if settings.pool_rows:
            answer = "models" if models else "raw"
            log(f"official client, 8-thread pool, {answer}: {settings.pool_rows:,} rows ...")
            tag = "pool" if models else "poolraw"
            df = make_frame(settings.pool_rows, seed=seed, tag=tag)
            report["runs"].append(asdict(run_official_pool(sb, df, models=models, faults=faults)))
    if settings.official_rows:
        log(f"official client, sequential loop: {settings.official_rows:,} rows ...")
        df = make_frame(settings.official_rows, seed=seed, tag="seq")
        report["runs"].append(asdict(run_official(sb, df, faults=faults)))
    if settings.drt_seconds:
        log(f"one record per request: {settings.drt_seconds:g} s ...")
        sample = make_frame(int(settings.drt_seconds * DRT_REQUESTS_PER_S * 2) + 10, seed=seed, tag="drt")
        drt = run_one_per_request(
            sb,
            sample,
            seconds=settings.drt_seconds,
            workload_rows=settings.rows or len(sample),
            faults=faults,
        )
        report["runs"].append(asdict(drt))


def _point_from(ours: RunResult, round_trip: float, latency_ms: Latency) -> dict[str, Any]:
    from load_sweep import point_figures

    return point_figures(ours, round_trip=round_trip, latency_ms=latency_ms)


def _sweep_tier(
    sb: SandboxHandle, tier: int, settings: Settings, report: dict[str, Any], log: Callable[[str], None]
) -> None:
    """Run the sweep's points at ``tier`` that no earlier run covered."""
    done = {(p["tier"], p["nominal_round_trip_s"]) for p in report["sweep"]["points"]}
    for round_trip, latency_ms in settings.sweep:
        if (tier, round_trip) in done:
            continue
        rows = settings.point_rows(tier)
        log(f"sweep: tier {tier}, round trip ~{round_trip:g} s, {rows:,} rows ...")
        point = run_point(
            sb, tier=tier, round_trip=round_trip, latency_ms=latency_ms, rows=rows, seed=settings.seed
        )
        report["sweep"]["points"].append(point)


def _network_parts(settings: Settings, report: dict[str, Any], log: Callable[[str], None]) -> None:
    """Run every part that loads through the network: the base tier's sandbox first, then the others."""
    tiers = [settings.tier] + [t for t in settings.sweep_tiers if t != settings.tier]
    for tier in tiers:
        base = tier == settings.tier
        in_sweep = tier in settings.sweep_tiers and settings.sweep
        if not base and not in_sweep:
            continue
        config = sandbox_config(
            latency=settings.latency,
            rate_limit=tier,
            seed=settings.seed,
            latency_ms=settings.latency_ms,
            tokens=max(1, settings.portals) if base else 1,
        )
        sb = start_sandbox_process(config)
        parts, start = report["parts_s"], time.monotonic()
        try:
            if base:
                _side_by_side(sb, settings, report, log)
                parts["side_by_side"], start = round(time.monotonic() - start, 1), time.monotonic()
            if in_sweep:
                _sweep_tier(sb, tier, settings, report, log)
                parts[f"sweep_{tier}"], start = round(time.monotonic() - start, 1), time.monotonic()
            if base and settings.portals > 1:
                rows = settings.portal_rows or settings.point_rows(tier)
                log(f"{settings.portals} portals x {rows:,} rows at the same time ...")
                latency_ms = settings.latency_ms if settings.latency else None
                report["portals"] = run_portals(
                    sb, rows=rows, tier=tier, latency_ms=latency_ms, seed=settings.seed
                )
                parts["portals"] = round(time.monotonic() - start, 1)
        finally:
            sb.stop()
    report["sweep"]["points"].sort(key=lambda p: (p["tier"], p["nominal_round_trip_s"]))


def run(settings: Settings, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every part of the benchmark; return the report (also written to ``settings.out``)."""
    started = time.monotonic()
    report = _header(settings)
    if settings.cpu_rows:
        log(f"CPU: validate + convert + serialize {settings.cpu_rows:,} rows (child process) ...")
        report["cpu"] = run_cpu(settings.cpu_rows, settings.baseline_rows)
        report["parts_s"]["cpu"] = round(time.monotonic() - started, 1)
    _network_parts(settings, report, log)
    report["ratios"] = ratios(report["runs"])
    points = report["sweep"]["points"]
    if settings.plot is not None and points:
        loads = [p["load_average"][0] for p in points if p.get("load_average")] or [float("nan")]
        title = (
            f"ClientSettings() defaults, {datetime.now(timezone.utc):%Y-%m-%d}, "
            f"load average {min(loads):.1f}-{max(loads):.1f} during the sweep"
        )
        report["sweep"]["plot"] = str(plot_sweep(points, settings.plot, title=title))
    if settings.rss_rows:
        log(f"load peak RSS: {settings.rss_rows:,} rows (child process, unthrottled sandbox) ...")
        start = time.monotonic()
        report["load_rss"] = run_load_rss(
            settings.rss_rows, keys=settings.rss_keys, install=settings.rss_install
        )
        report["parts_s"]["memory"] = round(time.monotonic() - start, 1)
    report["targets"] = verdicts(report)
    report["total_s"] = round(time.monotonic() - started, 1)
    report["load_average_at_end"] = load_average()
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    settings.out.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _child_main(argv: list[str]) -> bool:
    """Run the CPU child part (``--child-cpu``) when ``argv`` asks for it."""
    if argv and argv[0] == "--child-cpu":
        print(json.dumps(cpu_child(int(argv[1]), int(argv[2]))))
        return True
    return False


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's parser."""
    d = Settings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=d.rows, help="rows for our loader, side by side")
    p.add_argument("--pool-rows", type=int, default=d.pool_rows, help="rows of each official pool run")
    p.add_argument("--official-rows", type=int, default=d.official_rows, help="rows of the sequential loop")
    p.add_argument("--drt-seconds", type=float, default=d.drt_seconds, help="one record per request (0: off)")
    p.add_argument("--cpu-rows", type=int, default=d.cpu_rows)
    p.add_argument("--baseline-rows", type=int, default=d.baseline_rows)
    p.add_argument("--rss-rows", type=int, default=d.rss_rows)
    p.add_argument("--rss-keys", choices=KEY_KINDS, default=d.rss_keys, help="keys of that load")
    p.add_argument(
        "--rss-install",
        choices=INSTALLS,
        default=d.rss_install,
        help="packages that load may import: base (no extras: pyarrow hidden) or full (the dev venv)",
    )
    p.add_argument("--max-in-flight", type=int, default=d.max_in_flight, help="with --tuned")
    p.add_argument("--requests-per-10s", type=int, default=d.requests_per_10s, help="with --tuned")
    config = p.add_mutually_exclusive_group()
    config.add_argument(
        "--default-config", action="store_true", help="load with ClientSettings() untouched (the default)"
    )
    config.add_argument(
        "--tuned", action="store_true", help="load with --max-in-flight and --requests-per-10s instead"
    )
    p.add_argument("--tier", type=int, default=d.tier, help="the sandbox's requests per 10 s per token")
    p.add_argument(
        "--latency-ms",
        type=float,
        nargs=3,
        default=list(d.latency_ms),
        metavar=("BASE", "PER_INPUT", "JITTER"),
        help="injected latency side by side and for the portals (default 200 2 100)",
    )
    p.add_argument("--no-latency", action="store_true", help="no latency side by side (quick checks)")
    known = [rt for rt, _ in SWEEP_LATENCIES]
    p.add_argument(
        "--sweep",
        type=float,
        nargs="*",
        default=known,
        metavar="ROUND_TRIP",
        help=f"the sweep's round trips, of {known} (none: no sweep)",
    )
    p.add_argument("--sweep-tiers", type=int, nargs="+", default=list(d.sweep_tiers))
    p.add_argument("--sweep-windows", type=float, default=d.sweep_windows, help="windows' budget per point")
    p.add_argument("--sweep-rows", type=int, default=d.sweep_rows, help="rows per point (overrides windows)")
    p.add_argument("--portals", type=int, default=d.portals, help="portals loaded at the same time (<2: off)")
    p.add_argument("--portal-rows", type=int, default=d.portal_rows, help="rows per portal (0: as a point)")
    p.add_argument("--plot", type=Path, default=d.plot, help="the sweep's PNG")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", type=Path, default=d.out)
    return p


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Return the settings the parsed command line asks for."""
    latencies = dict(SWEEP_LATENCIES)
    unknown = [rt for rt in args.sweep if rt not in latencies]
    if unknown:
        raise SystemExit(f"--sweep: unknown round trips {unknown}; choose among {sorted(latencies)}")
    return Settings(
        rows=args.rows,
        pool_rows=args.pool_rows,
        official_rows=args.official_rows,
        drt_seconds=args.drt_seconds,
        cpu_rows=args.cpu_rows,
        baseline_rows=args.baseline_rows,
        rss_rows=args.rss_rows,
        rss_keys=args.rss_keys,
        rss_install=args.rss_install,
        max_in_flight=args.max_in_flight,
        requests_per_10s=args.requests_per_10s,
        default_config=not args.tuned,
        tier=args.tier,
        latency_ms=(args.latency_ms[0], args.latency_ms[1], args.latency_ms[2]),
        latency=not args.no_latency,
        sweep=tuple((rt, latencies[rt]) for rt in args.sweep),
        sweep_tiers=tuple(args.sweep_tiers),
        sweep_windows=args.sweep_windows,
        sweep_rows=args.sweep_rows,
        portals=args.portals,
        portal_rows=args.portal_rows,
        plot=None if args.no_plot else args.plot,
        seed=args.seed,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the benchmark (or one of its child parts)."""
    argv = sys.argv[1:] if argv is None else argv
    if _child_main(argv):
        return
    settings = settings_from_args(build_parser().parse_args(argv))
    report = run(settings, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(format_table(report))
    load = report.get("load_average_at_end") or [float("nan")] * 3
    print(
        f"JSON: {settings.out} (total {report['total_s']:.0f} s; load average at the end "
        + ", ".join(f"{x:.2f}" for x in load)
        + ")"
    )


if __name__ == "__main__":
    main()
