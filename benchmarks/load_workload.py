"""The load benchmark's workload: the contacts frame, the sandbox it loads into, and the machine.

Shared by every part of ``load_benchmark.py`` and by the other benchmarks (``sync_benchmark.py``,
``shared_budget.py``, ``state_backends_load.py``, through ``load_benchmark``'s re-exports).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core.schemas import CONTACTS_SCHEMA
from hubspot_loader.load import HubSpotLoadSpec
from hubspot_loader.sandbox import FaultConfig, PropertyConfig, SandboxConfig
from hubspot_loader.sandbox.config import DEFAULT_TOKEN, TokenConfig

ROOT = Path(__file__).resolve().parents[1]

TIER_REQUESTS_PER_10S = 190
BATCH_SIZE = 100
CEILING_ROWS_PER_S = TIER_REQUESTS_PER_10S * BATCH_SIZE / 10  # 1,900 rows/s
DRT_REQUESTS_PER_S = 9.0

#: The injected latency of the older runs and of the other benchmarks: base ms, ms per input, uniform
#: jitter ms (about 0.5 s for a batch of 100).
DEFAULT_LATENCY = (250.0, 2.0, 100.0)
#: Issue #16's latency (200 ms + 2 ms per input + 0-100 ms jitter: about 0.45 s for a batch of 100); the
#: side-by-side runs and the three portals use it.
ISSUE16_LATENCY = (200.0, 2.0, 100.0)

#: Typed contact properties the workload sends besides the standard string ones.
EXTRA_PROPERTIES = (
    PropertyConfig("bench_amount", "number"),
    PropertyConfig("bench_score", "number"),
    PropertyConfig("bench_visits", "number"),
    PropertyConfig("bench_optin", "bool"),
    PropertyConfig("bench_seen_at", "datetime"),
    PropertyConfig("bench_birthday", "date"),
)
STAGES = ("subscriber", "lead", "marketingqualifiedlead", "customer", "other")

#: The load measured: contacts keyed by ``id``, validated by the contacts schema, preflight off.
BENCHMARK_SPEC = HubSpotLoadSpec(
    object_type="contacts", key_column="id", schema=CONTACTS_SCHEMA, unique_property="email", preflight="off"
)


def make_frame(rows: int, *, seed: int = 0, tag: str = "u") -> pd.DataFrame:
    """Build a contacts frame of mixed warehouse dtypes; emails are unique (``{tag}{i}@example.com``)."""
    rng = np.random.default_rng(seed)
    idx = np.arange(rows)
    visits = pd.array(rng.integers(0, 500, rows), dtype="Int64")
    visits[rng.random(rows) < 0.1] = pd.NA
    company = np.array([f"Company {i % 5000}" for i in range(5000)], dtype=object)[idx % 5000]
    company[rng.random(rows) < 0.2] = None
    return pd.DataFrame(
        {
            "id": idx,
            "email": [f"{tag}{i}@example.com" for i in range(rows)],
            "firstname": pd.Series([f"Fírst{i % 1000}" for i in range(rows)], dtype="string"),
            "lastname": [f"Last{i % 777}" for i in range(rows)],
            "company": company,
            "lifecyclestage": pd.Categorical(rng.choice(STAGES, rows)),
            "bench_amount": (rng.random(rows) * 1000).round(2),
            "bench_score": rng.integers(0, 100, rows).astype(float),
            "bench_visits": visits,
            "bench_optin": rng.random(rows) > 0.5,
            "bench_seen_at": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 10**8, rows), unit="s"),
            "bench_birthday": pd.Series(
                pd.Timestamp("1960-01-01") + pd.to_timedelta(idx % 15000, unit="D")
            ).dt.date,
        }
    )


def latency_faults(latency_ms: tuple[float, float, float] | None, *, seed: int = 0) -> FaultConfig:
    """Return the sandbox faults that inject ``latency_ms`` (base, per input, jitter), or none."""
    if latency_ms is None:
        return FaultConfig()
    base, per_input, jitter = latency_ms
    return FaultConfig(latency_ms=base, latency_per_input_ms=per_input, jitter_ms=jitter, seed=seed)


def portal_tokens(count: int) -> tuple[str, ...]:
    """Return the access tokens of ``count`` portals; the first is the sandbox's default token."""
    return (DEFAULT_TOKEN, *(f"portal-{i + 1}-token" for i in range(1, count)))


def sandbox_config(
    *,
    latency: bool,
    rate_limit: int | None,
    seed: int = 0,
    latency_ms: tuple[float, float, float] = DEFAULT_LATENCY,
    tokens: int = 1,
) -> SandboxConfig:
    """Return the benchmark's sandbox: a tier and HubSpot-like latency (``latency_ms``), or neither.

    ``rate_limit`` is the budget per rolling 10 s of each token; ``tokens`` is how many tokens it accepts
    (:func:`portal_tokens`), each with a window of its own.
    """
    return SandboxConfig(
        tokens=tuple(TokenConfig(t) for t in portal_tokens(tokens)),
        rate_limit_per_10s=rate_limit if rate_limit is not None else 10**9,
        daily_limit=10**12,
        extra_properties=(("contacts", EXTRA_PROPERTIES),),
        faults=latency_faults(latency_ms if latency else None, seed=seed),
        seed=seed,
    )


def machine() -> dict[str, Any]:
    """Describe the machine the figures come from."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model
            )
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
    }


def load_average() -> list[float] | None:
    """Return the 1, 5 and 15 minute load averages (other work on the machine skews wall-clock figures)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
