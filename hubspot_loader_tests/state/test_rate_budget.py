"""The shared rate window (issue 14): one budget for every thread, process and load of a token.

Every test runs on a SQLite file and on a real PostgreSQL server (``state_url``, see ``conftest.py``).
Windows are short (1 s) and limits small, so that the tests are quick; they count stamps (the database
clock's, taken in the granting transaction), never wall-clock durations.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from hubspot_loader.http.ratelimit import RateLimiter
from hubspot_loader.sandbox import SandboxConfig, start_sandbox_process
from hubspot_loader.state.ledger import SqlLedger, open_ledger
from hubspot_loader.state.rate_budget import SharedRateWindow, budget_key
from hubspot_loader.state.schema import SCHEMA_VERSION
from hubspot_loader_tests.state.conftest import Workers

TOKEN = "pat-na1-00000000-rate-budget-test"


def max_in_window(stamps: list[float], window_s: float) -> int:
    """The most stamps inside any half-open interval ``(t - window_s, t]``."""
    stamps = sorted(stamps)
    best = start = 0
    for end, t in enumerate(stamps):
        while stamps[start] <= t - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def take(window: SharedRateWindow, limit: int, window_s: float, count: int) -> list[float]:
    """Take ``count`` slots, sleeping the waits the window says; return the grants' stamps."""
    stamps: list[float] = []
    waits = threading.Event()  # never set: wait() is a bounded sleep of the asked length
    while len(stamps) < count:
        slot, wait, stamp = window.acquire_stamped(limit, window_s)
        if slot is None:
            waits.wait(max(wait, 0.001))
        else:
            stamps.append(stamp)
    return stamps


@pytest.fixture
def budget_workers() -> Iterator[Workers]:
    """Child processes running ``rate_budget_worker`` commands; killed at teardown if still running."""
    pool = Workers("hubspot_loader_tests.state.rate_budget_worker")
    yield pool
    pool.stop_all()


@pytest.fixture
def windows(state_url: str) -> Iterator[Callable[..., SharedRateWindow]]:
    opened: list[SharedRateWindow] = []

    def build(token: str = TOKEN) -> SharedRateWindow:
        window = SharedRateWindow.for_state(state_url, token)
        opened.append(window)
        return window

    yield build
    for window in opened:
        window.close()


def test_a_full_window_refuses_and_says_how_long(windows: Callable[..., SharedRateWindow]) -> None:
    window = windows()
    granted = [window.acquire_stamped(3, 5.0) for _ in range(3)]
    assert all(slot is not None and wait == 0 for slot, wait, _ in granted)
    slot, wait, now = window.acquire_stamped(3, 5.0)
    assert slot is None
    assert wait == pytest.approx(granted[0][2] + 5.0 - now, abs=1e-3)
    assert 0 < wait <= 5.0
    # a larger limit (the server's Max learned) has room; the stamps are the window's
    assert window.try_acquire(4, 5.0)[0] is not None
    assert len(window.stamps()) == 4


def test_tokens_have_separate_budgets_and_the_key_is_no_token(
    windows: Callable[..., SharedRateWindow],
) -> None:
    first, second = windows(TOKEN), windows(TOKEN + "-other")
    assert first.try_acquire(1, 5.0)[0] is not None
    assert first.try_acquire(1, 5.0)[0] is None
    assert second.try_acquire(1, 5.0)[0] is not None
    assert TOKEN not in first.budget_key and TOKEN not in repr(first)
    assert first.budget_key == budget_key(TOKEN)
    with first.engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT budget_key FROM rate_budgets")).scalars().all()
    assert TOKEN not in " ".join(keys)


def test_complete_moves_the_stamp_to_the_answer_and_pause_refuses_everyone(
    windows: Callable[..., SharedRateWindow],
) -> None:
    window, other = windows(), windows()
    slot, _, sent = window.acquire_stamped(10, 5.0)
    assert slot is not None
    window.complete(slot)
    (answered,) = window.stamps()
    assert answered >= sent
    window.complete("no-such-slot")  # aged out: ignored

    other.pause(3.0)
    refused, wait = window.try_acquire(10, 5.0)
    assert refused is None and 2.0 < wait <= 3.0
    other.pause(0.5)  # a shorter pause does not shorten the longer one
    assert window.try_acquire(10, 5.0)[1] > 2.0


