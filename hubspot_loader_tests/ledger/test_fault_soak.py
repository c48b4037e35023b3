"""Issue #4 acceptance: a 20k-row load under injected faults ends with exactly one object per row.

10 % 5xx, 5 % 429, 2 % commit-then-drop-connection and 1 % commit-then-hang-past-the-read-timeout, over
real HTTP; and (issue #17) 3 % each of batch-create answers whose status is CANCELED, PENDING or
PROCESSING, listing 60 % of their rows (the unlisted rows of a PENDING/PROCESSING answer are readable
from the third request after it). The sandbox's rate-limit window is shortened to 0.5 s so each injected
429 pauses the client for at most half a second (the client adopts the window from the headers); the 50k
version is ``benchmarks/fault_soak.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hubspot_loader.core.model import RECONCILED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED, SQLiteLedger

from .conftest import PORTAL, contacts_frame, creates, sandbox_id_map

ROWS = 20_000
SOAK_FAULTS = FaultConfig(
    error_rate=0.10,
    rate_limit_burst_rate=0.05,
    rate_limit_burst_length=1,
    drop_after_commit_rate=0.02,
    hang_after_commit_rate=0.01,
    hang_seconds=2.0,
    seed=4,
    canceled_rate=0.03,
    pending_rate=0.03,
    processing_rate=0.03,
    incomplete_listed_share=0.6,
    pending_reveal_after_requests=3,
)
#: The ledger tests' fast retries, with a short poll of PENDING/PROCESSING answers.
SOAK_RETRY = RetryPolicy(
    max_attempts=10,
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    max_elapsed_s=60,
    pending_polls=4,
    pending_poll_interval_s=0.05,
)


def test_fault_soak_20k_rows_exactly_once(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    sandbox = sandbox_factory(
        rate_limit_per_10s=500, rate_limit_window_ms=500, shuffle_results=True, faults=SOAK_FAULTS
    )
    client = client_for(
        sandbox, timeout=(2.0, 1.5), requests_per_10s=10_000, max_in_flight=4, retry=SOAK_RETRY
    )
    ledger = open_ledger()
    frame = contacts_frame(ROWS, tag="soak")

    started = time.monotonic()
    spec = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off")
    result = load_dataframe(frame, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))
    elapsed = time.monotonic() - started

    failed = result.failed_rows
    assert not failed, f"{len(failed)} failed, e.g. {failed[:3]}"
    assert result.rows_created == ROWS
    faults = sandbox.counters()["faults"]
    # every fault kind really happened, and lost answers were reconciled rather than resent blindly
    server_errors = sum(n for kind, n in faults.items() if kind.startswith("status_5"))
    assert server_errors >= 1 and faults.get("rate_limit_burst", 0) >= 1, faults
    # ~2 % + 1 % of ~230 requests: about 7 lost answers expected (their order varies with 4 in flight;
    # commit-then-hang on its own is covered deterministically in the client tests)
    assert faults.get("drop", 0) + faults.get("hang", 0) >= 1, faults
    assert result.count(RECONCILED) >= 1, faults
    # every non-COMPLETE status was answered, and the batch records show them
    assert all(faults.get(f"answer_{s}", 0) >= 1 for s in ("CANCELED", "PENDING", "PROCESSING")), faults
    shown = {b.status for b in result.batches}
    assert {"CANCELED", "PENDING", "PROCESSING", "COMPLETE"} <= shown, shown
    assert result.hubspot_status != "COMPLETE"

    stored = sandbox_id_map(sandbox)  # asserts no duplicated email
    assert sandbox.counts()["contacts"] == ROWS == len(stored)
    assert result.id_map == stored
    assert ledger.id_map(PORTAL, "contacts") == stored
    assert ledger.counts(PORTAL, "contacts") == {CREATED: ROWS}
    assert sandbox.counters()["pending_objects"] == 0
    print(f"soak: {ROWS} rows in {elapsed:.1f}s, {creates(sandbox)} create requests, faults {faults}")
