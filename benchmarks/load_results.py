"""The load benchmark's figures: one run's result, the sandbox's counters, and the steady-state rate."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from load_workload import BATCH_SIZE, CEILING_ROWS_PER_S, TIER_REQUESTS_PER_10S

from hubspot_loader.sandbox import FaultConfig, SandboxHandle


@dataclass
class RunResult:
    """One load scenario's figures (requests and 429s come from the sandbox's counters)."""

    name: str
    label: str
    rows: int
    wall_s: float
    rows_per_s: float
    ceiling_fraction: float
    requests: int
    rate_limited: int
    rate_limited_fraction: float
    created: int
    duplicates: int
    failed: int = 0
    extrapolated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def reset_sandbox(sb: SandboxHandle, faults: FaultConfig | None = None) -> None:
    """Empty the sandbox and zero its counters and windows; then inject ``faults`` if given.

    A reset restores the faults the sandbox was started with, so a run at another latency sets its own
    after the reset.
    """
    sb.reset()
    if faults is not None:
        sb.set_faults(faults)


#: How ``duplicates`` is counted without fetching every stored object (see :func:`sandbox_figures`).
COUNTED_DUPLICATES = "stored - rows (the sandbox's unique email index rejects a second contact per email)"
SCANNED_DUPLICATES = "emails stored more than once (every stored contact fetched)"


def sandbox_figures(sb: SandboxHandle, *, expected: int | None = None) -> tuple[int, int, int, int]:
    """Return (write requests, 429s, contacts stored, duplicates) since the last reset.

    Without ``expected`` every stored contact is fetched and duplicates are emails stored more than once
    (about 4 s per 80,000 contacts here). With ``expected`` (the rows loaded, each with an email of its
    own) they are ``stored - expected``: the sandbox, like HubSpot, keeps emails unique, so a row created
    twice can only show as an extra object, and a missing row as ``stored < expected``.
    """
    counters = sb.counters()
    stored = int(sb.counts().get("contacts", 0))
    if expected is not None:
        duplicates = max(0, stored - expected)
    else:
        emails = Counter(
            str((o.get("properties") or {}).get("email") or "").strip().lower()
            for o in sb.objects("contacts")
        )
        emails.pop("", None)
        duplicates = sum(n - 1 for n in emails.values() if n > 1)
    return int(counters["write_requests"]), int(counters["rate_limited"]), stored, duplicates


def make_result(
    name: str,
    label: str,
    sb: SandboxHandle,
    rows: int,
    wall: float,
    ceiling: float = CEILING_ROWS_PER_S,
    *,
    scan_emails: bool = True,
    **kwargs: Any,
) -> RunResult:
    """Build a :class:`RunResult` from a run's rows and wall time and the sandbox's counters.

    ``scan_emails=False`` counts duplicates from the stored count (:func:`sandbox_figures`).
    """
    requests_sent, limited, stored, duplicates = sandbox_figures(sb, expected=None if scan_emails else rows)
    rate = rows / wall if wall > 0 else 0.0
    return RunResult(
        name=name,
        label=label,
        rows=rows,
        wall_s=round(wall, 3),
        rows_per_s=round(rate, 1),
        ceiling_fraction=round(rate / ceiling, 4),
        requests=requests_sent,
        rate_limited=limited,
        rate_limited_fraction=round(limited / requests_sent, 5) if requests_sent else 0.0,
        created=stored,
        duplicates=duplicates,
        **kwargs,
    )


def max_in_window(stamps: list[float], window: float = 10.0) -> int:
    """Return the most stamps inside any half-open interval of ``window`` seconds."""
    stamps = sorted(stamps)
    best = start = 0
    for end, t in enumerate(stamps):
        while stamps[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def window_cycle_rate(
    completions: list[float],
    budget: int = TIER_REQUESTS_PER_10S,
    *,
    statistic: str = "median",
    first: int | None = None,
) -> float | None:
    """Return the steady-state batches per second: ``budget`` / the time one window's budget takes.

    ``completions`` are the monotonic times batches finished. A fresh token may send a whole window's
    budget at once, so the overall rate of a short run is flattered by the first window; in steady state
    batch ``k + budget`` can only finish one window (plus a round trip) after batch ``k``. The median
    (``statistic="median"``, the benchmark's definition) or the mean (``"mean"``) of
    ``t[k + budget] - t[k]`` over every ``k`` after the first window is that cycle, free of the burst and
    of where the run happens to end. ``None`` when the run is shorter than two windows' budget.
    ``first=0`` starts the gaps at the first batch instead (the slot-reuse cycle: how soon each of the
    first window's slots carried its next batch), for runs too short for the steady state.
    """
    times = sorted(completions)
    start = budget if first is None else first
    gaps = [times[k + budget] - times[k] for k in range(start, len(times) - budget)]
    if not gaps:
        return None
    if statistic not in ("median", "mean"):
        raise ValueError(f"statistic must be 'median' or 'mean', not {statistic!r}")
    cycle = float(np.median(gaps) if statistic == "median" else np.mean(gaps))
    return budget / cycle if cycle > 0 else None


def steady_state(completions: list[float], tier: int) -> dict[str, Any]:
    """Return the steady-state figures of one run's batch completions at ``tier`` requests per 10 s.

    ``steady_ceiling_fraction`` is the benchmark's definition (the median cycle, see
    :func:`window_cycle_rate`); the mean cycle's fraction is given next to it. ``windows_after_first`` is
    how many windows' budget completed after the first one (the median is taken over that span).
    """
    ceiling = tier * BATCH_SIZE / 10
    median = window_cycle_rate(completions, budget=tier)
    mean = window_cycle_rate(completions, budget=tier, statistic="mean")
    return {
        "steady_rows_per_s": round(median * BATCH_SIZE, 1) if median else None,
        "steady_ceiling_fraction": round(median * BATCH_SIZE / ceiling, 4) if median else None,
        "steady_mean_ceiling_fraction": round(mean * BATCH_SIZE / ceiling, 4) if mean else None,
        "windows_after_first": round(max(0, len(completions) - tier) / tier, 2),
        "steady_definition": (
            f"{tier} batches x {BATCH_SIZE} rows / median time between the completions of batch k "
            f"and batch k+{tier}, for every k after the first window"
        ),
    }
