"""The adaptive concurrency controller on a fake clock (no sleeping), and the learning rate limiter."""

from __future__ import annotations

import math

import pytest

from hubspot_loader.http.concurrency import (
    BRAKE_HOLD_S,
    EXTRA,
    HEADROOM,
    INITIAL_ROUND_TRIP_S,
    MIN_IN_FLIGHT,
    STARTING_HEADROOM,
    ConcurrencyController,
)
from hubspot_loader.http.ratelimit import RateLimiter
from hubspot_loader.http.settings import DEFAULT_MAX_IN_FLIGHT, ClientSettings


class Clock:
    """A manual monotonic clock."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def answer(controller: ConcurrencyController, clock: Clock, round_trip: float, status: int = 200) -> None:
    """One request that takes ``round_trip`` seconds on the fake clock."""
    started = controller.started()
    clock.t += round_trip
    controller.finished(started, status)


def little(per_s: float, round_trip: float, headroom: float = HEADROOM) -> int:
    return math.ceil(per_s * round_trip * headroom + EXTRA)


def make(cap: int = DEFAULT_MAX_IN_FLIGHT, per_s: float = 19.0) -> tuple[ConcurrencyController, Clock]:
    clock = Clock()
    return ConcurrencyController(cap, lambda: per_s, clock=clock), clock


@pytest.mark.parametrize("round_trip", [0.05, 0.45, 1.0, 3.0])
@pytest.mark.parametrize("per_s", [19.0, 25.0])
def test_the_limit_follows_littles_law_for_the_measured_round_trip(round_trip: float, per_s: float) -> None:
    controller, clock = make(per_s=per_s)
    # before any answer: the assumed round trip, with the cautious starting headroom
    assert controller.limit == little(per_s, INITIAL_ROUND_TRIP_S, STARTING_HEADROOM)
    for _ in range(40):
        answer(controller, clock, round_trip)
    assert controller.round_trip_s == pytest.approx(round_trip)
    assert controller.limit == max(MIN_IN_FLIGHT, little(per_s, round_trip))
    # enough to keep the budget busy: limit / round trip covers the requests per second
    assert controller.limit / round_trip >= per_s
    assert controller.limit <= DEFAULT_MAX_IN_FLIGHT  # the default cap covers even 3 s at 250/10 s


def test_the_cap_bounds_the_limit_and_a_non_adaptive_controller_keeps_the_cap() -> None:
    controller, clock = make(cap=8)
    for _ in range(20):
        answer(controller, clock, 3.0)
    assert controller.limit == 8
    fixed = ConcurrencyController(5, lambda: 0.1, adaptive=False, clock=clock)
    assert fixed.limit == 5
    one = ConcurrencyController(1, lambda: 1000.0, clock=clock)
    assert one.limit == 1  # a cap of 1 wins over the minimum of 2


def test_the_limit_grows_with_the_budget_the_limiter_allows() -> None:
    budget = {"per_s": 10.0}
    clock = Clock()
    controller = ConcurrencyController(100, lambda: budget["per_s"], clock=clock)
    for _ in range(20):
        answer(controller, clock, 1.0)
    low = controller.limit
    budget["per_s"] = 19.0  # the limiter learned the 190 tier
    assert controller.limit == little(19.0, 1.0) > low


def test_a_429_halves_the_limit_holds_it_for_a_window_and_it_grows_back() -> None:
    controller, clock = make()
    for _ in range(40):
        answer(controller, clock, 1.0)
    full = controller.limit
    assert full == little(19.0, 1.0)
    answer(controller, clock, 1.0, status=429)
    for _ in range(5):  # the 429s of requests in flight together count once
        controller.finished(controller.started(), 429)
    halved = controller.limit
    assert halved == full // 2 or halved == math.ceil(full / 2) or halved == full / 2
    assert controller.busy and controller.rate_limited == 6
    answer(controller, clock, 1.0)  # within the hold: no growth
    assert controller.limit == halved
    clock.t += BRAKE_HOLD_S
    grown = []
    for _ in range(full):
        answer(controller, clock, 1.0)
        grown.append(controller.limit)
    assert grown[0] == halved + 1  # additive increase, one per answer
    assert grown[-1] == full and not controller.busy


def test_a_second_429_a_round_trip_later_halves_again() -> None:
    controller, clock = make()
    for _ in range(40):
        answer(controller, clock, 1.0)
    full = controller.limit
    answer(controller, clock, 1.0, status=429)
    first = controller.limit
    clock.t += 1.5
    controller.finished(controller.started(), 429)
    assert controller.limit < first < full


def test_risen_latency_falls_back_to_the_baseline_round_trip() -> None:
    controller, clock = make()
    for _ in range(200):
        answer(controller, clock, 0.5)
    normal = controller.limit
    assert normal == little(19.0, 0.5)
    for _ in range(10):  # the portal answers 4x slower
        answer(controller, clock, 2.0)
    assert controller.busy
    assert controller.round_trip_s == pytest.approx(0.5)
    assert controller.limit == normal  # not 4x more: no piling on a slow portal
    for _ in range(256):  # a lasting change becomes the new baseline
        answer(controller, clock, 2.0)
    assert not controller.busy
    assert controller.limit == little(19.0, 2.0)


def test_moderate_latency_changes_are_followed() -> None:
    controller, clock = make()
    for _ in range(200):
        answer(controller, clock, 0.5)
    for _ in range(16):
        answer(controller, clock, 0.9)  # under the tolerance: a slower network, not a busy portal
    assert not controller.busy
    assert controller.limit == little(19.0, 0.9)


def test_no_answer_is_not_a_sample_and_the_cap_must_be_positive() -> None:
    controller, clock = make()
    started = controller.started()
    clock.t += 60.0
    controller.finished(started, None)
    assert controller.round_trip_s == INITIAL_ROUND_TRIP_S
    with pytest.raises(ValueError, match="cap"):
        ConcurrencyController(0, lambda: 1.0)


# ---------------------------------------------------------------- the learning limiter


def test_a_learning_limiter_adopts_the_servers_max_higher_or_lower() -> None:
    clock = Clock()
    limiter = RateLimiter(100, learn=True, clock=clock, sleep=lambda s: None)
    assert limiter.limit == 100 and limiter.per_second == 10.0
    stamp = limiter.reserve()
    stated = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    limiter.observe(stated, sent_at=stamp)
    assert limiter.limit == 190 and limiter.per_second == pytest.approx(19.0)
    limiter.observe({"X-HubSpot-RateLimit-Max": "110"}, sent_at=stamp)
    assert limiter.limit == 110  # never more than the server's Max


def test_a_fixed_budget_is_a_hard_cap_the_server_only_tightens() -> None:
    clock = Clock()
    limiter = RateLimiter(100, clock=clock, sleep=lambda s: None)
    limiter.observe({"X-HubSpot-RateLimit-Max": "190"}, sent_at=limiter.now())
    assert limiter.limit == 100
    limiter.observe({"X-HubSpot-RateLimit-Max": "50"}, sent_at=limiter.now())
    assert limiter.limit == 50


def test_the_default_settings_learn_the_budget_and_bound_concurrency() -> None:
    from hubspot_loader.http.client import HubSpotClient

    with HubSpotClient("tok", settings=ClientSettings()) as client:
        assert client.limiter.learn and client.limiter.limit == 100
        assert client.concurrency.cap == DEFAULT_MAX_IN_FLIGHT and client.concurrency.adaptive
    with HubSpotClient("tok", settings=ClientSettings(requests_per_10s=190, max_in_flight=3)) as client:
        assert not client.limiter.learn and client.limiter.limit == 190
        assert client.concurrency.limit <= 3
    with HubSpotClient("tok", settings=ClientSettings(adaptive_concurrency=False, max_in_flight=7)) as client:
        assert client.concurrency.limit == 7
