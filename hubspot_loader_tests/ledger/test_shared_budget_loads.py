"""Issue #14: every load with a ledger in a database paces through its token's window in that database.

Two loads at once, each with its own client and limiter (as two processes or pods have), one token and one
state database, against a sandbox that allows 6 requests per second and answers after 200 ms: together
they stay under the limit (HubSpot answers no 429) and each row is created once. (Without sharing, the
same two loads met 4-6 429s in each of three runs on an idle machine, none in one run on a loaded one:
too rare to make a test of; ``benchmarks/shared_budget.py --no-shared`` measures it.) The window is the
state database's ``rate_budgets``/``rate_budget_slots`` (:mod:`hubspot_loader.state.rate_budget`); a
load that does not share (``share_rate_budget=False``, a dry run) leaves no trace there.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubspot_loader.core.model import CREATED, LoadResult
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.ratelimit import RateLimiter
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import SqlLedger
from hubspot_loader.state.rate_budget import SharedRateWindow, budget_key

from .conftest import PORTAL, contacts_frame, load_together, sandbox_id_map

SPEC = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off", batch_size=5)
LIMIT, WINDOW_MS = 6, 1000
ROWS = 60  # 12 batches per load


def budget_rows(ledger: SqlLedger) -> list[tuple[str, int | None, float | None]]:
    """The state database's budgets: ``(budget_key, server_limit, server_window_s)``; [] without the table."""
    engine = sa.create_engine(ledger.url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("rate_budgets"):
                return []
            query = "SELECT budget_key, server_limit, server_window_s FROM rate_budgets"
            return [(str(k), m, w) for k, m, w in conn.execute(sa.text(query)).all()]
    finally:
        engine.dispose()


def _two_loads_at_once(
    sandbox: SandboxHandle, clients: list[HubSpotClient], ledgers: list[SqlLedger], *, share: bool
) -> list[LoadResult]:
    """Load 60 contacts per client at the same moment, each with its own ledger connection."""

    def load(i: int) -> Callable[[], LoadResult]:
        frame = contacts_frame(ROWS, start=i * ROWS, tag=f"sb{i}")
        run = LoadRun(portal=PORTAL, share_rate_budget=share)
        return lambda: load_dataframe(frame, SPEC, client=clients[i], ledger=ledgers[i], run=run)

    results = load_together([load(i) for i in range(len(clients))])
    for result in results:
        assert result.rows.status_counts() == {CREATED: ROWS}
    assert len(sandbox_id_map(sandbox)) == len(clients) * ROWS  # each row once
    return results


def limited_sandbox(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A sandbox allowing 6 requests per second, answering after 200 ms (so 429s are possible)."""
    return sandbox_factory(
        rate_limit_per_10s=LIMIT, rate_limit_window_ms=WINDOW_MS, faults=FaultConfig(latency_ms=200)
    )


def test_two_loads_with_one_token_and_one_state_stay_under_the_limit_together(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    ledgers: Callable[[], SqlLedger],
) -> None:
    sandbox = limited_sandbox(sandbox_factory)
    clients = [client_for(sandbox, max_in_flight=2) for _ in range(2)]
    opened = [ledgers() for _ in clients]
    _two_loads_at_once(sandbox, clients, opened, share=True)  # 24 requests: 4 windows' worth of budget
    assert sandbox.counters().get("rate_limited", 0) == 0, sandbox.counters()
    # the window they shared: the token's budget, capped by the limit HubSpot stated to either of them
    assert budget_rows(opened[0]) == [(budget_key(sandbox.token), LIMIT, WINDOW_MS / 1000)]
    for client in clients:
        assert client.limiter.shared is None  # the load's window was closed when it ended


def test_no_sharing_when_turned_off_or_in_a_dry_run(
    sandbox: SandboxHandle,
    client_for: Callable[..., HubSpotClient],
    ledgers: Callable[[], SqlLedger],
) -> None:
    ledger = ledgers()
    frame = contacts_frame(10, tag="ns")
    client = client_for(sandbox)
    load_dataframe(frame, SPEC, client=client, ledger=ledger, run=LoadRun(portal=PORTAL), dry_run=True)
    off = LoadRun(portal=PORTAL, share_rate_budget=False)
    result = load_dataframe(frame, SPEC, client=client, ledger=ledger, run=off)
    assert result.rows.status_counts() == {CREATED: 10}
    assert budget_rows(ledger) == []
    # a load without a ledger has nothing to share through
    load_dataframe(contacts_frame(5, start=10, tag="ns"), SPEC, client=client)
    assert budget_rows(ledger) == [] and client.limiter.shared is None


def test_a_limiter_with_its_own_window_keeps_it(
    sandbox: SandboxHandle, ledgers: Callable[[], SqlLedger], tmp_path: Path
) -> None:
    own = SharedRateWindow.for_state(f"sqlite:///{tmp_path / 'budget.sqlite'}", sandbox.token)
    limiter = RateLimiter(learn=True, shared=own)
    ledger = ledgers()
    with HubSpotClient(sandbox.token, base_url=sandbox.base_url, rate_limiter=limiter) as client:
        run = LoadRun(portal=PORTAL)
        load_dataframe(contacts_frame(10, tag="own"), SPEC, client=client, ledger=ledger, run=run)
    assert limiter.shared is own and len(own.stamps()) == 2
    assert budget_rows(ledger) == []  # not the ledger's database: the owner's window
    own.close()


@pytest.mark.parametrize("users", [1, 3])
def test_sharing_opens_one_window_for_the_blocks_running_at_once(users: int, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    opened: list[SharedRateWindow] = []

    def open_window() -> SharedRateWindow:
        opened.append(SharedRateWindow.for_state(url, "pat-sharing-test"))
        return opened[-1]

    limiter = RateLimiter(10)
    blocks = [limiter.sharing(open_window) for _ in range(users)]
    windows = [block.__enter__() for block in blocks]
    assert len(opened) == 1 and all(w is opened[0] for w in windows) and limiter.shared is opened[0]
    limiter.reserve()
    assert len(opened[0].stamps()) == 1
    for block in blocks[:-1]:
        block.__exit__(None, None, None)
        assert limiter.shared is opened[0]  # still in use by the last block
    blocks[-1].__exit__(None, None, None)
    assert limiter.shared is None
    with pytest.raises(Exception, match="closed"):
        opened[0].stamps()
