"""Errors of the sync-state store (the ledger), on both backends.

They derive from :class:`~hubspot_loader.errors.HubSpotLoaderError` and from :class:`RuntimeError` (callers
that caught the SQLite ledger's ``RuntimeError`` for a newer schema keep working). Their text names the
store by its URL with any password masked, never the SQL parameters (row keys and emails).
"""

from __future__ import annotations

from hubspot_loader.errors import HubSpotLoaderError


class LedgerError(HubSpotLoaderError, RuntimeError):
    """The sync state could not be read or written (the database said why)."""

    retryable = False


class LedgerUnavailableError(LedgerError):
    """The database could not be reached or answered with an operational error (locked, gone, full)."""

    retryable = True


class LedgerSchemaError(LedgerError):
    """The database's ledger schema is not one this loader can use (newer, or not a ledger)."""


class StateUrlError(LedgerError, ValueError):
    """The state URL names no store this loader supports, or its driver is not installed."""


__all__ = ["LedgerError", "LedgerSchemaError", "LedgerUnavailableError", "StateUrlError"]
