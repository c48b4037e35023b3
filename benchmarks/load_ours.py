"""The load benchmark's run of our loader: ``load_dataframe`` through a :class:`HubSpotClient`."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pandas as pd
from load_results import (
    COUNTED_DUPLICATES,
    SCANNED_DUPLICATES,
    RunResult,
    make_result,
    max_in_window,
    reset_sandbox,
    steady_state,
)
from load_workload import BATCH_SIZE, BENCHMARK_SPEC, TIER_REQUESTS_PER_10S

from hubspot_loader.core.model import CREATED, RECONCILED, BatchOutcome
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle


def loader_settings(default_config: bool, max_in_flight: int, requests_per_10s: int) -> ClientSettings:
    """Return ``ClientSettings()`` untouched, or the tuned ``max_in_flight`` and ``requests_per_10s``."""
    if default_config:
        return ClientSettings()
    return ClientSettings(max_in_flight=max_in_flight, requests_per_10s=requests_per_10s)


def run_loader(
    sb: SandboxHandle,
    df: pd.DataFrame,
    *,
    max_in_flight: int = 16,
    requests_per_10s: int = TIER_REQUESTS_PER_10S,
    label: str = "",
    tier: int = TIER_REQUESTS_PER_10S,
    default_config: bool = False,
    faults: FaultConfig | None = None,
    scan_emails: bool = True,
) -> RunResult:
    """Load ``df`` with ``load_dataframe`` (validated by the contacts schema, keyed by ``id``).

    ``default_config`` runs ``ClientSettings()`` untouched (``max_in_flight`` and ``requests_per_10s``
    unused); ``tier`` is the sandbox's budget per 10 s, which sets the ceiling; ``faults`` replaces the
    sandbox's latency for this run (after the reset); ``scan_emails=False`` counts duplicates from the
    stored count instead of fetching every contact (``load_results.sandbox_figures``).
    """
    reset_sandbox(sb, faults)
    completions: list[float] = []
    sends: list[float] = []
    in_flight: list[int] = []
    settings = loader_settings(default_config, max_in_flight, requests_per_10s)
    client = HubSpotClient(sb.token, base_url=sb.base_url, settings=settings)

    def on_batch(outcome: BatchOutcome) -> None:
        completions.append(time.monotonic())
        in_flight.append(client.concurrency.limit)
        if outcome.record.sent_at is not None:
            sends.append(outcome.record.sent_at.timestamp())

    with client:
        start = time.monotonic()
        result = load_dataframe(df, BENCHMARK_SPEC, client=client, run=LoadRun(on_batch=on_batch))
        wall = time.monotonic() - start
    ceiling = tier * BATCH_SIZE / 10
    steady = steady_state(completions, tier)
    statuses = Counter(result.rows.status_counts())
    setting = (
        "ClientSettings() defaults"
        if default_config
        else f"max_in_flight={max_in_flight}, requests_per_10s={requests_per_10s}"
    )
    return make_result(
        "ours",
        label or f"hubspot_loader load_dataframe ({setting})",
        sb,
        len(df),
        wall,
        ceiling=ceiling,
        scan_emails=scan_emails,
        failed=len(df) - statuses[CREATED] - statuses[RECONCILED],
        extra={
            "max_in_flight": settings.max_in_flight,
            "requests_per_10s": settings.requests_per_10s,
            "default_config": default_config,
            "duplicates_counted_as": SCANNED_DUPLICATES if scan_emails else COUNTED_DUPLICATES,
            "tier": tier,
            "ceiling_rows_per_s": ceiling,
            "in_flight_median": int(np.median(in_flight)) if in_flight else None,
            "in_flight_peak": client.concurrency.peak,
            "round_trip_s": round(client.concurrency.round_trip_s, 3),
            "limiter_limit": client.limiter.limit,
            # the older key names of the steady state, kept for the readers of earlier JSON
            "sustained_rows_per_s": steady["steady_rows_per_s"],
            "sustained_ceiling_fraction": steady["steady_ceiling_fraction"],
            "sustained_note": steady["steady_definition"],
            **steady,
            "max_batches_sent_in_any_10s": max_in_window(sends),
            "client_retries": sum(b.retries for b in result.batches),
            "limiter_waited_s": round(client.limiter.waited_s, 2),
        },
    )