def test_complete_counts_the_slot_from_the_moment_the_limiter_says(
    windows: Callable[..., SharedRateWindow],
) -> None:
    window = windows()
    slot, _, granted = window.acquire_stamped(1, 60.0)
    assert slot is not None
    before = window.clock()
    window.complete(slot, age_s=4.0)  # answered: its request counts from 4 s before the answer
    after = window.clock()
    (stamp,) = window.stamps()
    assert before - 4.0 <= stamp <= after - 4.0
    assert stamp >= granted - 4.0
    refused, wait, now = window.acquire_stamped(1, 60.0)
    assert refused is None and wait == pytest.approx(stamp + 60.0 - now, abs=1e-3)


def test_threads_together_stay_within_the_limit(windows: Callable[..., SharedRateWindow]) -> None:
    limit, window_s, per_thread = 4, 1.0, 4
    shared = windows()
    own = [windows() for _ in range(2)]  # other connections of the same token, in this process
    stamps: list[float] = []
    lock = threading.Lock()

    def work(window: SharedRateWindow) -> None:
        got = take(window, limit, window_s, per_thread)
        with lock:
            stamps.extend(got)

    threads = [threading.Thread(target=work, args=(w,)) for w in (shared, shared, *own)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 4 * per_thread
    assert max_in_window(stamps, window_s) <= limit


def test_processes_together_stay_within_the_limit(state_url: str, budget_workers: Workers) -> None:
    limit, window_s, per_process = 5, 1.0, 5
    SharedRateWindow.for_state(state_url, TOKEN).close()  # tables exist before the race
    children = [
        budget_workers.start("acquire", state_url, TOKEN,
                      str(limit), str(window_s), str(per_process))
        for _ in range(3)
    ]  # fmt: skip
    budget_workers.go(*children)
    stamps = [s for child in children for s in json.loads(budget_workers.finish(child))["stamps"]]
    assert len(stamps) == 3 * per_process
    assert max_in_window(stamps, window_s) <= limit


def test_limiters_with_a_shared_window_pace_together(windows: Callable[..., SharedRateWindow]) -> None:
    """Two limiters (two clients, as if two processes) with the same shared window: one budget."""
    first, second = (RateLimiter(4, shared=windows()) for _ in range(2))
    stamps = [first.reserve() for _ in range(2)] + [second.reserve() for _ in range(2)]
    assert first.shared is not None
    # the window is full for both: the fifth send waits for the first to age out (10 s); asked directly
    assert first.shared.try_acquire(first.limit, first.window_s)[0] is None
    for stamp in stamps[:2]:
        first.complete(stamp)
    for stamp in stamps[2:]:
        second.complete(stamp)
    assert len(windows().stamps()) == 4
    assert first.on_rate_limited() > 0
    assert second.shared is not None and second.shared.try_acquire(100, 10.0)[0] is None  # paused


def test_a_version_2_ledger_opens_beside_the_budget_tables(state_url: str) -> None:
    with open_ledger(state_url) as ledger:
        assert isinstance(ledger, SqlLedger)
        window = SharedRateWindow.for_state(ledger.url, TOKEN)
        assert window.try_acquire(1, 1.0)[0] is not None
        window.close()
    with open_ledger(state_url) as again:  # the budget tables are not the ledger's: still version 2
        assert again.migrated_from == SCHEMA_VERSION
        with SharedRateWindow.for_state(again.url, TOKEN) as window:  # idempotent creation
            assert len(window.stamps()) == 1


def test_loads_in_several_processes_share_one_budget(state_url: str, budget_workers: Workers) -> None:
    """End to end: 3 processes create companies with one token; the sandbox enforces 10 per second."""
    config = SandboxConfig(rate_limit_per_10s=10, rate_limit_window_ms=1000, daily_limit=10**9)
    sb = start_sandbox_process(config.replace(host="127.0.0.1", port=0))
    try:
        rows = 120
        children = [
            budget_workers.start("load", state_url, sb.token,
                          sb.base_url, str(rows), f"p{i}")
            for i in range(3)
        ]  # fmt: skip
        budget_workers.go(*children)
        results = [json.loads(budget_workers.finish(child)) for child in children]
        counters = sb.counters()
        names = Counter(str((o.get("properties") or {}).get("name")) for o in sb.objects("companies"))
    finally:
        sb.stop()
    assert [r["created"] for r in results] == [rows] * 3
    assert all(r["failed"] == 0 for r in results)
    assert sum(names.values()) == 3 * rows and set(names.values()) == {1}  # every row exactly once
    # 36 requests at 10 per second from 9 threads: without the shared window a good share is refused;
    # with it none should be (a stray one at a window edge is tolerated)
    assert counters["rate_limited"] <= 2, counters
    assert sum(r["refusals"] for r in results) > 0  # the window did pace them
