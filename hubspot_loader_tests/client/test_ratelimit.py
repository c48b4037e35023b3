"""Unit tests of the rolling-window rate limiter, with an injected clock (no real waiting)."""

from __future__ import annotations

import threading
import time

import pytest

from hubspot_loader.http.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def make(limit: int) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(limit, clock=clock, sleep=clock.sleep), clock


def test_allows_budget_then_blocks_until_oldest_request_ages_out() -> None:
    limiter, clock = make(5)
    assert [limiter.acquire() for _ in range(5)] == [0.0] * 5
    waited = limiter.acquire()
    assert waited == pytest.approx(10.0, abs=0.01)
    assert clock.t == pytest.approx(1010.0, abs=0.01)


def test_window_is_rolling_not_fixed() -> None:
    limiter, clock = make(3)
    limiter.acquire()
    clock.t += 3
    limiter.acquire()
    clock.t += 3
    limiter.acquire()
    start = clock.t  # 1006
    limiter.acquire()  # must wait for the first (t=1000) to age out at 1010
    assert clock.t == pytest.approx(1010.0, abs=0.01)
    assert clock.t - start == pytest.approx(4.0, abs=0.01)
    limiter.acquire()  # next one frees at 1013
    assert clock.t == pytest.approx(1013.0, abs=0.01)


def test_server_max_and_interval_tighten_the_limit() -> None:
    limiter, clock = make(100)
    limiter.observe(
        {"X-HubSpot-RateLimit-Max": "2", "X-HubSpot-RateLimit-Interval-Milliseconds": "1000"}, sent_at=clock.t
    )
    assert limiter.window_s == 1.0
    assert limiter.limit == 2
    limiter.acquire()
    limiter.acquire()
    limiter.acquire()
    assert clock.t == pytest.approx(1001.0, abs=0.01)


def test_configured_budget_is_scaled_to_the_server_window() -> None:
    limiter, _ = make(100)
    limiter.observe({"x-hubspot-ratelimit-interval-milliseconds": "1000"}, sent_at=0)
    assert limiter.limit == 10


def test_never_exceeds_what_the_server_says_remains() -> None:
    limiter, clock = make(100)
    sent = clock.t
    limiter.acquire()
    # Another process shares the token: the server says only 2 remain after our request.
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "2", "X-HubSpot-RateLimit-Max": "100"}, sent_at=sent)
    clock.t += 1
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.0
    waited = limiter.acquire()  # the third would exceed "remaining": wait until our first request ages out
    assert waited == pytest.approx(9.0, abs=0.01)
    assert limiter.acquire() == 0.0  # window moved on; the server statement no longer applies


def test_stale_remaining_from_an_older_request_does_not_override_newer() -> None:
    limiter, clock = make(100)
    first = clock.t
    limiter.acquire()
    clock.t += 1
    second = clock.t
    limiter.acquire()
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "50"}, sent_at=second)
    limiter.observe({"X-HubSpot-RateLimit-Remaining": "0"}, sent_at=first)  # older answer arrives late
    assert limiter.acquire() == 0.0


def test_rate_limited_pauses_until_window_frees() -> None:
    limiter, clock = make(100)
    limiter.acquire()
    clock.t += 4
    pause = limiter.on_rate_limited()
    assert pause == pytest.approx(6.0, abs=0.01)
    assert limiter.acquire() == pytest.approx(6.0, abs=0.01)


def test_rate_limited_honours_longer_retry_after() -> None:
    limiter, _ = make(100)
    limiter.acquire()
    assert limiter.on_rate_limited(retry_after_s=30) == pytest.approx(30.0)
    assert limiter.acquire() == pytest.approx(30.0, abs=0.01)


def test_rate_limited_without_history_waits_a_full_window() -> None:
    limiter, _ = make(100)
    assert limiter.on_rate_limited() == pytest.approx(10.0)


def test_rejects_zero_budget() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_threads_share_one_window() -> None:
    limiter = RateLimiter(100)
    limiter.observe(
        {"X-HubSpot-RateLimit-Max": "5", "X-HubSpot-RateLimit-Interval-Milliseconds": "200"},
        sent_at=time.monotonic(),
    )
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            stamp = limiter.reserve()  # the stamp the limiter recorded under its lock
            limiter.complete(stamp)  # answered at once (a request in flight would hold its slot)
            with lock:
                stamps.append(stamp)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    stamps.sort()
    assert len(stamps) == 20
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 0.2 - 0.002]
        assert len(in_window) <= 5
    assert stamps[-1] - stamps[0] >= 0.6 - 0.01


def test_window_counts_a_request_from_when_its_answer_arrived() -> None:
    limiter, clock = make(1)
    stamp = limiter.reserve()
    clock.t += 2  # the answer took 2 s; the server counted the request somewhere in between
    limiter.complete(stamp)
    waited = limiter.acquire()
    assert waited == pytest.approx(10.0, abs=0.01)  # 10 s from the answer, not from the send
