"""When a request counts: from its send plus a margin from the spread of round trips, or its answer.

Unit tests with an injected clock (no real waiting); the module docstring of
``hubspot_loader.http.ratelimit`` gives the reasoning.
"""

from __future__ import annotations

import itertools

import pytest

from hubspot_loader.http.ratelimit import (
    BURST_SPACING,
    MARGIN_FLOOR_S,
    MAX_FLIGHT_HELD_S,
    MIN_ROUND_TRIPS,
    RateLimiter,
)

WINDOW = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def make(limit: int, **options: object) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(limit, clock=clock, sleep=clock.sleep, **options), clock  # type: ignore[arg-type]


def answer(limiter: RateLimiter, clock: Clock, round_trips: list[float]) -> list[float]:
    """Send one request per round trip, one after the other, each answered after it; return the sends."""
    sends = []
    for round_trip in round_trips:
        stamp = limiter.reserve()
        sends.append(stamp)
        clock.now += round_trip
        limiter.complete(stamp)
    return sends


def warm(limiter: RateLimiter, clock: Clock, round_trips: list[float]) -> None:
    """Measure ``round_trips``, then let the window empty."""
    answer(limiter, clock, round_trips)
    clock.now += WINDOW


def test_a_full_window_frees_a_window_after_the_first_send_plus_the_margin() -> None:
    limiter, clock = make(10)
    warm(limiter, clock, [0.5, 0.6] * 4)
    assert limiter.margin_s == pytest.approx(0.1 + MARGIN_FLOOR_S)
    sends = answer(limiter, clock, [0.55] * 10)
    # counted from the send + 0.11 s, not from the answer (which would free it at sends[0] + 10.55)
    assert limiter.reserve() == pytest.approx(sends[0] + 0.11 + WINDOW)
    assert limiter.reserve() == pytest.approx(sends[1] + 0.11 + WINDOW)  # the next slot, not the first


def test_the_margin_is_the_spread_of_the_bulk_not_of_the_slowest() -> None:
    limiter, clock = make(1)
    warm(limiter, clock, [0.5] * 50 + [0.52] * 13 + [3.0])  # one stall; 90 % are within 20 ms
    assert limiter.margin_s == pytest.approx(0.02 + MARGIN_FLOOR_S)
    (sent,) = answer(limiter, clock, [0.51])
    assert limiter.reserve() == pytest.approx(sent + 0.03 + WINDOW)


def test_a_slow_answer_counts_from_its_answer_less_the_shortest_round_trip() -> None:
    limiter, clock = make(1)
    warm(limiter, clock, [0.5] * 40)
    (sent,) = answer(limiter, clock, [15.0])  # answered after the window: it may have been counted late
    assert limiter.reserve() == pytest.approx(sent + 15.0 - 0.5 + MARGIN_FLOOR_S + WINDOW)


def test_an_answer_sooner_than_send_plus_margin_counts_from_the_answer() -> None:
    limiter, clock = make(1)
    warm(limiter, clock, [0.1, 2.0] * 4)  # margin 1.91 s
    (sent,) = answer(limiter, clock, [0.1])
    assert limiter.reserve() == pytest.approx(sent + 0.1 + WINDOW)


@pytest.mark.parametrize("from_send", [True, False])
def test_requests_count_from_their_answer_before_enough_round_trips_or_when_asked(from_send: bool) -> None:
    limiter, clock = make(3, from_send=from_send)
    if not from_send:
        warm(limiter, clock, [0.5] * 20)
    else:
        assert MIN_ROUND_TRIPS > 3
    sends = answer(limiter, clock, [0.5, 0.5, 0.5])
    assert limiter.margin_s is None
    assert limiter.reserve() == pytest.approx(sends[0] + 0.5 + WINDOW)


def test_a_request_in_flight_holds_its_slot_until_answered_or_given_up() -> None:
    limiter, clock = make(1)
    warm(limiter, clock, [0.5] * MIN_ROUND_TRIPS)
    sent = limiter.reserve()  # never answered
    again = limiter.reserve()  # looks again every IN_FLIGHT_POLL_S until the flight is given up
    assert sent + MAX_FLIGHT_HELD_S <= again < sent + MAX_FLIGHT_HELD_S + 0.1


def test_slots_freed_together_are_reused_spaced_out() -> None:
    limiter, clock = make(10)
    burst = [limiter.reserve() for _ in range(10)]  # no round trips measured yet: no spacing
    assert burst == [burst[0]] * 10
    for stamp in burst:
        limiter.complete(stamp)  # all answered together, 0 s round trips
    clock.now += WINDOW
    again = [limiter.reserve() for _ in range(10)]
    spacing = BURST_SPACING * WINDOW / 10
    assert [b - a for a, b in itertools.pairwise(again)] == [pytest.approx(spacing)] * 9


class RecordingWindow:
    """A shared window that grants every slot and records what the limiter told it."""

    def __init__(self) -> None:
        self.acquired = 0
        self.completed: list[tuple[str, float]] = []

    def try_acquire(self, limit: int, window_s: float) -> tuple[str | None, float]:
        self.acquired += 1
        return f"slot-{self.acquired}", 0.0

    def complete(self, slot_id: str, age_s: float = 0.0) -> None:
        self.completed.append((slot_id, age_s))

    def pause(self, seconds: float) -> None:
        pass

    def set_server_limit(self, limit: int, window_s: float) -> None:
        pass


def test_the_shared_window_learns_when_each_slot_counts_from() -> None:
    shared = RecordingWindow()
    limiter, clock = make(100, shared=shared)
    answer(limiter, clock, [0.5, 0.6] * 4)
    assert shared.completed[0] == ("slot-1", 0.0)  # no margin yet: from the answer
    answer(limiter, clock, [0.55])
    assert shared.completed[-1] == ("slot-9", pytest.approx(0.55 - 0.11))  # answer - (send + margin)
