"""The state backends benchmark runs end to end on a tiny workload (correctness only, never speed)."""

from __future__ import annotations

import json
from pathlib import Path

from hubspot_loader_tests.benchmarks.scripts import benchmark_module
from hubspot_loader_tests.postgres import PostgresServer


def test_tiny_run_loads_every_row_once_on_both_backends(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    bench = benchmark_module("state_backends_load.py")
    out = tmp_path / "results" / "state.json"
    report = bench.run(300, postgres_server.new_schema_url(), out, log=lambda _m: None)

    assert json.loads(out.read_text()) == report
    assert sorted(report["backends"]) == ["postgres", "sqlite"]
    for figures in report["backends"].values():
        assert figures["rows"] == 300 and figures["created_reported"] == 300
        assert figures["stored"] == 300 and figures["duplicates"] == 0 and figures["exactly_once"]
        assert figures["requests"] >= 3 and figures["steady_rows_per_s"] is None  # far too short
    assert report["backends"]["postgres"]["state"].startswith("postgresql+psycopg://")
    assert "PostgreSQL / SQLite, overall" in bench.format_report(report)
