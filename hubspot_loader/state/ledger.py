"""Sync state (the *ledger*): which warehouse rows exist in which HubSpot portal, under which id.

The ledger makes loads incremental and crash-safe. For every (portal, object type, row key) it keeps the
HubSpot id, a hash of the payload last sent, the first and last run that sent the row, and a status:

``pending``
    the row was (or is about to be) sent and no answer has settled it: *in doubt*. Every batch is written
    ahead as pending **before** its first request leaves, so after a crash (even ``SIGKILL``) the next
    run knows exactly which rows may have been created without an answer, and reconciles them (reads
    them back by their unique property) before anything is resent.
``created``
    HubSpot holds the object; ``hubspot_id`` is its id. Incremental runs skip the row.
``failed``
    HubSpot (or the loader) rejected the row; ``error`` says why. The next run retries it.

:class:`SyncLedger` is the interface :func:`hubspot_loader.load.load_dataframe` uses. One implementation,
:class:`~hubspot_loader.state.sql_ledger.SqlLedger`, serves SQLite and PostgreSQL through SQLAlchemy Core;
:func:`open_ledger` opens it from a state URL (``sqlite:///PATH``, ``postgresql+psycopg://…``) and
:func:`default_state_url` names the default. :class:`SQLiteLedger` (``SQLiteLedger(path)``) is the same
ledger on a SQLite file: WAL mode, safe to share between the client's worker threads and between
processes on one machine.

Schema (``schema_version`` 2; see :mod:`hubspot_loader.state.schema`, which migrates version 1 on open)::

    CREATE TABLE sync_rows (
        portal           TEXT NOT NULL,  -- portal identity (see default_portal); never the token
        object_type      TEXT NOT NULL,  -- as given to the load: contacts, companies, 0-3, p_vendor ...
        row_key          TEXT NOT NULL,  -- the warehouse key (the key column's formatted value)
        hubspot_id       TEXT,           -- the object's id once known
        content_hash     TEXT,           -- sha256 of the last payload sent (properties + associations)
        first_run_id     TEXT,           -- the run that first sent (or first recorded) the row
        last_run_id      TEXT,           -- the run that last sent or settled the row
        status           TEXT NOT NULL CHECK (status IN ('pending', 'created', 'failed')),
        error            TEXT,           -- why the last attempt failed (NULL after success)
        updated_at       TEXT NOT NULL,  -- ISO 8601 UTC
        partition        TEXT,           -- the Dagster partition key of the run that last sent the row
        unique_property  TEXT,           -- the property the row can be looked up by (email, external id)
        unique_value     TEXT,           -- its value in the last payload sent (for reconciliation)
        lease_owner      TEXT,           -- version 2: the run holding the row while it sends it
        lease_expires_at TIMESTAMPTZ,    -- version 2: until when (ISO 8601 UTC text on SQLite)
        sent_fingerprint TEXT,           -- version 2: per-property fingerprints of what was sent (JSON)
        PRIMARY KEY (portal, object_type, row_key)
    );
    CREATE INDEX sync_rows_status ON sync_rows (portal, object_type, status);
    CREATE INDEX sync_rows_lease ON sync_rows (lease_owner) WHERE lease_owner IS NOT NULL;
    CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);  -- schema_version

``unique_property``/``unique_value`` go beyond the minimum: they let a pending row be reconciled even
when it is no longer in the frame or its data changed. For contacts the value is an email address, so
the state holds personal data: keep it where the warehouse extract would be kept.

The access token is never stored. The portal identity is a caller-given string (the HubSpot account
id is the best choice); :func:`default_portal` derives one from the API base URL and the first 12 hex
digits of the token's SHA-256, which identifies the token without revealing it. Rotating the token
changes that default identity, so set ``portal`` explicitly in production.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from hubspot_loader.core.secrets import token_fingerprint as token_fingerprint
from hubspot_loader.state.entries import (
    ALREADY_CREATED,
    CREATED,
    FAILED,
    IN_FLIGHT,
    PENDING,
    UNRECONCILED,
    Brief,
    Claim,
    LedgerEntry,
    PendingRow,
    Refusal,
    RefusalReason,
    Settlement,
)
from hubspot_loader.state.location import STATE_URL_ENV, default_state_url
from hubspot_loader.state.schema import SCHEMA_VERSION
from hubspot_loader.state.sql_ledger import SQLiteLedger, SqlLedger, open_ledger
from hubspot_loader.state.store_errors import (
    LedgerError,
    LedgerSchemaError,
    LedgerUnavailableError,
    StateUrlError,
)


@runtime_checkable
class SyncLedger(Protocol):
    """The sync-state store :func:`~hubspot_loader.load.load_dataframe` reads and writes.

    Implementations must be safe to call from several threads at once (``mark_pending`` runs in the
    client's worker threads) and must make ``mark_pending`` durable before returning: the batch is sent
    right after it. The lease arguments are optional: without them the methods behave as in schema
    version 1 (one writer per portal and object type at a time).
    """

    def lookup(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Return the entries of ``keys`` that exist, by row key."""
        ...

    def briefs(self, portal: str, object_type: str, keys: Iterable[str]) -> dict[str, Brief]:
        """Return ``(status, hubspot_id, content_hash)`` of the ``keys`` that exist, by key (lean lookup)."""
        ...

    def in_doubt(self, portal: str, object_type: str) -> list[LedgerEntry]:
        """Return every ``pending`` entry of the object type (rows an interrupted run may have created)."""
        ...

    def mark_pending(
        self,
        portal: str,
        object_type: str,
        rows: Sequence[PendingRow],
        *,
        run_id: str,
        partition: str | None = None,
        lease_owner: str | None = None,
        lease_seconds: float | None = None,
        resend_created: bool = False,
    ) -> Claim:
        """Write ``rows`` ahead as pending (keeping a known ``hubspot_id`` and ``first_run_id``).

        With ``lease_owner``, claim them for ``lease_seconds`` in the same transaction; rows another owner
        holds, rows created meanwhile and unreconciled pending rows are refused (see
        :meth:`SqlLedger.mark_pending <hubspot_loader.state.sql_ledger.SqlLedger.mark_pending>`).
        """
        ...

    def settle(
        self,
        portal: str,
        object_type: str,
        settlements: Sequence[Settlement],
        *,
        run_id: str,
        partition: str | None = None,
        lease_owner: str | None = None,
    ) -> None:
        """Record the outcome of rows (inserting rows not yet known); end ``lease_owner``'s lease on them."""
        ...

    def id_map(self, portal: str, object_type: str, *, partition: str | None = None) -> dict[str, str]:
        """Row key → HubSpot id of every created row (of one partition when ``partition`` is given)."""
        ...

    def forget(self, portal: str, object_type: str, keys: Sequence[str]) -> int:
        """Delete the rows of ``keys`` (records a mirror archived); return how many rows were deleted."""
        ...

    def claim_in_doubt(
        self, portal: str, object_type: str, *, lease_owner: str, lease_seconds: float
    ) -> list[LedgerEntry]:
        """Lease and return the pending rows no other owner holds a live lease on (to reconcile them)."""
        ...

    def release_leases(self, lease_owner: str) -> int:
        """End every lease ``lease_owner`` holds; return how many rows it held."""
        ...

    def renew_leases(self, lease_owner: str, lease_seconds: float) -> int:
        """Extend every lease ``lease_owner`` holds to ``lease_seconds`` from now; return how many."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


def content_hash(properties: dict[str, str], associations: Sequence[dict[str, Any]] = ()) -> str:
    """SHA-256 of the canonical JSON of a payload's properties and associations (not its trace id)."""
    body = {"properties": properties, "associations": list(associations)}
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def default_portal(base_url: str, fingerprint: str) -> str:
    """Return the default portal identity ``"<base_url>#<token fingerprint>"`` (see the module docstring)."""
    return f"{base_url.rstrip('/')}#{fingerprint}"


__all__ = [
    "ALREADY_CREATED",
    "CREATED",
    "FAILED",
    "IN_FLIGHT",
    "PENDING",
    "SCHEMA_VERSION",
    "STATE_URL_ENV",
    "UNRECONCILED",
    "Brief",
    "Claim",
    "LedgerEntry",
    "LedgerError",
    "LedgerSchemaError",
    "LedgerUnavailableError",
    "PendingRow",
    "Refusal",
    "RefusalReason",
    "SQLiteLedger",
    "Settlement",
    "SqlLedger",
    "StateUrlError",
    "SyncLedger",
    "content_hash",
    "default_portal",
    "default_state_url",
    "open_ledger",
    "token_fingerprint",
]
