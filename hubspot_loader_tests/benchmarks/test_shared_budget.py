"""The shared budget benchmark runs end to end on a tiny workload (correctness only, never speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubspot_loader_tests.benchmarks.scripts import benchmark_module


@pytest.mark.parametrize("shared", [True, False])
def test_tiny_run_creates_every_row_once_and_writes_the_report(shared: bool, tmp_path: Path) -> None:
    bench = benchmark_module("shared_budget.py")
    out = tmp_path / "results" / "shared.json"
    settings = bench.Settings(processes=2, rows=250, shared=shared, latency=False, out=out)
    report = bench.run(settings, log=lambda _m: None)

    assert json.loads(out.read_text()) == report
    assert report["rows"] == 500
    assert report["stored"] == 500 and report["duplicates"] == 0 and report["exactly_once"]
    assert report["created_reported"] == 500
    assert report["requests"] >= 6  # 3 batches per process (100, 100, 50)
    assert report["rate_limited"] == 0  # 6 requests: far below 190 per 10 s
    assert report["steady_rows_per_s"] is None  # too short for a steady state
    assert report["rows_per_s"] > 0 and report["ceiling_fraction"] > 0
    assert (report["shared_transactions"] > 0) is shared
    assert "exactly once" in bench.format_report(report)
