"""Issue #4 acceptance: under HubSpot's 100 requests / 10 s, a 30k-row load is almost never answered 429."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger

from .conftest import PORTAL, contacts_frame, sandbox_id_map

ROWS = 30_000


@pytest.mark.slow
def test_30k_rows_under_100_per_10s_get_at_most_half_a_percent_429(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    sandbox = sandbox_factory(rate_limit_per_10s=100)  # HubSpot's real 10-second window
    client = client_for(sandbox, requests_per_10s=100, max_in_flight=4)
    started = time.monotonic()
    result = load_dataframe(
        contacts_frame(ROWS, tag="rl"),
        HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off"),
        client=client,
        ledger=open_ledger(),
        run=LoadRun(portal=PORTAL),
    )
    elapsed = time.monotonic() - started
    assert result.rows_created == ROWS and result.rows_failed == 0
    counters = sandbox.counters()
    requests = counters["requests"]
    rate_limited = counters["rate_limited"]
    assert requests >= ROWS // 100
    assert rate_limited <= 0.005 * requests, counters
    assert elapsed >= 19  # 300 requests at 100 per 10 s: the first 100 at once, then two more windows
    assert len(sandbox_id_map(sandbox)) == ROWS
    print(f"{ROWS} rows: {requests} requests, {rate_limited} answered 429, {elapsed:.1f}s")
