"""The shared rate budget of :func:`hubspot_loader.load.load_dataframe`: one window per token in the state DB.

HubSpot's ten-secondly limit counts every request made with a token (reference §7.1), whichever process
makes it. A load with a ledger on a database (PostgreSQL, or a SQLite file: what ``state_url`` and
``state_path`` open) paces its client through a
:class:`~hubspot_loader.state.rate_budget.SharedRateWindow` in that database for as long as it runs, so
that loads with one token in other processes and on other machines using the same state (parallel
partitions, overlapping schedules, a CLI run beside a scheduled one) together stay under the limit
instead of each assuming the whole budget and meeting 429s (``docs/production.md``, "One rate budget").

Not shared: a dry run (it writes nothing to the state), a load without a ledger or with one that is not a
database (a custom :class:`~hubspot_loader.state.ledger.SyncLedger`, an in-memory SQLite), a client whose
limiter already has a shared window, and ``LoadRun(share_rate_budget=False)``. The window lives as long
as the load (the loads of one client in several threads share one window); the state database being
unreachable stops the load as it would through the ledger
(:class:`~hubspot_loader.state.store_errors.LedgerUnavailableError`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from hubspot_loader.state.ledger import SqlLedger, SyncLedger
from hubspot_loader.state.rate_budget import SharedRateWindow, fingerprint_budget_key
from hubspot_loader.state.store_url import is_sqlite

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient


def shared_state_url(ledger: SyncLedger | None) -> URL | None:
    """Return the database URL a load's shared rate window goes in: the ledger's, if it can hold one."""
    if not isinstance(ledger, SqlLedger):
        return None
    url = ledger.url
    if is_sqlite(url) and url.database in (None, "", ":memory:"):
        return None  # a private in-memory database: no other process can see the window
    return url


@contextlib.contextmanager
def shared_rate_budget(
    client: HubSpotClient | None, ledger: SyncLedger | None, *, enabled: bool
) -> Iterator[SharedRateWindow | None]:
    """Pace ``client`` through its token's window in ``ledger``'s database for the block, if it can be.

    Yields the window in use (``None`` when the load is not shared: see the module docstring).
    """
    url = shared_state_url(ledger) if enabled and client is not None else None
    if client is None or url is None:
        yield None
        return
    key = fingerprint_budget_key(client.token_fingerprint)
    with client.limiter.sharing(lambda: SharedRateWindow.open(url, key)) as window:
        yield window if isinstance(window, SharedRateWindow) else None


__all__ = ["shared_rate_budget", "shared_state_url"]
