"""The client's retry policy: what is retried, how long to wait, and when to give up (dlt model).

Retried:

* statuses :data:`DEFAULT_RETRY_STATUSES`: 429 (only the rolling ten-second limit; a ``DAILY`` 429 is
  raised at once) and every 5xx, including HubSpot's edge errors 520-526 (524: no answer in 100 s);
* exceptions :data:`DEFAULT_RETRY_EXCEPTIONS`: connection errors, timeouts and broken chunked bodies.

Never retried: any other 4xx (400, 401, 403, 404, 409 ...): repeating the same request cannot help.

A batch answer whose ``status`` is ``PENDING`` or ``PROCESSING`` and that does not list every row is
waited on: the missing rows are looked up :attr:`RetryPolicy.pending_polls` times,
:attr:`RetryPolicy.pending_poll_interval_s` apart, before any is resent
(:mod:`hubspot_loader.http.reconcile`).

Waits are exponential with *full jitter* (``uniform(0, min(cap, base * 2**(n-1)))``), so concurrent
batches that failed together do not retry together. A ``Retry-After`` header (delay-seconds or an
HTTP-date) is honoured as a lower bound; one longer than :attr:`RetryPolicy.max_retry_after_s` (HubSpot's
477 "migration in progress" can ask for hours) ends the retries instead of stalling the load.
Attempts and total elapsed time are both bounded.

Why an explicit loop rather than ``urllib3.util.Retry`` mounted on the adapter: batch create is a
non-idempotent POST (urllib3's default ``Retry`` never retries POST, reference §13.2); after a timeout or
a dropped connection the client must *reconcile* (read back by a unique property) before resending,
must read the 429 body to tell ``DAILY`` from ``TEN_SECONDLY_ROLLING``, must pause the shared rate
limiter, and must count every attempt in the batch record. None of that is possible inside the
transport adapter, so the adapter runs with retries off and this module only decides and waits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests

#: Statuses worth retrying: the rate limit and every server/edge error.
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, *range(500, 600)})

#: 5xx statuses after which a write may nevertheless have been committed: gateways and edges that
#: gave up waiting for the origin (502 bad gateway, 504 gateway timeout, 520-524 edge errors).
AMBIGUOUS_STATUSES: frozenset[int] = frozenset({502, 504, 520, 521, 522, 523, 524})

#: Exceptions worth retrying (``ConnectTimeout`` and ``ReadTimeout`` are both ``Timeout``).
DEFAULT_RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date; ``None`` if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """When and how the client retries a request.

    Args:
        max_attempts: attempts per request for server errors and transport failures, the first included.
        max_rate_limited: extra attempts allowed for ten-secondly 429s (they only mean "wait").
        max_elapsed_s: total seconds one request may spend in retries; no new attempt starts later.
        backoff_base_s: first backoff cap; doubles per attempt.
        backoff_max_s: largest backoff cap.
        max_retry_after_s: a ``Retry-After`` longer than this ends the retries.
        retry_statuses: statuses to retry.
        retry_exceptions: exception types to retry.
        pending_polls: look-ups (by the unique property) of the rows a ``PENDING``/``PROCESSING`` batch
            answer did not list, before those still missing are resent once.
        pending_poll_interval_s: wait before each of those look-ups; the whole wait is bounded by
            ``pending_polls * pending_poll_interval_s`` plus the look-ups themselves.

    """

    max_attempts: int = 5
    max_rate_limited: int = 20
    max_elapsed_s: float = 300.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    retry_exceptions: tuple[type[Exception], ...] = DEFAULT_RETRY_EXCEPTIONS
    pending_polls: int = 4
    pending_poll_interval_s: float = 0.5
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base_s < 0 or self.backoff_max_s < 0:
            raise ValueError("backoff times must not be negative")
        if self.pending_polls < 1 or self.pending_poll_interval_s < 0:
            raise ValueError("pending_polls must be at least 1 and pending_poll_interval_s not negative")

    def is_retryable_status(self, status: int, *, rate_limit_policy: str | None = None) -> bool:
        """Whether an answer with ``status`` is worth retrying (a ``DAILY`` 429 never is)."""
        if status == 429 and rate_limit_policy == "DAILY":
            return False
        return status in self.retry_statuses

    def is_retryable_exception(self, exc: BaseException) -> bool:
        """Whether a transport exception is worth retrying."""
        return isinstance(exc, self.retry_exceptions)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        cap = min(self.backoff_max_s, self.backoff_base_s * (2 ** max(0, attempt - 1)))
        return self.rng.uniform(0.0, cap)

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` when ``Retry-After`` is too long to honour."""
        wait = self.backoff(attempt)
        if retry_after_s is not None:
            if retry_after_s > self.max_retry_after_s:
                return None
            wait = max(wait, retry_after_s)
        return wait

    def may_retry(self, attempts: int, elapsed_s: float, wait_s: float, *, rate_limited: int = 0) -> bool:
        """Whether another attempt is allowed after ``attempts`` (``rate_limited`` of them 429s).

        Ten-secondly 429s count against :attr:`max_rate_limited`, everything else against
        :attr:`max_attempts`; the next attempt must also start within :attr:`max_elapsed_s`.
        """
        if elapsed_s + wait_s > self.max_elapsed_s:
            return False
        if attempts - rate_limited >= self.max_attempts:
            return False
        return rate_limited <= self.max_rate_limited
