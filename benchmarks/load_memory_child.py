"""The memory run's child process: hide what the install does not have, then load and print figures.

Usage (started by ``load_memory.run_load_rss``):
``python benchmarks/load_memory_child.py ROWS BASE_URL TOKEN MAX_IN_FLIGHT KEYS INSTALL``

With ``INSTALL`` = ``base`` the packages of :data:`load_memory.HIDDEN_IN_BASE_INSTALL` are hidden before
anything imports pandas, so the process holds what a loader installed without extras holds. The last
line printed is the figures as JSON.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    """Run one memory measurement and print its figures as one JSON line."""
    rows, url, token, in_flight, keys, install = argv
    import load_memory  # no pandas at its import

    if install not in load_memory.INSTALLS:
        raise SystemExit(f"install must be one of {load_memory.INSTALLS}, not {install!r}")
    if install == "base":
        load_memory.hide_packages(load_memory.HIDDEN_IN_BASE_INSTALL)
    from load_workload import BENCHMARK_SPEC, make_frame

    figures = load_memory.load_rss_child(
        int(rows), url, token, int(in_flight), keys=keys, make_frame=make_frame, spec=BENCHMARK_SPEC
    )
    print(json.dumps({**figures, "install": install}))


if __name__ == "__main__":
    main(sys.argv[1:])
