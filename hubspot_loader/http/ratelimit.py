"""A thread-safe, adaptive rolling-window rate limiter shared by every thread of one client.

HubSpot limits each app to ``N`` requests per rolling 10 seconds (100, 190, 250 ... by tier, reference
§7). The limiter keeps, for each request of the last window, the moment from which it counts, and
blocks :meth:`RateLimiter.reserve` until one more request fits.

**When a request counts.** HubSpot's gateway counts a request when it arrives, before processing it
(``docs/production.md``, "When a request counts"; reference §5.8, §16.9): somewhere between its send
``s`` and its answer ``a``, the only moments the client knows. Counting each request from its answer is
always safe, but leaves every slot idle for a whole round trip per window (77 % of the budget at 3 s
round trips). Instead a request counts from

    min(a, s + margin),   margin = max(Q90 - min, its round trip - min) + MARGIN_FLOOR_S

over the last ``ROUND_TRIPS_KEPT`` round trips (``Q90``: their 90th percentile, ``min``: the shortest),
and its slot is reused one window after that. Why that is safe: a round trip is a part *before* the
server counts the request (the way there, queueing) and a part *after* (processing, the way back). The
next request is counted no sooner than the shortest "before" part after its own send, so the old slot
may be reused a window after the old request's send plus how much its "before" part exceeded the
shortest one. That excess is part of how much its round trip exceeded the shortest: for the bulk of
requests within the spread from the shortest round trip to the 90th percentile (the first term), and for
a slow one within its own excess over the shortest (the second term), as long as its "after" part was
no shorter than the shortest request's. Which part varies does not matter, so this holds whether the
server counts on arrival or on completion (the sandbox can do either, ``--rate-count-at``), and a slot
idles for about the jitter of the round trips instead of a round trip. Until ``MIN_ROUND_TRIPS``
answers have been seen, a request counts from its answer. A request still in flight holds its slot
until it is answered (at most ``MAX_FLIGHT_HELD_S``). Slots freed together (their requests went
together a window earlier) are reused ``BURST_SPACING x window / limit`` apart, not all at once: a burst
queues requests behind each other on their way and in the server, which widens the spread of round
trips and so the margin (measured: the margin fell from about 0.5 s to 0.2 s at 3 s round trips).

It also listens to HubSpot:

* ``X-HubSpot-RateLimit-Max`` / ``-Interval-Milliseconds``: the window and its size as the server
  enforces them; the limiter never allows more than the server's ``Max`` per window (and adopts the
  server's window length, scaling the configured budget to it). A *learning* limiter
  (``learn=True``, what ``ClientSettings(requests_per_10s="learn")``, the default, makes) starts at the
  configured budget (100, HubSpot's lowest tier, §7.1) and adopts the server's ``Max`` as its budget
  once an answer states it, higher or lower; a fixed budget is a hard cap the server can only tighten.
* ``X-HubSpot-RateLimit-Remaining``: requests left in the server's window when it counted the request
  (it already excludes that request, §16.9). Every request this client sent after that one is counted
  against it, so the limiter never sends more than the server says remains (other processes sharing
  the token included), until the oldest request of the window has aged out.
* a 429 with ``policyName: TEN_SECONDLY_ROLLING``: everyone pauses until the window frees (the oldest
  request of the window ages out, or ``Retry-After`` if the server sent a longer one).

Several processes with one token: ``RateLimiter(..., shared=window)`` also asks a :class:`SharedWindow`
(``hubspot_loader.state.rate_budget.SharedRateWindow``: a rolling window in the state database) before
each send, after the local window allowed it, tells it when each slot counts from once the answer is
in (``complete(slot_id, age_s)``: the same moment as locally), and about 429 pauses, so that all of
them together stay under the limit. One thread of the process asks it at a time (the others queue
in-process, not in the database), and never under the limiter's lock.

Clock and sleep are injectable so unit tests run without real waiting.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

DEFAULT_REQUESTS_PER_10S = 100
DEFAULT_WINDOW_S = 10.0
#: Round trips remembered to measure their spread (the margin, see the module docstring).
ROUND_TRIPS_KEPT = 64
#: Round trips needed before a request counts from before its answer (until then: from its answer).
MIN_ROUND_TRIPS = 8
#: The quantile of the round trips whose distance from the shortest is the margin of the bulk.
SPREAD_QUANTILE = 0.9
#: Seconds always added to the margin (timer granularity, and a few milliseconds of variation that the
#: round trips kept may not show).
MARGIN_FLOOR_S = 0.01
#: Once round trips are measured, sends are at least this fraction of ``window / limit`` apart: slots
#: freed together (their requests were sent together) are reused over a moment, not all at once, so
#: that the requests are not queued behind each other on their way (which would widen the spread).
BURST_SPACING = 0.2
#: Seconds a request still in flight keeps its slot at most (longer than it can take to time out).
MAX_FLIGHT_HELD_S = 120.0
#: Seconds between looks when only requests still in flight past their time hold the window.
IN_FLIGHT_POLL_S = 0.05

#: Response headers the limiter reads (case-insensitive).
HEADER_MAX = "x-hubspot-ratelimit-max"
HEADER_REMAINING = "x-hubspot-ratelimit-remaining"
HEADER_INTERVAL_MS = "x-hubspot-ratelimit-interval-milliseconds"


class SharedWindow(Protocol):
    """A rate window shared with other processes using the same token (e.g. in the state database)."""

    def try_acquire(self, limit: int, window_s: float) -> tuple[str | None, float]:
        """Take a slot counted from now (``(slot_id, 0.0)``) or say how long to wait (``(None, seconds)``)."""
        ...

    def complete(self, slot_id: str, age_s: float = 0.0) -> None:
        """Count the slot from ``age_s`` seconds before now: its request was answered (or failed)."""
        ...

    def pause(self, seconds: float) -> None:
        """Refuse every slot for ``seconds`` (a ten-secondly 429)."""
        ...

    def set_server_limit(self, limit: int, window_s: float) -> None:
        """Cap every user by the limit HubSpot stated (``X-HubSpot-RateLimit-Max`` per window)."""
        ...


class ClosableSharedWindow(SharedWindow, Protocol):
    """A :class:`SharedWindow` that :meth:`RateLimiter.sharing` opens and closes."""

    def close(self) -> None:
        """Release what the window holds (its database connections)."""
        ...


def _header(headers: Mapping[str, str], name: str) -> int | None:
    for key, value in headers.items():
        if key.lower() == name:
            try:
                return int(str(value).strip())
            except ValueError:
                return None
    return None


class RateLimiter:
    """Rolling-window limiter: at most ``requests_per_10s`` per 10 s, tightened by server answers.

    Args:
        requests_per_10s: the app's budget per rolling 10 seconds (the tier's burst limit).
        clock: monotonic seconds (default :func:`time.monotonic`).
        sleep: blocking sleep (default :func:`time.sleep`).
        from_send: a request counts from its send plus a margin from the spread of round trips, or
            from its answer if that is earlier (see the module docstring); ``False`` counts every
            request from its answer, which is safe whatever the server does but idles each slot for a
            round trip per window.
        learn: ``requests_per_10s`` is only the budget until the server states its
            ``X-HubSpot-RateLimit-Max``; from then on that is the budget (see the module docstring).
        shared: a window shared with other processes of the same token; each send also takes a slot
            there (the limit and window are this limiter's), completions and 429 pauses go there too.

    """

    def __init__(
        self,
        requests_per_10s: int = DEFAULT_REQUESTS_PER_10S,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        from_send: bool = True,
        learn: bool = False,
        shared: SharedWindow | None = None,
    ) -> None:
        if requests_per_10s < 1:
            raise ValueError("requests_per_10s must be at least 1")
        self._configured = requests_per_10s
        self.learn = learn
        self.from_send = from_send
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._window = DEFAULT_WINDOW_S
        self._server_max: int | None = None
        self._counted: list[float] = []  # when each finished request counts from, ascending
        self._flying: list[float] = []  # send stamps of requests not answered yet, ascending
        self._sends: list[float] = []  # send stamps of the last window, ascending (for ``Remaining``)
        self._paused_until = 0.0
        # Latest server statement "R remain as of time T", valid until the window moved on.
        self._remaining: int | None = None
        self._remaining_as_of = 0.0
        self._remaining_until = 0.0
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)
        self._margin: float | None = None  # the margin of the bulk (Q90 - min + floor)
        self._shortest = 0.0  # the shortest round trip kept
        self.shared = shared
        self._shared_gate = threading.Lock()  # one thread at a time asks the shared window
        self._slots: dict[float, list[str]] = {}  # send stamp -> shared slot ids, for complete()
        self._told_shared: tuple[int, float] | None = None  # the server limit last passed to ``shared``
        self._sharing_users = 0  # blocks inside :meth:`sharing` (they share the window it opened)
        self._opened: ClosableSharedWindow | None = None  # the window :meth:`sharing` opened
        self._sharing_lock = threading.Lock()
        self.shared_refusals = 0
        """Times the shared window refused a slot the local window allowed."""
        self.waited_s = 0.0
        """Total seconds callers spent blocked in :meth:`reserve`."""

    @property
    def window_s(self) -> float:
        """The window length in seconds (10 unless the server says otherwise)."""
        return self._window

    @property
    def limit(self) -> int:
        """Requests allowed per window: the configured budget scaled to the window, capped by the server.

        A learning limiter's budget is the server's ``Max`` once an answer stated it.
        """
        if self.learn and self._server_max is not None:
            return self._server_max
        scaled = max(1, int(self._configured * self._window / DEFAULT_WINDOW_S))
        if self._server_max is not None:
            return max(1, min(scaled, self._server_max))
        return scaled

    @property
    def per_second(self) -> float:
        """Requests per second the limiter currently allows (:attr:`limit` over the window)."""
        return self.limit / self._window

    @property
    def margin_s(self) -> float | None:
        """Seconds after its send (at most) that a request with a usual round trip counts from.

        None: every request counts from its answer (fewer than ``MIN_ROUND_TRIPS`` round trips seen, or
        not ``from_send``). A request whose round trip exceeded the shortest by more counts from its
        answer less the shortest round trip (see the module docstring).
        """
        return self._margin

    def _prune(self, now: float) -> None:
        horizon = now - self._window
        del self._counted[: bisect.bisect_right(self._counted, horizon)]
        del self._sends[: bisect.bisect_right(self._sends, horizon)]
        lost = bisect.bisect_right(self._flying, now - MAX_FLIGHT_HELD_S)
        for stamp in self._flying[:lost]:  # never completed: give the slot up
            self._slots.pop(stamp, None)
        del self._flying[:lost]
        if self._remaining is not None and now >= self._remaining_until:
            self._remaining = None

    def _free_time(self, now: float, index: int) -> float:
        """When the ``index``-th (from 0) of the window's requests to age out does. Hold the lock.

        A finished request ages out one window after it counts from. One in flight will count from
        its send plus the margin at the earliest, or from its answer, not before now; and it ages out
        only after it is answered (the caller looks again every ``IN_FLIGHT_POLL_S``).
        """
        window, margin = self._window, self._margin
        counted = (stamp + window for stamp in self._counted)
        polled = now + IN_FLIGHT_POLL_S
        if margin is None:
            flying: Iterator[float] = (max(now + window, polled) for _ in self._flying)
        else:
            flying = (max(min(now, stamp + margin) + window, polled) for stamp in self._flying)
        return next(itertools.islice(heapq.merge(counted, flying), index, None))

    def _wait_needed(self, now: float) -> float:
        """Seconds until one more request may go (0 when it may go now). Call with the lock held."""
        self._prune(now)
        waits = [self._paused_until - now]
        if self._sends and self._margin is not None:  # spread bursts out (see ``BURST_SPACING``)
            waits.append(self._sends[-1] + BURST_SPACING * self._window / self.limit - now)
        excess = len(self._counted) + len(self._flying) - self.limit
        if excess >= 0:
            waits.append(self._free_time(now, excess) - now)
        if self._remaining is not None:
            used_since = len(self._sends) - bisect.bisect_right(self._sends, self._remaining_as_of)
            if used_since >= self._remaining:
                waits.append(self._remaining_until - now)
        return max(0.0, *waits)

    def acquire(self) -> float:
        """Block until one request may be sent, record it, and return the seconds waited.

        For callers that do not report answers: the request counts from now (its send). Callers that
        can report the answer use :meth:`reserve` and :meth:`complete`.
        """
        start = self._clock()
        stamp = self._reserve(flying=False)
        return stamp - start

    def reserve(self) -> float:
        """Block until one request may be sent, record it in flight, and return its send stamp.

        Pass the stamp (limiter clock) to :meth:`complete` when the answer (or failure) arrives, always:
        the request holds its slot until then, and to :meth:`observe`. With a ``shared`` window the
        request also needs a slot there (asked outside the lock, one thread at a time); while it
        refuses, the caller sleeps the time it says and asks the local window again.
        """
        return self._reserve(flying=True)

    def _reserve(self, *, flying: bool) -> float:
        if self.shared is None:
            return self._reserve_local(flying=flying)
        waited = 0.0
        with self._shared_gate:
            shared = self.shared  # read under the gate: :meth:`sharing` unsets it under the gate
            if shared is None:
                return self._reserve_local(flying=flying)
            while True:
                start = self._clock()
                self._reserve_local(flying=None)
                waited += self._clock() - start
                slot_id, wait = shared.try_acquire(self.limit, self._window)
                if slot_id is not None:
                    break
                self.shared_refusals += 1
                wait = max(wait, 0.001)
                self._sleep(wait)
                waited += wait
        with self._lock:
            now = self._clock()
            self._record(now, flying=flying)
            if flying:
                self._slots.setdefault(now, []).append(slot_id)
            self.waited_s += waited
            return now

    def _record(self, now: float, *, flying: bool) -> None:
        """Record a send at ``now``: in flight, or counted from now. Call with the lock held."""
        self._sends.append(now)
        if flying:
            self._flying.append(now)
        else:
            bisect.insort(self._counted, now)

    def _reserve_local(self, *, flying: bool | None) -> float:
        """Block until the local window allows a send; record it (unless ``flying`` is None)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    if flying is not None:
                        self._record(now, flying=flying)
                        self.waited_s += waited
                    return now
            # A small floor avoids spinning on float rounding at the window edge.
            wait = max(wait, 0.001)
            self._sleep(wait)
            waited += wait

    def complete(self, stamp: float) -> None:
        """Record the answer (or failure) of the request sent at ``stamp`` (from :meth:`reserve`).

        The request counts from ``min(answer, send + margin)`` from now on (see the module docstring), its
        round trip joins those the margin is measured on, and a shared window is told the same.
        """
        slot_id = None
        counted_from: float | None = None
        with self._lock:
            now = self._clock()
            round_trip = max(0.0, now - stamp)
            self._round_trips.append(round_trip)
            self._measure()
            slots = self._slots.get(stamp)
            if slots:
                slot_id = slots.pop()
                if not slots:
                    del self._slots[stamp]
            position = bisect.bisect_left(self._flying, stamp)
            if position < len(self._flying) and self._flying[position] == stamp:
                del self._flying[position]
                counted_from = now
                if self._margin is not None:
                    excess = round_trip - self._shortest + MARGIN_FLOOR_S
                    counted_from = min(now, stamp + max(self._margin, excess))
                if counted_from > now - self._window:
                    bisect.insort(self._counted, counted_from)
        shared = self.shared
        if slot_id is not None and shared is not None and counted_from is not None:
            shared.complete(slot_id, now - counted_from)

    def _measure(self) -> None:
        """Update the margin and the shortest round trip from the round trips kept. Hold the lock."""
        if not self.from_send or len(self._round_trips) < MIN_ROUND_TRIPS:
            self._margin = None
            return
        ordered = sorted(self._round_trips)
        self._shortest = ordered[0]
        high = ordered[min(len(ordered) - 1, int(SPREAD_QUANTILE * len(ordered)))]
        self._margin = high - self._shortest + MARGIN_FLOOR_S

    def observe(self, headers: Mapping[str, str], *, sent_at: float) -> None:
        """Adapt to HubSpot's rate-limit headers from a response to a request sent at ``sent_at``.

        ``sent_at`` is the request's stamp from :meth:`reserve` (limiter clock).
        """
        maximum = _header(headers, HEADER_MAX)
        remaining = _header(headers, HEADER_REMAINING)
        interval_ms = _header(headers, HEADER_INTERVAL_MS)
        with self._lock:
            if interval_ms is not None and interval_ms > 0:
                self._window = interval_ms / 1000.0
            if maximum is not None and maximum > 0:
                self._server_max = maximum
            stated = None if self._server_max is None else (self._server_max, self._window)
            if self.shared is not None and stated is not None and stated != self._told_shared:
                self._told_shared = stated
            else:
                stated = None
            self._note_remaining(remaining, sent_at)
        shared = self.shared
        if stated is not None and shared is not None:
            shared.set_server_limit(*stated)

    def _note_remaining(self, remaining: int | None, sent_at: float) -> None:
        """Remember the server's ``Remaining`` as of ``sent_at`` (call with the lock held)."""
        if remaining is None:
            return
        now = self._clock()
        self._prune(now)
        # The server counted the request between its send and now. Its window frees its first slot no
        # later than our oldest request counted before that send ages out; when we have none (others
        # used the budget), no later than a window after now, when the request itself ages out.
        oldest = self._counted[0] if self._counted and self._counted[0] <= sent_at else now
        until = oldest + self._window
        if until <= now:
            return
        if self._remaining is None or sent_at >= self._remaining_as_of:
            self._remaining = max(0, remaining)
            self._remaining_as_of = sent_at
            self._remaining_until = until

    def on_rate_limited(self, retry_after_s: float | None = None) -> float:
        """Pause every caller until the window frees after a ten-secondly 429; return the pause length."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            until = self._free_time(now, 0) if self._counted or self._flying else now + self._window
            if retry_after_s is not None:
                until = max(until, now + retry_after_s)
            self._paused_until = max(self._paused_until, until)
            pause = self._paused_until - now
        shared = self.shared
        if shared is not None:
            shared.pause(pause)
        return pause

    @contextlib.contextmanager
    def sharing(self, open_window: Callable[[], ClosableSharedWindow]) -> Iterator[SharedWindow | None]:
        """Pace through a shared window for the duration of the block; yield the window in use.

        A limiter that already has a ``shared`` window (set by its owner) keeps it and ``open_window`` is
        not called. Otherwise the first of the blocks running at once (loads on one client in several
        threads) opens the window and sets it as :attr:`shared`; the last one to leave unsets and closes it.
        """
        with self._sharing_lock:
            joins = self._opened is not None or self.shared is None
            if joins:
                if self._opened is None:
                    self._opened = open_window()
                    self.shared = self._opened
                    self._told_shared = None  # a new window learns the server's limit afresh
                self._sharing_users += 1
            window = self.shared
        try:
            yield window
        finally:
            if joins:
                self._leave_sharing()

    def _leave_sharing(self) -> None:
        with self._sharing_lock:
            self._sharing_users -= 1
            if self._sharing_users > 0 or self._opened is None:
                return
            closing, self._opened = self._opened, None
            with self._shared_gate:  # not while another thread is asking it
                self.shared = None
        closing.close()

    def now(self) -> float:
        """Return the limiter's clock (use it for ``sent_at`` in :meth:`observe`)."""
        return self._clock()
