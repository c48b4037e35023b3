"""The load benchmark's harness works end to end on a tiny workload (correctness only, never speed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from hubspot_loader_tests.benchmarks.scripts import benchmark_module

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
#: Tiny latencies: the sweep's structure with a few milliseconds per request, not its round trips.
TINY = (5.0, 0.0, 2.0)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return benchmark_module("load_benchmark.py")


def _exactly_once(run: dict, rows: int, name: str) -> None:
    assert run["rows"] == rows, name
    assert run["created"] == rows, name  # every row stored in the sandbox ...
    assert run["duplicates"] == 0, name  # ... exactly once
    assert run["failed"] == 0, name


def test_tiny_run_creates_every_row_once_and_writes_the_report(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "results" / "bench.json"
    plot = tmp_path / "sweep.png"
    settings = bench.Settings(
        rows=600,
        pool_rows=300,
        official_rows=250,
        drt_seconds=2.0,  # long enough for its threads to send at least one request on a loaded machine
        cpu_rows=3_000,
        baseline_rows=300,
        rss_rows=0,  # the memory part's own test: test_load_memory.py
        latency_ms=TINY,
        sweep=((0.05, TINY), (0.45, (8.0, 0.0, 2.0))),
        sweep_tiers=(190, 250),
        sweep_rows=300,
        portals=3,
        portal_rows=400,
        plot=plot if HAS_MATPLOTLIB else None,
        out=out,
    )
    report = bench.run(settings, log=lambda _m: None)

    saved = json.loads(out.read_text())
    assert saved["runs"] == report["runs"]
    for key in ("machine", "settings", "sandbox", "ceiling_rows_per_s", "runs", "ratios", "sweep", "portals"):
        assert key in saved, key
    for key in ("cpu", "targets", "total_s", "load_average_at_start"):
        assert key in saved, key
    assert saved["ceiling_rows_per_s"] == 1900

    runs = {r["name"]: r for r in saved["runs"]}
    assert set(runs) == {"ours", "official_pool", "official_pool_raw", "official", "one_per_request"}
    for name, rows in (("ours", 600), ("official_pool", 300), ("official_pool_raw", 300), ("official", 250)):
        _exactly_once(runs[name], rows, name)
        assert runs[name]["rate_limited"] == 0, name
        for key in ("rows_per_s", "ceiling_fraction", "requests", "wall_s"):
            assert runs[name][key] > 0, (name, key)
    assert runs["ours"]["extra"]["default_config"] is True  # ClientSettings() untouched
    assert runs["ours"]["requests"] == 6  # 600 rows in batches of 100
    assert runs["official_pool"]["requests"] == runs["official_pool_raw"]["requests"] == 3
    assert runs["official_pool"]["extra"]["created_reported"] == 300
    assert runs["official_pool_raw"]["extra"]["created_reported"] == 300
    assert runs["official"]["requests"] == 3
    assert set(saved["ratios"]) == {"official_pool", "official_pool_raw", "official", "one_per_request"}

    one = runs["one_per_request"]
    assert one["extrapolated"] is True
    assert one["created"] == one["rows"] == one["requests"] >= 1
    assert one["duplicates"] == 0
    assert one["extra"]["extrapolated_rows"] == 600

    points = saved["sweep"]["points"]
    assert [(p["tier"], p["nominal_round_trip_s"]) for p in points] == [
        (190, 0.05),
        (190, 0.45),
        (250, 0.05),
        (250, 0.45),
    ]
    assert points[0]["reused"] == "ours" and points[0]["rows"] == 600  # same latency and tier as ours
    for p in points[1:]:
        assert p["rows"] == p["created"] == 300 and p["duplicates"] == 0 and p["failed"] == 0
        assert p["duplicates_counted_as"].startswith("stored - rows")
    for p in points:
        for key in ("steady_ceiling_fraction", "steady_mean_ceiling_fraction", "overall_ceiling_fraction"):
            assert key in p, key
        assert p["rate_limited_fraction"] == 0 and p["round_trip_s"] > 0
    if HAS_MATPLOTLIB:
        assert saved["sweep"]["plot"] == str(plot) and plot.read_bytes().startswith(b"\x89PNG")

    portals = saved["portals"]
    assert [p["portal"] for p in portals["portals"]] == [1, 2, 3]
    assert all(p["created"] == p["rows"] == 400 for p in portals["portals"])
    assert portals["stored"] == 1_200 and portals["duplicates"] == 0 and portals["exactly_once"]
    assert portals["process_cpu_s"] > 0 and portals["rate_limited"] == 0

    cpu = saved["cpu"]
    assert cpu["rows"] == 3_000 and cpu["requests"] == 30 and cpu["passes"] == 3
    assert cpu["rows_per_s"] > 0 and cpu["naive_rows_per_s"] > 0 and cpu["frame_bytes"] > 0

    targets = saved["targets"]
    assert {"rate_limited_fraction", "speedup_vs_official", "cpu_rows_per_cpu_s"} <= set(targets)
    new = {"default_250_at_0.45s_steady", "default_190_at_0.05s_429_share", "portal_3_steady"}
    assert new <= set(targets)
    table = bench.format_table(report)
    for text in ("official_pool_raw", "latency sweep", "3 portals", "naive iterrows", "targets:"):
        assert text in table, text


def test_a_missing_figure_is_a_miss(bench: ModuleType) -> None:
    report = {"sweep": {"points": [_point(steady=None)]}}
    targets = bench.verdicts(report)
    assert targets["default_190_at_3s_steady"] == {"value": None, "target": ">= 0.97", "met": False}
    assert "MISSED default_190_at_3s_steady: None" in bench.format_table({**report, "targets": targets})
    close = bench.verdicts({"sweep": {"points": [_point(steady=0.9699)]}})
    assert close["default_190_at_3s_steady"]["met"] is False  # never rounded into a pass


def _point(*, steady: float | None) -> dict:
    return {
        "tier": 190,
        "nominal_round_trip_s": 3.0,
        "round_trip_s": 3.05,
        "rows": 57_000,
        "steady_ceiling_fraction": steady,
        "steady_mean_ceiling_fraction": steady,
        "overall_ceiling_fraction": 0.9,
        "rate_limited": 0,
        "rate_limited_fraction": 0.0,
        "in_flight_median": 70,
        "in_flight_peak": 80,
        "load_average": [1.0, 1.0, 1.0],
    }


def test_cpu_part_without_the_naive_baseline(bench: ModuleType) -> None:
    cpu = bench.cpu_child(250, 0, passes=1)  # --baseline-rows 0 used to divide by zero
    assert cpu["requests"] == 3 and cpu["naive_rows_measured"] == 0 and cpu["naive_rows_per_s"] is None
    assert "not run" in bench.format_table({"cpu": cpu})


def test_benchmark_bodies_match_the_frame(bench: ModuleType) -> None:
    df = bench.make_frame(250)
    bodies = [json.loads(b) for b in bench.iter_bodies(df)]
    inputs = [i for body in bodies for i in body["inputs"]]
    assert [len(b["inputs"]) for b in bodies] == [100, 100, 50]
    assert [i["objectWriteTraceId"] for i in inputs] == [str(k) for k in range(250)]
    assert len({i["properties"]["email"] for i in inputs}) == 250
    assert sum(1 for _ in bench.naive_bodies(df)) == 3


def test_window_helpers(bench: ModuleType) -> None:
    assert bench.max_in_window([0.0, 1.0, 9.9, 10.0, 10.5]) == 4
    assert bench.max_in_window([]) == 0
    # 3 batches per window, one window (plus a round trip) apart: 3 per 10.5 s in steady state.
    times = [k // 3 * 10.5 + (k % 3) * 0.1 for k in range(30)]
    assert bench.window_cycle_rate(times, budget=3) == pytest.approx(3 / 10.5)
    assert bench.window_cycle_rate(times, budget=3, statistic="mean") == pytest.approx(3 / 10.5)
    assert bench.window_cycle_rate(times[:5], budget=3) is None
    # one slow cycle among many: the median ignores it, the mean does not
    slow = times[:20] + [t + 5.0 for t in times[20:]]
    assert bench.window_cycle_rate(slow, budget=3) == pytest.approx(3 / 10.5)
    assert bench.window_cycle_rate(slow, budget=3, statistic="mean") < 3 / 10.5


def test_the_command_line_maps_onto_the_settings(bench: ModuleType) -> None:
    args = bench.build_parser().parse_args(["--sweep", "0.05", "3", "--sweep-tiers", "250", "--no-plot"])
    settings = bench.settings_from_args(args)
    assert [rt for rt, _ in settings.sweep] == [0.05, 3.0] and settings.sweep_tiers == (250,)
    assert settings.plot is None and settings.default_config is True
    assert bench.settings_from_args(bench.build_parser().parse_args(["--tuned"])).default_config is False
    assert bench.settings_from_args(bench.build_parser().parse_args(["--sweep"])).sweep == ()
    assert bench.Settings().point_rows(190) == 57_000 and bench.Settings().point_rows(250) == 75_000


class _FakeSandbox:
    """The inspection calls ``sandbox_figures`` makes, over a fixed list of stored emails."""

    def __init__(self, emails: list[str]) -> None:
        self.emails = emails

    def counters(self) -> dict:
        return {"write_requests": 3, "rate_limited": 1}

    def counts(self) -> dict:
        return {"contacts": len(self.emails)}

    def objects(self, _object_type: str) -> list[dict]:
        return [{"properties": {"email": e}} for e in self.emails]


def test_duplicates_by_email_scan_and_by_count(bench: ModuleType) -> None:
    twice = _FakeSandbox(["a@x.com", "A@x.com ", "b@x.com"])
    assert bench.sandbox_figures(twice) == (3, 1, 3, 1)  # emails compared as HubSpot does
    assert bench.sandbox_figures(twice, expected=2) == (3, 1, 3, 1)  # one object more than rows
    assert bench.sandbox_figures(twice, expected=3)[3] == 0
    assert bench.sandbox_figures(twice, expected=4)[2:] == (3, 0)  # a missing row shows as stored < rows
