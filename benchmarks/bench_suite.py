"""Run the benchmarks of ``make bench`` (or ``make bench-all`` with ``--all``), each timed; print the total.

    .venv/bin/python benchmarks/bench_suite.py [--all] [--out benchmarks/results/bench_suite.json]

``make bench`` is issue #16's set (``load_benchmark.py`` with text keys in its memory run), issue #13's
diff of 1M rows against a SQLite ledger (``diff_cost.py``), and the cheapest of the other benchmarks that
fits in 10 minutes with them on the 2-core machine (``shared_budget.py``, 5 processes x 6,000 rows with
the shared window). ``--all`` runs every benchmark
the Makefile used to run too, and the drt-style run of ``load_benchmark.py``. Each step's output is
printed as it runs; at the end a breakdown of the wall time per step and the total, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LIMIT_S = 600.0
"""``make bench``'s bound (issue #16: under 10 minutes)."""

#: ``make bench``: (name, script and arguments)
BENCH: tuple[tuple[str, list[str]], ...] = (
    ("load_benchmark (issue 16)", ["load_benchmark.py", "--rss-keys", "string"]),
    ("diff_cost 1M rows (issue 13)", ["diff_cost.py", "--rows", "1000000"]),
    ("shared_budget 5 x 6,000 (issue 14)", ["shared_budget.py", "--processes", "5", "--rows", "6000"]),
)
#: ``make bench-all``
BENCH_ALL: tuple[tuple[str, list[str]], ...] = (
    (
        "load_benchmark (issue 16) + drt-style",
        ["load_benchmark.py", "--rss-keys", "string", "--drt-seconds", "20"],
    ),
    ("diff_cost 1M rows (issue 13)", ["diff_cost.py", "--rows", "1000000"]),
    ("sync_benchmark (issue 13)", ["sync_benchmark.py"]),
    ("shared_budget 5 x 6,000 (issue 14)", ["shared_budget.py", "--processes", "5", "--rows", "6000"]),
    (
        "shared_budget 5 x 6,000 --no-shared",
        ["shared_budget.py", "--processes", "5", "--rows", "6000", "--no-shared"],
    ),
    ("shared_budget 20 x 1,500 (issue 14)", ["shared_budget.py", "--processes", "20", "--rows", "1500"]),
    ("state_backends_load (issue 14)", ["state_backends_load.py"]),
)


def _load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def run_steps(steps: tuple[tuple[str, list[str]], ...]) -> list[dict[str, Any]]:
    """Run each step's script with this interpreter, its output streamed; return each one's wall time."""
    done = []
    for name, (script, *args) in steps:
        print(f"\n=== {name}: {script} {' '.join(args)} (load average {_load_average()})", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, str(HERE / script), *args])
        wall = time.monotonic() - start
        done.append({"step": name, "command": [script, *args], "wall_s": round(wall, 1), "exit_code": code})
        print(f"=== {name}: {wall:.0f} s, exit code {code}", flush=True)
    return done


def summary(done: list[dict[str, Any]], *, limit: float | None) -> str:
    """Return the breakdown per step and the total, with the load average now."""
    total = sum(d["wall_s"] for d in done)
    width = max(len(d["step"]) for d in done)
    lines = ["", "wall time per step:"]
    lines += [f"  {d['step']:<{width}} {d['wall_s']:>7.1f} s  (exit {d['exit_code']})" for d in done]
    verdict = ""
    if limit is not None:
        verdict = f"  {'MET' if total < limit else 'MISSED'} (target < {limit:.0f} s)"
    lines.append(f"  {'total':<{width}} {total:>7.1f} s = {total / 60:.1f} min{verdict}")
    lines.append(f"  load average at the end: {_load_average()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen set; return a non-zero exit code when a step failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--all", action="store_true", help="every benchmark (make bench-all)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "bench_suite.json")
    args = parser.parse_args(argv)
    done = run_steps(BENCH_ALL if args.all else BENCH)
    print(summary(done, limit=None if args.all else LIMIT_S))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"all": args.all, "steps": done}, indent=2) + "\n")
    return 0 if all(d["exit_code"] == 0 for d in done) else 1


if __name__ == "__main__":
    sys.exit(main())
