"""The load benchmark's memory part: RSS probes and the child process that loads a large frame.

``load_benchmark.py`` starts :func:`load_rss_child` in a fresh process (``--child-load-rss``) against a
sandbox in a third process and reports the child's peak RSS against the frame's own memory
(``df.memory_usage(deep=True).sum()``). The frame's keys are the workload's integers ``0 … n-1``
(``--rss-keys int``, the default) or text keys (``--rss-keys string``: 32 hexadecimal characters per row,
the shape of a dbt surrogate key), which the row outcome store must keep one string per row for.

``--rss-install`` says which packages the child may import. ``base`` (the default) is the loader's own
install, ``pip install hubspot-loader`` without extras: the child hides the packages of the optional
extras that pandas imports by itself at ``import pandas`` when they are installed (pyarrow, from the
``[parquet]`` extra), so it runs as it would where they are not installed. ``full`` is the development
venv as it is, all extras included: pyarrow 26's libraries then add about 66 MiB to every process
that imports pandas, whether it reads Parquet or not. The child is ``load_memory_child.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import importlib.abc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the child imports pandas and the loader only after hiding packages (load_memory_child)
    import pandas as pd

    from hubspot_loader.core.spec import HubSpotLoadSpec

KEY_KINDS = ("int", "string")
"""Values of ``--rss-keys``."""

INSTALLS = ("base", "full")
"""Values of ``--rss-install``."""

HIDDEN_IN_BASE_INSTALL = ("pyarrow",)
"""Packages of the loader's optional extras that ``import pandas`` imports whenever they are installed.

None of them is a dependency of the loader (``pyproject.toml``'s ``dependencies``); pyarrow comes with
the ``[parquet]`` extra (the CLI's Parquet files) and pandas imports it eagerly (``pandas.compat``)."""


class HiddenPackages(importlib.abc.MetaPathFinder):
    """An import finder that answers ``ModuleNotFoundError`` for these packages, as if not installed."""

    def __init__(self, names: tuple[str, ...]) -> None:
        """Hide the packages ``names`` (top-level names) and their submodules."""
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        """Refuse a hidden package; let every other import go on to the next finder."""
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden: not in the base install)")
        return None


def hide_packages(names: tuple[str, ...]) -> None:
    """Make ``names`` unimportable in this process; call it before anything imports pandas.

    Raises:
        RuntimeError: one of them is imported already.

    """
    loaded = [name for name in names if name in sys.modules]
    if loaded:
        raise RuntimeError(f"{loaded} already imported; hide them before pandas is imported")
    sys.meta_path.insert(0, HiddenPackages(names))


def run_load_rss(
    rows: int,
    *,
    keys: str,
    install: str,
    start_sandbox: Callable[[], Any],
    max_in_flight: int = 4,
    timeout: float = 900,
) -> dict[str, Any]:
    """Peak RSS of a ``rows``-row load in a child process, against a sandbox in a third process.

    ``start_sandbox()`` starts that sandbox (no latency, no limit) and returns its handle
    (``base_url``, ``token``, ``counts()``, ``stop()``). The 1M-row load takes 80-110 s on a quiet
    2-core machine and took 430-560 s under a load average of 8-16.
    """
    if install not in INSTALLS:
        raise ValueError(f"install must be one of {INSTALLS}, not {install!r}")
    sb = start_sandbox()
    try:
        child = Path(__file__).with_name("load_memory_child.py")
        cmd = [sys.executable, str(child), str(rows), sb.base_url, sb.token, str(max_in_flight), keys]
        cmd.append(install)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"memory child failed ({done.returncode}):\n{done.stderr[-4000:]}")
        figures = dict(json.loads(done.stdout.strip().splitlines()[-1]))
        figures["stored"] = sb.counts().get("contacts", 0)
        return figures
    finally:
        sb.stop()


