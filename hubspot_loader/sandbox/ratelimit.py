"""Rate limiting (reference §7).

A rolling window per token, a daily counter per account and a per-second limit for the search API.

Only requests that are admitted consume budget: a request answered with 429 does not count.

**When a request counts: on arrival** (``SandboxConfig.rate_count_at="arrival"``, the default). HubSpot
does not document whether its ten-secondly window counts a request when it arrives or when it has
been answered (reference §16.9: "Counted on arrival or on completion? Not documented"). What it does
document fixes the answer:

* the window is a gateway policy that answers 429 ``TEN_SECONDLY_ROLLING`` *instead of* processing the
  request (reference §5.8: the 429 body names the policy and its ``groupName``, e.g.
  ``publicapi:hapikey-api-calls-ten-secondly:…``; §7.1). The refusal is decided before the request is
  processed, so the decision, and with it the count of the admitted request, happens on arrival: a
  gateway cannot wait for a request's completion to decide whether to let it in;
* ``X-HubSpot-RateLimit-Remaining`` on an answer already excludes the request being answered (§16.9,
  recorded: 109 with ``Max`` 110 on the first call after idle), i.e. the request was counted before
  its answer was written, and it drops by one per call whatever the call's size or duration (§16.9),
  which is what a count taken at admission gives.

So :class:`RateLimiter.admit` is called when the request arrives, before the injected latency (which
models the time HubSpot takes to process and answer the request), and the ``X-HubSpot-RateLimit-*``
headers carry the values of that moment. ``rate_count_at="completion"`` (``--rate-count-at
completion``) counts and decides after the latency instead, as the sandbox did before: the latest
point a real portal could count a request, kept so that clients can be shown safe under both
assumptions (the loader's limiter is tested under both). See ``docs/sandbox.md``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Decision:
    """Outcome of one admission check, with the values for the ``X-HubSpot-RateLimit-*`` headers."""

    allowed: bool
    policy: str | None
    limit: int
    remaining: int
    daily_limit: int
    daily_remaining: int
    window_ms: int


def _utc_day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class RateLimiter:
    """Rolling window per token (``limit`` requests per ``window_ms``) plus a daily account counter.

    The daily counter resets at midnight UTC (HubSpot resets at midnight in the account's time zone).
    """

    def __init__(self, limit: int, window_ms: int, daily_limit: int, search_per_second: int) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self.daily_limit = daily_limit
        self.search_per_second = search_per_second
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._search: dict[str, deque[float]] = {}
        self._day = _utc_day()
        self._daily_used = 0

    def reset(self) -> None:
        """Forget all usage."""
        with self._lock:
            self._windows.clear()
            self._search.clear()
            self._daily_used = 0

    def _roll_day(self) -> None:
        today = _utc_day()
        if today != self._day:
            self._day = today
            self._daily_used = 0

    def admit(self, token: str, search: bool = False) -> Decision:
        """Check and, if allowed, consume one request of ``token``'s budget."""
        now = time.monotonic()
        with self._lock:
            self._roll_day()
            window = self._windows.setdefault(token, deque())
            horizon = now - self.window_ms / 1000
            while window and window[0] <= horizon:
                window.popleft()
            policy: str | None = None
            if self._daily_used >= self.daily_limit:
                policy = "DAILY"
            elif search:
                recent = self._search.setdefault(token, deque())
                while recent and recent[0] <= now - 1.0:
                    recent.popleft()
                if len(recent) >= self.search_per_second:
                    policy = "SECONDLY"
                else:
                    recent.append(now)
            elif len(window) >= self.limit:
                policy = "TEN_SECONDLY_ROLLING"
            else:
                window.append(now)
            if policy is None:
                self._daily_used += 1
            return Decision(
                allowed=policy is None,
                policy=policy,
                limit=self.limit,
                remaining=max(self.limit - len(window), 0),
                daily_limit=self.daily_limit,
                daily_remaining=max(self.daily_limit - self._daily_used, 0),
                window_ms=self.window_ms,
            )

    def burst_decision(self, token: str) -> Decision:
        """Return a 429 decision for an injected rate-limit burst (budget untouched)."""
        with self._lock:
            return Decision(
                False,
                "TEN_SECONDLY_ROLLING",
                self.limit,
                0,
                self.daily_limit,
                max(self.daily_limit - self._daily_used, 0),
                self.window_ms,
            )
