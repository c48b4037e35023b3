"""A batch the load stops part-way: rows that were sent are in doubt, never ``NOT_SENT`` (review finding 2).

Another batch's 401 stops the load while this batch waits on a ``PENDING`` answer; a 401 answers the
resend of rows whose first attempt was committed but unanswered. Over real HTTP to the sandbox; the
moment of the stop is set by the sandbox's own request counters, never by a sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from hubspot_loader.core.model import FAILED, NOT_SENT, UNMATCHED_RESULT, BatchOutcome, PreparedInput
from hubspot_loader.errors import HubSpotAuthenticationError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import FaultConfig, SandboxHandle

from .conftest import contact

#: A PENDING batch is looked up for up to ~30 s: far longer than the other batch needs to be refused.
LONG_POLL = RetryPolicy(
    max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.02, pending_polls=3000, pending_poll_interval_s=0.01
)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Poll ``condition`` until it holds (a bounded wait on a state, not a sleep as synchronization)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


def reads(sandbox: SandboxHandle) -> int:
    return int(sandbox.counters()["by_route"].get("POST batch/read", 0))


def test_a_pending_batch_stopped_by_another_batchs_401_reports_its_rows_in_doubt(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    # batch 0 is answered PENDING without its rows (hidden for good) and polls for them; batch 1 is
    # sent only once batch 0 is polling, and is refused 401: the load stops during batch 0's poll
    faults = FaultConfig(
        status_sequence=("PENDING",), incomplete_listed_share=0.0, pending_reveal_after_requests=10**6
    )
    sandbox = sandbox_factory(faults=faults)

    def refuse_batch_1_once_batch_0_polls(index: int, rows: list[PreparedInput]) -> None:
        if index == 1:
            wait_until(lambda: reads(sandbox) >= 1, "batch 0 looks its rows up")
            sandbox.set_faults(FaultConfig(error_rate=1.0, error_statuses=(401,)))

    rows = [contact(i, f"st{i}@example.com") for i in range(6)]
    client = HubSpotClient(
        sandbox.token,
        base_url=sandbox.base_url,
        settings=ClientSettings(
            retry=LONG_POLL,
            max_in_flight=2,
            timeout=(2.0, 10.0),
            requests_per_10s=1000,  # the poll's look-ups must not hold batch 1 back
        ),
    )
    outcomes: list[BatchOutcome] = []
    with client, pytest.raises(HubSpotAuthenticationError):
        for outcome in client.batch_create(
            "contacts",
            rows,
            unique_property="email",
            batch_size=3,
            before_send=refuse_batch_1_once_batch_0_polls,
        ):
            outcomes.append(outcome)
    by_index = {o.record.index: o for o in outcomes}
    assert sorted(by_index) == [0, 1]  # every batch was yielded before the 401 was raised
    pending = by_index[0]
    assert pending.record.status == "PENDING" and pending.record.error is not None
    # HubSpot holds batch 0's three objects (still being "processed"): its rows are in doubt
    stored = sandbox.objects("contacts")
    assert sorted(o["properties"]["email"] for o in stored) == [f"st{i}@example.com" for i in range(3)]
    assert all(o.get("pending") for o in stored)
    for row in pending.rows:
        assert row.status == FAILED and row.error is not None
        assert row.error.category == UNMATCHED_RESULT, row.error
        assert "may have created it" in row.error.message
    # batch 1's rows were refused: not created, with HubSpot's reason (and never NOT_SENT either)
    for row in by_index[1].rows:
        assert row.status == FAILED and row.error is not None and row.error.http_status == 401
        assert row.error.category != NOT_SENT and row.error.message.startswith("not created")


def test_rows_committed_without_an_answer_then_refused_401_are_in_doubt(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    # seed 15: the first write is committed and its connection dropped (no answer); the resend (the
    # rows have no unique value: resend_ambiguous) is answered 401
    faults = FaultConfig(error_rate=0.5, error_statuses=(401,), drop_after_commit_rate=0.5, seed=15)
    sandbox = sandbox_factory(faults=faults)
    rows = [
        PreparedInput(position=i, key=f"d{i}", trace_id=f"d-{i}", properties={"name": f"D {i}"})
        for i in range(3)
    ]
    retry = RetryPolicy(max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.02)
    outcomes: list[Any] = []
    with (
        HubSpotClient(
            sandbox.token,
            base_url=sandbox.base_url,
            settings=ClientSettings(retry=retry, max_in_flight=1),
        ) as client,
        pytest.raises(HubSpotAuthenticationError),
    ):
        outcomes.extend(client.batch_create("companies", rows))
    (outcome,) = outcomes
    assert outcome.record.requests == 2 and outcome.record.http_status == 401
    assert len(sandbox.objects("companies")) == 3  # the first attempt created them
    for row in outcome.rows:
        assert row.status == FAILED and row.error is not None
        assert row.error.category == UNMATCHED_RESULT, row.error
