"""The client's limiter over real HTTP against a sandbox counting on arrival and one counting on completion.

The limiter cannot tell when the server counts a request; it counts each one from its send plus the
spread of the round trips (or its answer, if sooner). Either way the server must never answer 429, and
slots must be reused sooner than before: the limiter this replaced reused a slot at "answer + window -
half the shortest round trip", never sooner than "send + window + half this round trip"; a slot now
frees at "send + margin + window", the margin being about the 0.1 s jitter.
"""

from __future__ import annotations

from typing import Any

import pytest

from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.ratelimit import RateLimiter
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.sandbox import FaultConfig

from .conftest import FAST_RETRY, contacts, rows_of

LIMIT, WINDOW_S = 4, 1.0
REQUESTS = 24


class RecordingLimiter(RateLimiter):
    """A limiter that remembers each request's send and answer (limiter clock)."""

    def __init__(self, requests_per_10s: int) -> None:
        super().__init__(requests_per_10s)
        self.answered: dict[float, float] = {}

    def complete(self, stamp: float) -> None:
        super().complete(stamp)
        self.answered[stamp] = self.now()


@pytest.mark.parametrize("count_at", ["arrival", "completion"])
def test_no_429_and_slots_reused_before_answer_plus_window(sandbox_factory: Any, count_at: str) -> None:
    sandbox = sandbox_factory(
        rate_limit_per_10s=LIMIT,
        rate_limit_window_ms=int(WINDOW_S * 1000),
        rate_count_at=count_at,
        faults=FaultConfig(latency_ms=800, jitter_ms=100, seed=5),
    )
    # 40 per 10 s is 4 per 1 s once the server's window is known; 4 in flight before the first answer.
    limiter = RecordingLimiter(LIMIT * 10)
    settings = ClientSettings(retry=FAST_RETRY, timeout=(2.0, 30.0), max_in_flight=LIMIT + 2, batch_size=1)
    client = HubSpotClient(sandbox.token, base_url=sandbox.base_url, settings=settings, rate_limiter=limiter)
    rows = rows_of(list(client.batch_create("contacts", contacts(REQUESTS, f"count-{count_at}"))))
    assert len(rows) == REQUESTS and all(r.hubspot_id for r in rows)
    counters = sandbox.counters()
    assert counters["rate_limited"] == 0 and counters["write_requests"] == REQUESTS, counters
    assert limiter.window_s == WINDOW_S and limiter.margin_s is not None
    sends = sorted(limiter.answered)
    round_trips = [limiter.answered[s] - s for s in sends]
    # the request LIMIT places later took the slot of request k
    sooner = [
        k
        for k in range(len(sends) - LIMIT)
        if sends[k + LIMIT] - sends[k] < WINDOW_S + round_trips[k] / 2
    ]
    assert sooner, (limiter.margin_s, round_trips)
