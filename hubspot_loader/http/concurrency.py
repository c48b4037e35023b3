"""How many batches a client keeps in flight: Little's law on the measured round trip, braked when busy.

The request budget (``N`` per rolling window, reference §7.1) is the real ceiling of a load; concurrency
only has to be large enough that a request is ready whenever the rate limiter frees a slot. By Little's
law the requests in flight at a throughput of ``L`` requests per second with round trips of ``W``
seconds average ``L x W``. :class:`ConcurrencyController` keeps

    in flight = ceil(L x W x HEADROOM + EXTRA)       (between ``MIN_IN_FLIGHT`` and the cap)

where ``L`` is the budget per second the rate limiter currently allows (it grows when the limiter learns
a higher tier from ``X-HubSpot-RateLimit-Max``, §5.8, §16.9), and ``W`` the median of the recent round
trips. The headroom covers jitter, the CPU time of a batch outside its round trip, and the slots the
limiter frees together; the extra one keeps a request queued at the limiter when ``L x W`` is small.
Before the first answer ``W`` is assumed (``INITIAL_ROUND_TRIP_S``) and the headroom is the smaller
``STARTING_HEADROOM``.

It shrinks when the portal says it is busy:

* **429**: the target is halved (from what was in flight) and held there for one rate-limit window;
  afterwards it grows back by one per successful answer (additive increase, multiplicative decrease).
* **Rising latency**: ``W`` is the recent median but never more than ``LATENCY_TOLERANCE`` times the
  baseline (a low quantile of a longer history). When the recent median exceeds that, the portal is
  slower than it was, maybe because of us: the target falls back to the baseline round trip instead of
  piling more requests onto a slow server. A lasting change of latency becomes the new baseline as the
  long history turns over.

The controller is pure bookkeeping: no threads, no sleeping, an injectable clock. The client feeds it
every answer (:meth:`ConcurrencyController.started` / :meth:`~ConcurrencyController.finished`) and
:func:`~hubspot_loader.http.batch_pool.run_batches` asks :attr:`~ConcurrencyController.limit` before each
submission.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

#: Multiplier on ``L x W`` (Little's law) for jitter, CPU time and slots freed together. The slots a
#: window frees come in trains (the sends of a window ago, when answers freed batches together): at 1.3
#: the 190/10 s tier held 96.1-97.3 % of its ceiling at 0.45-3 s round trips, every batch allowed in
#: flight while freed slots waited; at 2.0, 98.4-98.7 % (docs/benchmarks.md, issue #16).
HEADROOM = 2.0
#: Multiplier before any round trip was measured: no window has turned over yet, so there are no trains
#: to cover, and the limiter does not know the server's window either; start cautiously.
STARTING_HEADROOM = 1.3
#: Batches added to ``L x W x HEADROOM``: one waiting at the limiter even at tiny round trips.
EXTRA = 1.0
#: Fewest batches in flight (when the cap allows): one in the air, one ready.
MIN_IN_FLIGHT = 2
#: Round trip assumed before any answer arrived (seconds); HubSpot's batch creates take about that.
INITIAL_ROUND_TRIP_S = 0.5
#: Recent round trips whose median is ``W``.
RECENT = 16
#: Round trips kept for the baseline.
HISTORY = 256
#: Quantile of the history taken as the baseline round trip.
BASELINE_QUANTILE = 0.2
#: Recent median above this multiple of the baseline means the portal is busy.
LATENCY_TOLERANCE = 2.0
#: Seconds a 429's halving holds before the target grows back (one rolling window, §7.1).
BRAKE_HOLD_S = 10.0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ConcurrencyController:
    """The number of batches one client keeps in flight (see the module docstring).

    Args:
        cap: the most batches ever in flight (``ClientSettings.max_in_flight``).
        budget_per_s: returns the requests per second the rate limiter currently allows.
        adaptive: ``False`` keeps exactly ``cap`` in flight (the measurement is still made).
        clock: monotonic seconds (default :func:`time.monotonic`).

    Thread-safe: answers arrive from the worker threads.

    """

    def __init__(
        self,
        cap: int,
        budget_per_s: Callable[[], float],
        *,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.cap = cap
        self.adaptive = adaptive
        self._budget_per_s = budget_per_s
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._history: deque[float] = deque(maxlen=HISTORY)
        self._ceiling = float(cap)
        self._hold_until = -math.inf
        self._braked_at = -math.inf
        self._last_limit = min(cap, MIN_IN_FLIGHT)
        self.rate_limited = 0
        """429 answers seen."""
        self.peak = 0
        """The largest :attr:`limit` handed out."""

    def now(self) -> float:
        """Return the controller's clock (monotonic seconds)."""
        return self._clock()

    def started(self) -> float:
        """Return the token of a request about to be sent (its start time); pass it to :meth:`finished`."""
        return self._clock()

    def finished(self, started: float, status: int | None) -> None:
        """Record a request's answer: its round trip and HTTP ``status`` (``None``: no answer, not counted).

        A 429 halves the target (see :meth:`on_busy`); any other answer is a round-trip sample.
        """
        now = self._clock()
        if status is None:
            return
        if status == 429:
            self.on_busy()
            return
        with self._lock:
            round_trip = max(0.0, now - started)
            self._recent.append(round_trip)
            self._history.append(round_trip)
            if now >= self._hold_until and self._ceiling < self.cap:
                self._ceiling = min(float(self.cap), self._ceiling + 1.0)

    def on_busy(self) -> None:
        """Halve the target and hold it for one window: the portal said it is busy (a 429).

        The 429s of requests that were in flight together are one signal: the target is halved at most
        once per round trip, and each further 429 only extends the hold.
        """
        with self._lock:
            self.rate_limited += 1
            now = self._clock()
            self._hold_until = now + BRAKE_HOLD_S
            if now - self._braked_at < self._round_trip():
                return
            self._braked_at = now
            base = min(self._ceiling, float(self._last_limit))
            self._ceiling = max(1.0, base / 2.0)

    @property
    def round_trip_s(self) -> float:
        """The round trip the target is computed from (seconds): recent median, braked by the baseline."""
        with self._lock:
            return self._round_trip()

    def _round_trip(self) -> float:
        if not self._recent:
            return INITIAL_ROUND_TRIP_S
        recent = _median(list(self._recent))
        baseline = _quantile(list(self._history), BASELINE_QUANTILE)
        if recent > LATENCY_TOLERANCE * baseline:
            return baseline  # the portal slowed down: do not pile on
        return recent

    @property
    def busy(self) -> bool:
        """Whether a busy signal currently holds the target down (a recent 429 or risen latency)."""
        with self._lock:
            if self._ceiling < self.cap and self._clock() < self._hold_until:
                return True
            if not self._recent:
                return False
            baseline = _quantile(list(self._history), BASELINE_QUANTILE)
            return _median(list(self._recent)) > LATENCY_TOLERANCE * baseline

    @property
    def limit(self) -> int:
        """Batches that may be in flight now: Little's law with headroom, within the brake and the cap."""
        if not self.adaptive:
            self.peak = self.cap
            return self.cap
        budget = max(0.0, float(self._budget_per_s()))
        with self._lock:
            headroom = HEADROOM if self._recent else STARTING_HEADROOM
            wanted = math.ceil(budget * self._round_trip() * headroom + EXTRA)
            value = max(MIN_IN_FLIGHT, min(wanted, int(self._ceiling)))
            value = max(1, min(self.cap, value))
            self._last_limit = value
            self.peak = max(self.peak, value)
            return value


__all__ = [
    "BASELINE_QUANTILE",
    "BRAKE_HOLD_S",
    "EXTRA",
    "HEADROOM",
    "HISTORY",
    "INITIAL_ROUND_TRIP_S",
    "LATENCY_TOLERANCE",
    "MIN_IN_FLIGHT",
    "RECENT",
    "STARTING_HEADROOM",
    "ConcurrencyController",
]
