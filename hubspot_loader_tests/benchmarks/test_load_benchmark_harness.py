"""The load benchmark's harness works end to end on a tiny workload (correctness only, never speed)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from hubspot_loader_tests.benchmarks.scripts import benchmark_module

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "load_benchmark.py"




@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return benchmark_module("load_benchmark.py")


def test_tiny_run_creates_every_row_once_and_writes_the_report(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "results" / "bench.json"
    settings = bench.Settings(
        rows=600,
        official_rows=250,
        drt_seconds=2.0,  # long enough for its threads to send at least one request on a loaded machine
        cpu_rows=3_000,
        baseline_rows=300,
        rss_rows=1_500,
        max_in_flight=4,
        latency=False,
        out=out,
    )
    report = bench.run(settings, log=lambda _m: None)

    saved = json.loads(out.read_text())
    assert saved["runs"] == report["runs"]
    for key in ("machine", "settings", "sandbox", "ceiling_rows_per_s", "runs", "cpu", "load_rss", "targets"):
        assert key in saved, key
    assert saved["ceiling_rows_per_s"] == 1900

    runs = {r["name"]: r for r in saved["runs"]}
    assert set(runs) == {"ours", "official", "one_per_request"}
    for name, expected in (("ours", 600), ("official", 250)):
        run = runs[name]
        assert run["rows"] == expected
        assert run["created"] == expected, name  # every row stored in the sandbox ...
        assert run["duplicates"] == 0, name  # ... exactly once
        assert run["failed"] == 0, name
        assert run["rate_limited"] == 0, name
        for key in ("rows_per_s", "ceiling_fraction", "requests", "wall_s"):
            assert run[key] > 0, (name, key)
    assert runs["ours"]["requests"] == 6  # 600 rows in batches of 100
    assert runs["official"]["requests"] == 3

    one = runs["one_per_request"]
    assert one["extrapolated"] is True
    assert one["created"] == one["rows"] == one["requests"] >= 1
    assert one["duplicates"] == 0
    assert one["extra"]["extrapolated_rows"] == 600

    cpu = saved["cpu"]
    assert cpu["rows"] == 3_000 and cpu["requests"] == 30
    assert cpu["rows_per_s"] > 0 and cpu["naive_rows_per_s"] > 0 and cpu["frame_bytes"] > 0
    rss = saved["load_rss"]
    assert rss["rows"] == rss["created"] == rss["stored"] == 1_500
    assert rss["peak_rss_bytes"] >= rss["rss_at_start_bytes"] > 0

    assert {"rate_limited_fraction", "speedup_vs_official", "cpu_rows_per_cpu_s"} <= set(saved["targets"])
    table = bench.format_table(report)
    assert "ours" in table and "official" in table and "naive iterrows" in table


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
    assert bench.window_cycle_rate(times[:5], budget=3) is None
