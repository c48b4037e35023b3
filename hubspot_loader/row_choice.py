"""Which of a chunk's rows a load creates, and what happens to the others (skipped, held, synced).

Used by :func:`hubspot_loader.load.load_dataframe` when it has a ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubspot_loader.core.inputs import PreparedChunk
from hubspot_loader.core.model import SKIPPED, UNCHANGED, LoadResult, PreparedInput, RowOutcome
from hubspot_loader.state.ledger import CREATED, LedgerEntry
from hubspot_loader.state.sync import LoadSync, in_doubt_outcome

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient
    from hubspot_loader.sync_step import SyncWrites


def rows_to_create(
    chunk: PreparedChunk,
    sync: LoadSync,
    result: LoadResult,
    writes: SyncWrites | None,
    client: HubSpotClient,
) -> list[PreparedInput]:
    """Record the chunk's rejected and skipped rows; return the inputs to create (in doubt ones held back).

    In the sync modes ``writes`` takes the rows the ledger knows (diffed, queued for update) and those
    with a unique value (looked up, adopted); only the rest are returned for creating.
    """
    known, quick = _looked_up(chunk, sync, writes is not None)
    decided = _Decided()  # the rows the ledger decided, stored column by column in one block
    done = []
    rejected = []
    for row in chunk.rejected:
        if row.key in quick:
            decided.add(row, quick[row.key])
        else:
            if row.key in known:
                sync.known[row.key] = known[row.key]
            rejected.append(row)
    to_send = []
    prints = chunk.prints
    for item in chunk.inputs:
        if item.key in quick:
            decided.add(item, quick[item.key])
        elif item.key in sync.unresolved:
            done.append(in_doubt_outcome(item))
        elif writes is None or prints is None or writes.take(item, known.get(item.key), prints):
            to_send.append(item)
    decided.store(result)
    result.rows.extend(done)
    if writes is not None:
        to_send.extend(writes.adopt_candidates(client))
    for item in to_send:
        if item.key in known:
            sync.known[item.key] = known[item.key]
        if prints is not None:
            sync.prints[item.key] = (
                prints.digest(item.position),
                prints.record(item.position, item.associations),
            )
    if rejected:
        result.rows.extend(sync.settle(rejected))
    return to_send


class _Decided:
    """Rows decided by their brief entry, by status: key, position, trace id and HubSpot id columns."""

    def __init__(self) -> None:
        self.columns: dict[str, tuple[list[str], list[int], list[str | None], list[str | None]]] = {}

    def add(self, row: PreparedInput | RowOutcome, decision: tuple[str, str]) -> None:
        status, hubspot_id = decision
        columns = self.columns.get(status)
        if columns is None:
            columns = self.columns[status] = ([], [], [], [])
        keys, positions, traces, ids = columns
        keys.append(row.key)
        positions.append(row.position)
        traces.append(row.trace_id)
        ids.append(hubspot_id)

    def store(self, result: LoadResult) -> None:
        for status, (keys, positions, traces, ids) in self.columns.items():
            result.rows.extend_decided(keys, positions, traces, status, ids)


def _looked_up(
    chunk: PreparedChunk, sync: LoadSync, syncing: bool
) -> tuple[dict[str, LedgerEntry], dict[str, tuple[str, str]]]:
    """Read the ledger for the chunk: the rows decided by their brief entry alone, and the others' entries.

    Decided by the brief (:meth:`~hubspot_loader.state.sql_ledger.SqlLedger.briefs`, a lean lookup of
    status, id and digest): in create mode (incremental) a row created earlier is ``skipped``; in a sync mode
    (incremental) one whose digest equals its row's is ``unchanged``. Only the other rows the ledger knows
    are read in full, so a sync of 1M unchanged rows reads 1M briefs and no entry. The decided rows are
    returned as key -> ``(status, hubspot_id)``.
    """
    briefs = sync.briefs([item.key for item in chunk.inputs] + [row.key for row in chunk.rejected])
    quick: dict[str, tuple[str, str]] = {}
    prints = chunk.prints
    if sync.mode == "incremental":
        digests = prints.digests() if prints is not None and briefs else None  # one pass for the chunk
        base = prints.base if prints is not None else 0
        for item in chunk.inputs:
            brief = briefs.get(item.key)
            if brief is None or brief[0] != CREATED or not brief[1]:
                continue
            same = digests is not None and brief[2] == digests[item.position - base]
            if not syncing:
                sync.changed_skipped += bool(brief[2]) and prints is not None and not same
                status = SKIPPED
            elif same:
                status = UNCHANGED
            else:
                continue
            quick[item.key] = (status, brief[1])
        for row in chunk.rejected:  # in the sync modes a bad cell fails its row even when the key is known
            brief = briefs.get(row.key)
            if not syncing and brief is not None and brief[0] == CREATED and brief[1]:
                quick[row.key] = (SKIPPED, brief[1])
    rest = [key for key in briefs if key not in quick]
    return (sync.lookup_keys(rest) if rest else {}), quick
