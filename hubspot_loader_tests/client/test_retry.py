"""Unit tests of the retry policy."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from hubspot_loader.http.retry import DEFAULT_RETRY_STATUSES, RetryPolicy, parse_retry_after


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("-3", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 520, 524, 599])
def test_retryable_statuses(status: int) -> None:
    assert RetryPolicy().is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 423, 477])
def test_other_4xx_never_retried(status: int) -> None:
    assert not RetryPolicy().is_retryable_status(status)


def test_daily_429_is_not_retried_but_ten_secondly_is() -> None:
    policy = RetryPolicy()
    assert not policy.is_retryable_status(429, rate_limit_policy="DAILY")
    assert policy.is_retryable_status(429, rate_limit_policy="TEN_SECONDLY_ROLLING")
    assert 524 in DEFAULT_RETRY_STATUSES


def test_retryable_exceptions() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable_exception(requests.exceptions.ReadTimeout())
    assert policy.is_retryable_exception(requests.exceptions.ConnectTimeout())
    assert policy.is_retryable_exception(requests.exceptions.ConnectionError())
    assert policy.is_retryable_exception(requests.exceptions.ChunkedEncodingError())
    assert not policy.is_retryable_exception(requests.exceptions.InvalidURL())
    assert not policy.is_retryable_exception(ValueError())


def test_full_jitter_backoff_is_bounded_and_grows() -> None:
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=4.0, rng=random.Random(1))
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 4.0)]:
        samples = [policy.backoff(attempt) for _ in range(300)]
        assert all(0.0 <= s <= cap for s in samples)
        assert max(samples) > cap * 0.8  # full jitter spans the range
        assert min(samples) < cap * 0.2


def test_retry_after_is_a_lower_bound_and_too_long_gives_up() -> None:
    policy = RetryPolicy(backoff_base_s=0.1, max_retry_after_s=60, rng=random.Random(2))
    assert policy.delay(1, 5.0) == pytest.approx(5.0, abs=0.11)
    assert policy.delay(1, 5.0) >= 5.0
    assert policy.delay(1, 3600.0) is None


def test_attempts_and_elapsed_time_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3, max_elapsed_s=10, max_rate_limited=2)
    assert policy.may_retry(1, 0, 0.1)
    assert policy.may_retry(2, 0, 0.1)
    assert not policy.may_retry(3, 0, 0.1)
    assert not policy.may_retry(1, 9.95, 0.1)
    # 429s do not use up the normal attempts, but have their own bound.
    assert policy.may_retry(4, 0, 0.1, rate_limited=2)
    assert not policy.may_retry(5, 0, 0.1, rate_limited=3)


def test_invalid_policy_rejected() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
