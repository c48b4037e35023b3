"""Ledgers that scan their briefs for loads of any size, as they do from ``SCAN_MIN_ROWS`` rows on.

So that tests of a few hundred rows run the path a large sync takes (:mod:`hubspot_loader.state.brief_table`):
the ledger's own scan and everything else, only the size threshold lowered.
"""

from __future__ import annotations

from hubspot_loader.state.brief_scan import SCAN_MIN_ROWS
from hubspot_loader.state.brief_table import BriefTable
from hubspot_loader.state.ledger import SQLiteLedger, SqlLedger


class ScanningSqlLedger(SqlLedger):
    """:class:`SqlLedger` (any state URL) scanning for every load."""

    def brief_table(self, portal: str, object_type: str, rows: int) -> BriefTable | None:
        return super().brief_table(portal, object_type, max(rows, SCAN_MIN_ROWS))


class ScanningLedger(ScanningSqlLedger, SQLiteLedger):
    """:class:`SQLiteLedger` (a file path) scanning for every load."""


def open_scanning_ledger(state_url: str) -> SqlLedger:
    """:func:`~hubspot_loader.state.ledger.open_ledger` (SQLite or PostgreSQL), scanning for every load."""
    return ScanningSqlLedger(state_url)
