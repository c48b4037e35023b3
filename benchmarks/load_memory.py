"""The load benchmark's memory part: RSS probes and the child process that loads a large frame.

``load_benchmark.py`` starts :func:`load_rss_child` in a fresh process (``--child-load-rss``) against a
sandbox in a third process and reports the child's peak RSS against the frame's own memory
(``df.memory_usage(deep=True).sum()``). The frame's keys are the workload's integers ``0 … n-1``
(``--rss-keys int``, the default) or text keys (``--rss-keys string``: 32 hexadecimal characters per row,
the shape of a dbt surrogate key), which the row outcome store must keep one string per row for.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import os
import resource
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import load_dataframe

KEY_KINDS = ("int", "string")
"""Values of ``--rss-keys``."""


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
        f"{rss['rows']:,}-row load ({rss.get('keys', 'int')} keys, {rss.get('columns', '?')} columns; no "
        f"latency, no limit): {rss['wall_s']:.1f} s, {rss['created']:,} created; peak RSS "
        f"{mib(rss['peak_rss_bytes'])} = {rss['peak_rss_vs_frame']:.2f}x the frame "
        f"({mib(rss['frame_bytes'])}); interpreter+imports {mib(rss['rss_at_start_bytes'])}, growth during "
        f"the load {mib(rss['growth_over_frame_bytes'])} = {rss['growth_vs_frame']:.2f}x the frame; without "
        f"the interpreter {rss['peak_above_interpreter_vs_frame']:.2f}x the frame"
    )