def peak_rss_bytes() -> int:
    """This process's peak resident set size.

    Linux's ``VmHWM`` (``/proc/self/status``) is preferred: ``getrusage``'s ``ru_maxrss`` survives
    ``exec``, so a child started by a large parent would report the parent's size as its own peak.
    """
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def current_rss_bytes() -> int | None:
    """This process's current resident set size (Linux ``/proc``), or ``None``."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; ``False`` when Linux does not allow it.

    Writing ``5`` to ``/proc/self/clear_refs`` (Linux 4.0+) resets the high-water mark, so a peak read
    afterwards is the peak of what ran since, not of building the test frame.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc), so RSS starts from the frame.

    Building the test frame leaves temporary lists behind in the allocator's arenas; without this they
    would be counted as if the code under test had used them.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def with_string_keys(df: pd.DataFrame, key_column: str = "id") -> pd.DataFrame:
    """``df`` with ``key_column`` replaced by text keys: the md5 hex digest of each integer key.

    32 characters, unique, never a plain decimal number, like ``dbt_utils.generate_surrogate_key``.
    """
    import pandas as pd

    keys = [hashlib.md5(str(k).encode()).hexdigest() for k in df[key_column].tolist()]
    return df.assign(**{key_column: pd.Series(keys, index=df.index, dtype=object)})


def load_rss_child(
    rows: int,
    base_url: str,
    token: str,
    max_in_flight: int,
    *,
    keys: str,
    make_frame: Callable[..., pd.DataFrame],
    spec: HubSpotLoadSpec,
) -> dict[str, Any]:
    """In a fresh process: load ``rows`` rows into an unthrottled sandbox; report peak RSS.

    ``make_frame(rows, tag=...)`` builds the workload; with ``keys="string"`` its key column is replaced
    by :func:`with_string_keys` before the frame is measured.
    """
    from hubspot_loader.http.client import HubSpotClient
    from hubspot_loader.http.settings import ClientSettings
    from hubspot_loader.load import load_dataframe

    if keys not in KEY_KINDS:
        raise ValueError(f"keys must be one of {KEY_KINDS}, not {keys!r}")
    rss_start = peak_rss_bytes()
    df = make_frame(rows, tag="rss")
    if keys == "string":
        df = with_string_keys(df, spec.key_column or "id")
    frame_bytes = int(df.memory_usage(deep=True).sum())
    release_free_memory()
    rss_frame = current_rss_bytes() or peak_rss_bytes()
    frame_build_peak = peak_rss_bytes()
    # Building the frame briefly needs more memory than the load itself; without the reset the peak
    # read after the load could be that one. Both are reported.
    peak_reset = reset_peak_rss()
    settings = ClientSettings(max_in_flight=max_in_flight, requests_per_10s=10**6)
    client = HubSpotClient(token, base_url=base_url, settings=settings)
    with client:
        start = time.monotonic()
        result = load_dataframe(df, spec, client=client)
        wall = time.monotonic() - start
    peak = peak_rss_bytes()
    return {
        "rows": rows,
        "keys": keys,
        "hidden_packages": sorted(
            name for finder in sys.meta_path if isinstance(finder, HiddenPackages) for name in finder.names
        ),
        "pyarrow_imported": "pyarrow" in sys.modules,
        "columns": len(df.columns),
        "wall_s": round(wall, 2),
        "rows_per_s": round(rows / wall, 1),
        "created": result.rows_created,
        "frame_bytes": frame_bytes,
        "rss_at_start_bytes": rss_start,
        "rss_with_frame_bytes": rss_frame,
        "frame_build_peak_bytes": frame_build_peak,
        "peak_reset_after_frame": peak_reset,
        "peak_rss_bytes": peak,
        "peak_rss_vs_frame": round(peak / frame_bytes, 3),
        "peak_above_interpreter_vs_frame": round((peak - rss_start) / frame_bytes, 3),
        "growth_over_frame_bytes": peak - rss_frame,
        "growth_vs_frame": round((peak - rss_frame) / frame_bytes, 3),
    }


def rss_verdicts(rss: dict[str, Any], target: float, growth_target: float) -> dict[str, Any]:
    """The memory targets with the measured values: the total is the target, the rest information."""

    def verdict(value: float, limit: float) -> dict[str, Any]:
        return {"value": value, "target": f"<= {limit}", "met": bool(value <= limit)}

    return {
        "load_peak_rss_vs_frame": verdict(rss["peak_rss_vs_frame"], target),
        "load_peak_above_interpreter_vs_frame": {
            **verdict(rss["peak_above_interpreter_vs_frame"], target),
            "note": "information: (peak RSS - RSS of the interpreter and imports) / frame",
        },
        "load_growth_vs_frame": {
            **verdict(rss["growth_vs_frame"], growth_target),
            "note": "information: (peak RSS - RSS with the frame built) / frame (issue #16's target)",
        },
    }


def rss_line(rss: dict[str, Any]) -> str:
    """The memory run as one line of the benchmark's table."""

    def mib(n: float) -> str:
        return f"{n / 2**20:,.0f} MiB"

    return (
        f"{rss['rows']:,}-row load ({rss.get('keys', 'int')} keys, {rss.get('columns', '?')} columns, "
        f"{rss.get('install', 'full')} install; no "
        f"latency, no limit): {rss['wall_s']:.1f} s, {rss['created']:,} created; peak RSS "
        f"{mib(rss['peak_rss_bytes'])} = {rss['peak_rss_vs_frame']:.2f}x the frame "
        f"({mib(rss['frame_bytes'])}); interpreter+imports {mib(rss['rss_at_start_bytes'])}, growth during "
        f"the load {mib(rss['growth_over_frame_bytes'])} = {rss['growth_vs_frame']:.2f}x the frame; without "
        f"the interpreter {rss['peak_above_interpreter_vs_frame']:.2f}x the frame"
    )
