"""Proposed with the ratelimit patch: a freed slot is reused half a round trip early, never more."""

from __future__ import annotations

from hubspot_loader.http.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def fill(limiter: RateLimiter, clock: Clock, n: int, round_trip: float) -> None:
    for _ in range(n):
        stamp = limiter.reserve()
        clock.now += round_trip
        limiter.complete(stamp)


def test_full_window_frees_half_a_round_trip_early() -> None:
    clock = Clock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    fill(limiter, clock, 10, 0.5)  # answers at 0.5, 1.0 ... 5.0
    stamp = limiter.reserve()  # the first slot frees at 0.5 + 10 - 0.25
    assert clock.now == 10.25
    assert stamp == 10.25


def test_head_start_counts_only_the_last_limit_stamps() -> None:
    clock = Clock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    fill(limiter, clock, 10, 0.5)
    first = limiter.reserve()
    second = limiter.reserve()  # must wait for the second slot, not reuse the first one's head start
    assert (first, second) == (10.25, 10.75)


def test_no_head_start_before_enough_round_trips_or_when_disabled() -> None:
    for lead_fraction, trips in ((0.5, 3), (0.0, 20)):
        clock = Clock()
        limiter = RateLimiter(trips, clock=clock, sleep=clock.sleep, lead_fraction=lead_fraction)
        fill(limiter, clock, trips, 0.5)
        assert limiter.reserve() == 10.5


def test_short_round_trips_shrink_the_head_start() -> None:
    clock = Clock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    fill(limiter, clock, 9, 0.5)
    fill(limiter, clock, 1, 0.02)  # e.g. a refused connection
    assert limiter.reserve() == 10.5 - 0.01
