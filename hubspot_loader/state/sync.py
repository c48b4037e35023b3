"""One load's view of the sync ledger: which rows to skip, write-ahead, settlement, reconciliation.

:func:`hubspot_loader.load.load_dataframe` builds a :class:`LoadSync` when it is given a ledger (see
``docs/ledger.md`` and the :mod:`hubspot_loader.load` module docstring for the protocol).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hubspot_loader.core.model import (
    CREATED,
    FAILED,
    HUBSPOT_PENDING,
    RECONCILED,
    SKIPPED,
    SKIPPED_IN_FLIGHT,
    TRANSPORT_ERROR,
    UNMATCHED_RESULT,
    LoadResult,
    PreparedInput,
    RowError,
    RowOutcome,
)
from hubspot_loader.errors import (
    HubSpotAuthenticationError,
    HubSpotError,
    HubSpotScopeError,
    parse_existing_id,
)
from hubspot_loader.state import brief_table
from hubspot_loader.state import ledger as ledger_mod
from hubspot_loader.state.brief_table import BriefTable
from hubspot_loader.state.leases import LeaseKeeper
from hubspot_loader.state.ledger import Claim, PendingRow, Settlement, SyncLedger, content_hash

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

SyncMode = Literal["incremental", "full_refresh"]

IN_DOUBT = "IN_DOUBT"
"""Error category of a row left in doubt by an earlier run that could not be reconciled (not sent)."""

#: Failure categories after which the row may nevertheless exist in HubSpot: the ledger keeps it pending.
IN_DOUBT_CATEGORIES = frozenset({TRANSPORT_ERROR, UNMATCHED_RESULT, HUBSPOT_PENDING})

ARCHIVING = "ARCHIVING: mirror archives this record; the answer was not recorded"
"""The ledger's ``error`` of a pending row whose record mirror mode was archiving: the next run reads the
record by id (:meth:`LoadSync.reconcile_in_doubt`) instead of looking it up by its unique value."""

HELD_NOTE = f"{HUBSPOT_PENDING}: "
"""How the ledger's ``error`` of a pending row starts when HubSpot answered ``PENDING``/``PROCESSING`` without
it and it has no unique value: :meth:`LoadSync.reconcile_in_doubt` never resends such a row blindly."""


@dataclass
class LoadSync:
    """One load's view of the ledger: where its rows are recorded and how they are chosen."""

    ledger: SyncLedger
    portal: str
    object_type: str
    mode: SyncMode
    run_id: str
    partition: str | None
    unique_property: str | None
    lease: LeaseKeeper | None = None
    """The load's row leases (:mod:`hubspot_loader.state.leases`); ``None``: unleased (a single writer)."""
    rows_expected: int = 0
    """How many rows the load looks up: with many, the ledger may scan the object type's briefs at once
    (:meth:`brief_table`) instead of looking each key up."""
    unresolved: set[str] = field(default_factory=set, init=False)
    """Keys left in doubt by an earlier run that could not be reconciled: not sent in this run."""
    known: dict[str, ledger_mod.LedgerEntry] = field(default_factory=dict, init=False)
    """Ledger entries of the rows taken for sending (by key), until they are settled."""
    changed_skipped: int = field(default=0, init=False)
    """Rows skipped as created whose content changed since (counted for a warning)."""
    held: set[str] = field(default_factory=set, init=False)
    """Keys the ledger refused to this load when it wrote their batch ahead (another load holds or created
    them): their outcomes are passed through by :meth:`settle` without being recorded."""
    prints: dict[str, tuple[str, str]] = field(default_factory=dict, init=False)
    """Fingerprint (digest, record) of each row taken for creating (by key), until it is settled: written
    ahead with the row and kept by the ledger once it is created (:mod:`hubspot_loader.core.fingerprints`)."""

    _table: BriefTable | None = field(default=None, init=False, repr=False)
    _table_read: bool = field(default=False, init=False, repr=False)

    def brief_table(self) -> BriefTable | None:
        """Return the briefs of the object type's ledger rows scanned at once, or ``None``: look keys up.

        Read on first use (the ledger's ``brief_table``, e.g.
        :meth:`~hubspot_loader.state.sql_ledger.SqlLedger.brief_table`, decides whether the scan is cheaper
        for :attr:`rows_expected` rows); a ledger without that method is looked up by key.
        """
        if not self._table_read:
            self._table_read = True
            scan = getattr(self.ledger, "brief_table", None)
            if scan is not None and self.rows_expected > 0:
                self._table = scan(self.portal, self.object_type, self.rows_expected)
        return self._table

    def created_by_table(self, keys: Sequence[str]) -> tuple[list[str], list[str]] | None:
        """Split ``keys`` by the scanned table: (created with an id, others the ledger may know).

        The second list is to be looked up by key (pending or failed rows, and what the table cannot say
        exactly); keys in neither are not in the ledger. ``None``: no table (:meth:`brief_table`).
        """
        table = self.brief_table()
        if table is None:
            return None
        kind = table.match(keys).kind
        created = np.flatnonzero(kind == brief_table.CREATED).tolist()
        others = np.flatnonzero((kind == brief_table.OTHER) | (kind == brief_table.EXACT)).tolist()
        return [keys[i] for i in created], [keys[i] for i in others]

    def lookup(self, chunk: Any) -> dict[str, ledger_mod.LedgerEntry]:
        """Return the ledger entries of a prepared chunk's rows (inputs and rejected), by key."""
        return self.lookup_keys([item.key for item in chunk.inputs] + [row.key for row in chunk.rejected])

    def briefs(self, keys: Sequence[str]) -> dict[str, ledger_mod.Brief]:
        """Return the lean entries ``(status, hubspot_id, content_hash)`` of ``keys``, by key."""
        return self.ledger.briefs(self.portal, self.object_type, keys)

    def lookup_keys(self, keys: Sequence[str]) -> dict[str, ledger_mod.LedgerEntry]:
        """Return the ledger entries of ``keys`` (formatted keys: always valid text, see ``inputs``)."""
        return self.ledger.lookup(self.portal, self.object_type, keys)

    def pending_row(self, item: PreparedInput) -> PendingRow:
        """Return the write-ahead record of ``item``: its key, content hash and unique value."""
        value = item.properties.get(self.unique_property) if self.unique_property else None
        printed = self.prints.get(item.key)
        return PendingRow(
            row_key=item.key,
            content_hash=printed[0] if printed else content_hash(item.properties, item.associations),
            unique_property=self.unique_property if value else None,
            unique_value=str(value).strip() if value else None,
            fingerprint=printed[1] if printed else None,
        )

    @property
    def lease_owner(self) -> str | None:
        """The load's lease owner in the ledger (``None``: unleased)."""
        return self.lease.owner if self.lease is not None else None

    def write_ahead(self, index: int, rows: list[PreparedInput]) -> dict[str, RowOutcome] | None:
        """Mark batch ``index``'s rows pending before its first request (the client's ``before_send``).

        Leased, the rows are claimed in the same transaction, and the outcomes of rows the ledger refuses
        are returned by trace id (not sent): ``skipped_in_flight`` while another load holds a row,
        ``skipped`` when it was created meanwhile, failed ``IN_DOUBT`` when it is pending and nobody's
        (reconciled by the next run).
        """
        lease = self.lease
        claim = self.ledger.mark_pending(
            self.portal,
            self.object_type,
            [self.pending_row(r) for r in rows],
            run_id=self.run_id,
            partition=self.partition,
            lease_owner=lease.owner if lease is not None else None,
            lease_seconds=lease.seconds if lease is not None else None,
            resend_created=self.mode == "full_refresh",
        )
        return self._refused(rows, claim) if claim.refused else None

    def _refused(self, rows: list[PreparedInput], claim: Claim) -> dict[str, RowOutcome]:
        """Return the outcomes of the rows ``claim`` refused, by trace id; hold their keys (not recorded)."""
        outcomes: dict[str, RowOutcome] = {}
        for item in rows:
            refusal = claim.refused.get(item.key)
            if refusal is None:
                continue
            self.held.add(item.key)
            if refusal.reason == ledger_mod.UNRECONCILED:
                outcomes[item.trace_id] = in_doubt_outcome(item)
                continue
            status = SKIPPED_IN_FLIGHT if refusal.reason == ledger_mod.IN_FLIGHT else SKIPPED
            outcomes[item.trace_id] = RowOutcome(
                key=item.key,
                position=item.position,
                status=status,
                hubspot_id=refusal.entry.hubspot_id,
                trace_id=item.trace_id,
            )
        return outcomes

    def settle(self, rows: Sequence[RowOutcome]) -> list[RowOutcome]:
        """Record the outcomes in the ledger; return them, with self-conflicts turned into SKIPPED.

        A row in doubt (:data:`IN_DOUBT_CATEGORIES`) stays pending with its error; one that HubSpot
        answered ``PENDING`` for (:data:`~hubspot_loader.core.model.HUBSPOT_PENDING`) keeps :data:`HELD_NOTE`
        in front of it, so that no later run resends it blindly.
        """
        settlements: list[Settlement] = []
        out: list[RowOutcome] = []
        for row in rows:
            entry = self.known.pop(row.key, None)
            self.prints.pop(row.key, None)
            if row.key in self.held:  # another load's row: its outcome is reported, the ledger left alone
                self.held.discard(row.key)
                out.append(row)
                continue
            prior_id = entry.hubspot_id if entry is not None else None
            error = row.error
            if row.status in (CREATED, RECONCILED) and row.hubspot_id:
                settlements.append(Settlement(row.key, ledger_mod.CREATED, hubspot_id=row.hubspot_id))
            elif error is not None and error.category in IN_DOUBT_CATEGORIES:
                note = HELD_NOTE if error.category == HUBSPOT_PENDING else ""
                settlements.append(
                    Settlement(
                        row.key, ledger_mod.PENDING, hubspot_id=prior_id, error=_text(note + error.message)
                    )
                )
            elif (
                prior_id is not None
                and error is not None
                and error.category == "CONFLICT"
                and parse_existing_id(error.message) == prior_id
            ):
                row = RowOutcome(
                    key=row.key,
                    position=row.position,
                    status=SKIPPED,
                    hubspot_id=prior_id,
                    trace_id=row.trace_id,
                    batch_index=row.batch_index,
                )
                settlements.append(Settlement(row.key, ledger_mod.CREATED, hubspot_id=prior_id))
            elif prior_id is not None and entry is not None and entry.status == ledger_mod.CREATED:
                # full refresh of a row that exists: the object stays; remember why the resend failed
                message = _text(error.message) if error is not None else row.status
                settlements.append(
                    Settlement(row.key, ledger_mod.CREATED, hubspot_id=prior_id, error=message)
                )
            else:
                message = _text(error.message) if error is not None else row.status
                settlements.append(Settlement(row.key, ledger_mod.FAILED, error=message))
            out.append(row)
        if settlements:
            self.ledger.settle(
                self.portal,
                self.object_type,
                settlements,
                run_id=self.run_id,
                partition=self.partition,
                lease_owner=self.lease_owner,
            )
        return out

    def reconcile_in_doubt(self, client: HubSpotClient, result: LoadResult) -> None:
        """Settle the rows an interrupted earlier run left pending, before anything is sent.

        Rows with a unique value are looked up (found: created; not found: failed, so sent again). Rows
        without one that HubSpot answered ``PENDING``/``PROCESSING`` for (:data:`HELD_NOTE`) stay
        pending and are not sent; the other rows without one follow ``client.resend_ambiguous``.

        Raises:
            HubSpotAuthenticationError, HubSpotScopeError: the lookup was refused (401/403); the load
                stops (any other lookup failure leaves those rows in doubt, unsent, with a warning).

        """
        doubtful = self._in_doubt()
        archiving = [e for e in doubtful if (e.error or "").startswith(ARCHIVING) and e.hubspot_id]
        if archiving:
            self._archived_or_not(client, archiving, result)
            doubtful = [e for e in doubtful if e not in archiving]
        if not doubtful:
            return
        by_prop: dict[str, list[ledger_mod.LedgerEntry]] = {}
        blind: list[ledger_mod.LedgerEntry] = []
        held: list[ledger_mod.LedgerEntry] = []
        for entry in doubtful:
            if entry.unique_property and entry.unique_value:
                by_prop.setdefault(entry.unique_property, []).append(entry)
            elif (entry.error or "").startswith(HELD_NOTE):
                held.append(entry)
            else:
                blind.append(entry)
        settlements: list[Settlement] = []
        found_n = missing_n = 0
        for prop, entries in by_prop.items():
            looked_up = self._look_up(client, prop, entries, result)
            settlements.extend(looked_up)
            found = sum(1 for s in looked_up if s.status == ledger_mod.CREATED)
            found_n += found
            missing_n += len(looked_up) - found
        if held:
            self.unresolved.update(e.row_key for e in held)
            result.warnings.append(
                f"{len(held)} row(s) HubSpot answered PENDING/PROCESSING for in an earlier run have no "
                "unique property value to look them up by: they stay pending and are not sent (a resend "
                "would most likely duplicate them); check them in HubSpot and settle them in the ledger "
                "(docs/ledger.md)"
            )
        if blind:
            settlements.extend(self._blind(client, blind, result))
        if settlements:
            self._settle_reconciled(settlements)
        if found_n or missing_n:
            result.warnings.append(
                f"reconciled {found_n + missing_n} row(s) left in doubt by an earlier run: {found_n} found "
                f"in HubSpot (kept as created), {missing_n} not found (sent again if still in the frame)"
            )

    def _in_doubt(self) -> list[ledger_mod.LedgerEntry]:
        """Return the rows in doubt to reconcile: leased, only those no other load holds (leasing them)."""
        lease = self.lease
        if lease is None:
            return self.ledger.in_doubt(self.portal, self.object_type)
        return self.ledger.claim_in_doubt(
            self.portal, self.object_type, lease_owner=lease.owner, lease_seconds=lease.seconds
        )

    def _settle_reconciled(self, settlements: list[Settlement]) -> None:
        """Record what reconciliation found (ending this load's lease on those rows)."""
        self.ledger.settle(
            self.portal, self.object_type, settlements, run_id=self.run_id, lease_owner=self.lease_owner
        )

    def _archived_or_not(
        self, client: HubSpotClient, entries: list[ledger_mod.LedgerEntry], result: LoadResult
    ) -> None:
        """Settle the records mirror mode was archiving without an answer: read by id, kept or forgotten.

        Still there → created again in the ledger (archived by this run if its key is still gone); gone →
        forgotten (its key, if back in the source, is created or adopted anew). A read that fails (other
        than 401/403, which are raised) leaves them pending and their rows unsent.
        """
        ids = [str(e.hubspot_id) for e in entries]
        try:
            found = {str(r.get("id")) for r in client.batch_read(self.object_type, ids)}
        except (HubSpotAuthenticationError, HubSpotScopeError):
            raise
        except HubSpotError as exc:
            what = "record(s) an earlier mirror run was archiving could not be read"
            self._unreadable(entries, result, f"{what} ({exc}); their rows are not sent in this run")
            return
        live = [e for e in entries if str(e.hubspot_id) in found]
        gone = [e.row_key for e in entries if str(e.hubspot_id) not in found]
        if live:
            self._settle_reconciled(
                [Settlement(e.row_key, ledger_mod.CREATED, hubspot_id=e.hubspot_id) for e in live]
            )
        if gone:
            self.ledger.forget(self.portal, self.object_type, gone)
        result.warnings.append(
            f"an earlier mirror run was archiving {len(entries)} record(s) when it stopped: {len(gone)} are "
            f"archived, {len(live)} are not (archived by this run if their keys are still gone)"
        )

    def _unreadable(self, entries: list[ledger_mod.LedgerEntry], result: LoadResult, why: str) -> None:
        """Hold ``entries``' rows back in this run (their state could not be read) and say so."""
        self.unresolved.update(e.row_key for e in entries)
        result.warnings.append(f"{len(entries)} {why}")

    def _look_up(
        self, client: HubSpotClient, prop: str, entries: list[ledger_mod.LedgerEntry], result: LoadResult
    ) -> list[Settlement]:
        """Look ``entries`` up by ``prop``: created with the id found, else failed (sent again).

        A lookup that fails (other than 401/403, which are raised) leaves them pending and unsent.
        """
        try:
            found = client.find_by_unique(self.object_type, prop, [e.unique_value or "" for e in entries])
        except (HubSpotAuthenticationError, HubSpotScopeError):
            raise
        except HubSpotError as exc:
            what = f"row(s) left in doubt by an earlier run could not be looked up by {prop}"
            self._unreadable(entries, result, f"{what} ({exc}); they are not sent in this run")
            return []
        values = [str(e.unique_value).strip().casefold() for e in entries]
        shared = {v for v in values if values.count(v) > 1}
        settlements = []
        for entry, value in zip(entries, values, strict=True):
            if value in found and value not in shared:
                settlements.append(Settlement(entry.row_key, ledger_mod.CREATED, hubspot_id=found[value]))
            else:
                message = f"in doubt after run {entry.last_run_id}; not found by {prop}: not created"
                settlements.append(Settlement(entry.row_key, ledger_mod.FAILED, error=message))
        return settlements

    def _blind(
        self, client: HubSpotClient, entries: list[ledger_mod.LedgerEntry], result: LoadResult
    ) -> list[Settlement]:
        """Rows in doubt without a unique value (a lost answer, a crash): resent or held back by policy."""
        keys = [e.row_key for e in entries]
        if not client.resend_ambiguous:
            self.unresolved.update(keys)
            result.warnings.append(
                f"{len(entries)} row(s) left in doubt by an earlier run cannot be reconciled (no unique "
                "property value) and resend_ambiguous=False: they stay pending and are not sent; check "
                "them in HubSpot and settle them in the ledger"
            )
            return []
        result.warnings.append(
            f"{len(entries)} row(s) left in doubt by an earlier run have no unique property value to "
            "look them up by; they are sent again and may be duplicated in HubSpot"
        )
        return [
            Settlement(
                k,
                ledger_mod.FAILED,
                error="in doubt after an interrupted run; no unique value to look it up by: resent",
            )
            for k in keys
        ]


def skipped_if_created(
    key: str,
    position: int,
    trace_id: str | None,
    known: Mapping[str, ledger_mod.LedgerEntry],
    sync: LoadSync | None,
) -> RowOutcome | None:
    """Return a SKIPPED outcome when incremental mode finds the row's key created in the ledger."""
    if sync is None or sync.mode != "incremental":
        return None
    entry = known.get(key)
    if entry is None or entry.status != ledger_mod.CREATED or not entry.hubspot_id:
        return None
    return RowOutcome(
        key=key, position=position, status=SKIPPED, hubspot_id=entry.hubspot_id, trace_id=trace_id
    )


def in_doubt_outcome(item: PreparedInput) -> RowOutcome:
    """Return a failed outcome for a row an earlier run left in doubt that could not be looked up."""
    return RowOutcome(
        key=item.key,
        position=item.position,
        status=FAILED,
        error=RowError(
            category=IN_DOUBT,
            message=(
                "not sent: an earlier run may have created this row and it could not be looked up "
                "(see the load's warnings; the ledger keeps it pending)"
            ),
        ),
        trace_id=item.trace_id,
    )


def _text(message: str) -> str:
    """``message`` with any lone surrogate escaped, so the ledger can store it (other text unchanged)."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")
