"""``make bench``'s runner: its steps exist and its summary gives every step's time and the total."""

from __future__ import annotations

from hubspot_loader_tests.benchmarks.scripts import BENCHMARKS, benchmark_module


def test_every_step_names_a_benchmark_script() -> None:
    suite = benchmark_module("bench_suite.py")
    for _name, (script, *_args) in (*suite.BENCH, *suite.BENCH_ALL):
        assert (BENCHMARKS / script).is_file(), script
    assert suite.BENCH[0][1] == ["load_benchmark.py", "--rss-keys", "string"]  # issue 16's text keys


def test_summary_gives_each_step_and_the_total_against_the_limit() -> None:
    suite = benchmark_module("bench_suite.py")
    done = [
        {"step": "a", "wall_s": 400.0, "exit_code": 0},
        {"step": "b", "wall_s": 200.5, "exit_code": 0},
    ]
    text = suite.summary(done, limit=600.0)
    assert "a" in text and "400.0 s" in text and "200.5 s" in text
    assert "600.5 s" in text and "MISSED (target < 600 s)" in text  # 600.5 s is not under 10 minutes
    assert "MET" in suite.summary(done[:1], limit=600.0)
    assert "target" not in suite.summary(done, limit=None)
