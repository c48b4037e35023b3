"""A thread-safe, adaptive rolling-window rate limiter shared by every thread of one client.

HubSpot limits each app to ``N`` requests per rolling 10 seconds (100, 190, 250 ... by tier, reference
§7). The limiter keeps the send times of the last window and blocks :meth:`RateLimiter.acquire` until
one more request fits. It also listens to HubSpot:

* ``X-HubSpot-RateLimit-Max`` / ``-Interval-Milliseconds``: the window and its size as the server
  enforces them; the limiter never allows more than the server's ``Max`` per window (and adopts the
  server's window length, scaling the configured budget to it). A *learning* limiter
  (``learn=True``, what ``ClientSettings(requests_per_10s="learn")``, the default, makes) starts at the
  configured budget (100, HubSpot's lowest tier, §7.1) and adopts the server's ``Max`` as its budget
  once an answer states it, higher or lower; a fixed budget is a hard cap the server can only tighten.
* ``X-HubSpot-RateLimit-Remaining``: requests left in the server's window at the time the request was
  sent. Every request this client sent after that moment is counted against it, so the limiter never
  sends more than the server says remains (other processes sharing the token included), until the
  oldest request of the window has aged out.
* a 429 with ``policyName: TEN_SECONDLY_ROLLING``: everyone pauses until the window frees (the oldest
  request of the window ages out, or ``Retry-After`` if the server sent a longer one).

Several processes with one token: ``RateLimiter(..., shared=window)`` also asks a :class:`SharedWindow`
(``hubspot_loader.state.rate_budget.SharedRateWindow``: a rolling window in the state database) before
each send, after the local window allowed it, and forwards completions and 429 pauses to it, so that all
of them together stay under the limit. One thread of the process asks it at a time (the others queue
in-process, not in the database), and never under the limiter's lock.

Clock and sleep are injectable so unit tests run without real waiting.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

DEFAULT_REQUESTS_PER_10S = 100
DEFAULT_WINDOW_S = 10.0
#: Round trips remembered to estimate how early a freed slot may be reused (see ``RateLimiter._lead``).
ROUND_TRIPS_KEPT = 64
#: Round trips needed before any head start is taken.
MIN_ROUND_TRIPS = 8

#: Response headers the limiter reads (case-insensitive).
HEADER_MAX = "x-hubspot-ratelimit-max"
HEADER_REMAINING = "x-hubspot-ratelimit-remaining"
HEADER_INTERVAL_MS = "x-hubspot-ratelimit-interval-milliseconds"


class SharedWindow(Protocol):
    """A rate window shared with other processes using the same token (e.g. in the state database)."""

    def try_acquire(self, limit: int, window_s: float, lead_s: float = 0.0) -> tuple[str | None, float]:
        """Take a slot (``(slot_id, 0.0)``) or say how long to wait (``(None, seconds)``)."""
        ...

    def complete(self, slot_id: str) -> None:
        """Count the slot from now: its request was answered (or failed)."""
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
    """Rolling-window limiter: at most ``requests_per_10s`` sends per 10 s, tightened by server answers.

    Args:
        requests_per_10s: the app's budget per rolling 10 seconds (the tier's burst limit).
        clock: monotonic seconds (default :func:`time.monotonic`).
        sleep: blocking sleep (default :func:`time.sleep`).
        lead_fraction: how much of the shortest recent round trip a freed slot may be reused early
            (0 disables the head start; see :meth:`_lead`).
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
        lead_fraction: float = 0.5,
        learn: bool = False,
        shared: SharedWindow | None = None,
    ) -> None:
        if requests_per_10s < 1:
            raise ValueError("requests_per_10s must be at least 1")
        self._configured = requests_per_10s
        self.learn = learn
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._window = DEFAULT_WINDOW_S
        self._server_max: int | None = None
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        # Latest server statement "R remain as of time T", valid until the window moved on.
        self._remaining: int | None = None
        self._remaining_as_of = 0.0
        self._remaining_until = 0.0
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)
        self.lead_fraction = lead_fraction
        self.shared = shared
        self._shared_gate = threading.Lock()  # one thread at a time asks the shared window
        self._slots: dict[float, list[str]] = {}  # stamp -> shared slot ids, for complete()
        self._told_shared: tuple[int, float] | None = None  # the server limit last passed to ``shared``
        self._sharing_users = 0  # blocks inside :meth:`sharing` (they share the window it opened)
        self._opened: ClosableSharedWindow | None = None  # the window :meth:`sharing` opened
        self._sharing_lock = threading.Lock()
        self.shared_refusals = 0
        """Times the shared window refused a slot the local window allowed."""
        self.waited_s = 0.0
        """Total seconds callers spent blocked in :meth:`acquire`."""

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

    def _prune(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self._window:
            self._sent.popleft()
        while self._slots:  # slots of requests never completed (stamps are inserted in clock order)
            oldest = next(iter(self._slots))
            if oldest > now - self._window:
                break
            del self._slots[oldest]
        if self._remaining is not None and now >= self._remaining_until:
            self._remaining = None

    def _lead(self) -> float:
        """Seconds before a slot ages out that it may be reused: a fraction of the shortest round trip.

        A finished request's stamp is its answer time, the latest moment HubSpot can have counted it
        (it counts on arrival). A new request is counted no earlier than it arrives, a part of its own
        round trip after it is sent. Without a head start every slot would sit idle for one round trip
        per window (about 5% of the budget at 0.5 s round trips); taking half the shortest recent round
        trip back keeps arrivals after the old request has left the server's window.
        """
        if self.lead_fraction <= 0 or len(self._round_trips) < MIN_ROUND_TRIPS:
            return 0.0
        return self.lead_fraction * min(self._round_trips)

    def _wait_needed(self, now: float) -> float:
        """Seconds until one more request may go (0 when it may go now). Call with the lock held."""
        self._prune(now)
        lead = self._lead()
        limit = self.limit
        waits = [self._paused_until - now]
        if len(self._sent) >= limit:
            # Stamps within ``lead`` of ageing out no longer count: wait for the oldest of the last
            # ``limit`` stamps (not the oldest of all, which may already be inside the head start).
            waits.append(self._sent[len(self._sent) - limit] + self._window - lead - now)
        if self._remaining is not None:
            used_since = sum(1 for t in self._sent if t > self._remaining_as_of)
            if used_since >= self._remaining:
                waits.append(self._remaining_until - lead - now)
        return max(0.0, *waits)

    def acquire(self) -> float:
        """Block until one request may be sent, record it, and return the seconds waited."""
        start = self._clock()
        stamp = self.reserve()
        return stamp - start

    def reserve(self) -> float:
        """Block until one request may be sent, record it, and return its send stamp (limiter clock).

        Pass the stamp to :meth:`complete` when the answer arrives and to :meth:`observe`. With a
        ``shared`` window the request also needs a slot there (asked outside the lock, one thread at a
        time); while it refuses, the caller sleeps the time it says and asks the local window again.
        """
        if self.shared is None:
            return self._reserve_local(record=True)
        waited = 0.0
        with self._shared_gate:
            shared = self.shared  # read under the gate: :meth:`sharing` unsets it under the gate
            if shared is None:
                return self._reserve_local(record=True)
            while True:
                start = self._clock()
                self._reserve_local(record=False)
                waited += self._clock() - start
                slot_id, wait = shared.try_acquire(self.limit, self._window, self._lead())
                if slot_id is not None:
                    break
                self.shared_refusals += 1
                wait = max(wait, 0.001)
                self._sleep(wait)
                waited += wait
        with self._lock:
            now = self._clock()
            self._sent.append(now)
            self._slots.setdefault(now, []).append(slot_id)
            self.waited_s += waited
            return now

    def _reserve_local(self, *, record: bool) -> float:
        """Block until the local window allows a send; record it (``record``) and return the clock."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    if record:
                        self._sent.append(now)
                        self.waited_s += waited
                    return now
            # A small floor avoids spinning on float rounding at the window edge.
            wait = max(wait, 0.001)
            self._sleep(wait)
            waited += wait

    def complete(self, stamp: float) -> None:
        """Move a request's stamp from its send time to now, when its answer (or failure) arrived.

        HubSpot counts a request when it *arrives*, somewhere between send and answer; counting it
        from the answer keeps the local window from freeing a slot before the server's does.
        """
        slot_id = None
        with self._lock:
            now = self._clock()
            self._round_trips.append(max(0.0, now - stamp))
            slots = self._slots.get(stamp)
            if slots:
                slot_id = slots.pop()
                if not slots:
                    del self._slots[stamp]
            try:
                self._sent.remove(stamp)
            except ValueError:
                pass  # already aged out of the window
            else:
                position = bisect.bisect_right(self._sent, now)
                self._sent.insert(position, now)
        shared = self.shared
        if slot_id is not None and shared is not None:
            shared.complete(slot_id)

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
        # The server's window frees its first slot no later than our oldest request in it ages out;
        # when we have none (others used the budget), assume a full window from the send.
        oldest = next((t for t in self._sent if t <= sent_at), sent_at)
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
            until = (self._sent[0] + self._window) if self._sent else now + self._window
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
