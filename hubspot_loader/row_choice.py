"""Which of a chunk's rows a load creates, and what happens to the others (skipped, held, synced).

Used by :func:`hubspot_loader.load.load_dataframe` when it has a ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hubspot_loader.core.inputs import PreparedChunk
from hubspot_loader.core.model import SKIPPED, UNCHANGED, LoadResult, PreparedInput, RowOutcome
from hubspot_loader.state.brief_table import CREATED as TABLE_CREATED
from hubspot_loader.state.brief_table import EXACT, OTHER, ChunkBriefs
from hubspot_loader.state.entries import Brief
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
    decided = _Decided()  # the rows the ledger decided, stored column by column in one block
    known = _looked_up(chunk, sync, writes is not None, decided)
    quick = decided.keys
    done = []
    rejected = []
    for row in chunk.rejected:
        if row.key not in quick:
            if row.key in known:
                sync.known[row.key] = known[row.key]
            rejected.append(row)
    to_send = []
    prints = chunk.prints
    for item in chunk.inputs:
        if item.key in quick:
            continue
        if item.key in sync.unresolved:
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
    """Rows decided by their brief entry alone, by status, with their HubSpot ids; ``keys``: all of them."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.by_status: dict[str, tuple[list[PreparedInput | RowOutcome], list[str | None]]] = {}
        self.coded: list[tuple[str, list[PreparedInput | RowOutcome], np.ndarray]] = []

    def add(self, row: PreparedInput | RowOutcome, status: str, hubspot_id: str) -> None:
        rows_ids = self.by_status.get(status)
        if rows_ids is None:
            rows_ids = self.by_status[status] = ([], [])
        rows_ids[0].append(row)
        rows_ids[1].append(hubspot_id)
        self.keys.add(row.key)

    def add_coded(self, rows: list[PreparedInput | RowOutcome], status: str, id_codes: np.ndarray) -> None:
        """Add ``rows`` of one ``status`` with their HubSpot ids as the row store's codes (one per row)."""
        if rows:
            self.coded.append((status, rows, id_codes))
            self.keys.update(row.key for row in rows)

    def store(self, result: LoadResult) -> None:
        """Add the decided rows to ``result`` column by column (:meth:`RowOutcomes.extend_decided`)."""
        blocks: list[tuple[str, list[PreparedInput | RowOutcome], Any]] = [
            (status, rows, ids) for status, (rows, ids) in self.by_status.items()
        ]
        for status, rows, ids in blocks + self.coded:
            keys = [row.key for row in rows]
            positions = [row.position for row in rows]
            traces = [row.trace_id for row in rows]
            result.rows.extend_decided(keys, positions, traces, status, ids)


def _looked_up(
    chunk: PreparedChunk, sync: LoadSync, syncing: bool, decided: _Decided
) -> dict[str, LedgerEntry]:
    """Read the ledger for the chunk; return the entries of the rows its briefs do not decide.

    The rows decided by their brief entry alone go into ``decided``. Decided by the brief (status, id and
    digest): in create mode (incremental) a row created earlier is ``skipped``; in a sync mode
    (incremental) one whose digest equals its row's is ``unchanged``. Only the other rows the ledger knows
    are read in full, so a sync of 1M unchanged rows reads 1M briefs and no entry.

    The briefs come from the object type's scanned table when the load has one
    (:meth:`~hubspot_loader.state.sync.LoadSync.brief_table`), matched in arrays; otherwise, and for the
    keys the table cannot answer exactly, from a lean lookup by key
    (:meth:`~hubspot_loader.state.sql_ledger.SqlLedger.briefs`).
    """
    keys = [item.key for item in chunk.inputs] + [row.key for row in chunk.rejected]
    table = sync.brief_table()
    rest: list[str] = []
    if table is None:
        briefs = sync.briefs(keys)
    else:
        matched = table.match(keys)
        rest = _decide_by_table(chunk, sync, syncing, decided, keys, matched)
        exact = np.flatnonzero(matched.kind == EXACT).tolist()
        briefs = sync.briefs([keys[i] for i in exact]) if exact else {}
    if sync.mode == "incremental" and briefs:
        _decide_by_briefs(chunk, sync, syncing, decided, briefs)
    rest += [key for key in briefs if key not in decided.keys]
    return sync.lookup_keys(rest) if rest else {}


def _decide_by_briefs(
    chunk: PreparedChunk, sync: LoadSync, syncing: bool, decided: _Decided, briefs: dict[str, Brief]
) -> None:
    """Decide the chunk's rows that have a brief in ``briefs`` (an incremental load), row by row."""
    prints = chunk.prints
    digests = prints.digests() if prints is not None else None  # one pass for the chunk
    base = prints.base if prints is not None else 0
    for item in chunk.inputs:
        brief = briefs.get(item.key)
        if brief is None:
            continue
        status, hubspot_id, digest = brief
        if status != CREATED or not hubspot_id:
            continue
        same = digests is not None and digest == digests[item.position - base]
        if not syncing:
            sync.changed_skipped += bool(digest) and prints is not None and not same
            decided.add(item, SKIPPED, hubspot_id)
        elif same:
            decided.add(item, UNCHANGED, hubspot_id)
    for row in chunk.rejected:  # in the sync modes a bad cell fails its row even when the key is known
        brief = briefs.get(row.key)
        if not syncing and brief is not None and brief[0] == CREATED and brief[1]:
            decided.add(row, SKIPPED, brief[1])


def _decide_by_table(
    chunk: PreparedChunk,
    sync: LoadSync,
    syncing: bool,
    decided: _Decided,
    keys: list[str],
    matched: ChunkBriefs,
) -> list[str]:
    """Decide the chunk's rows by their briefs in ``matched`` (as :func:`_decide_by_briefs`, in arrays).

    Returns the keys of the rows the ledger knows that are not decided (their full entries are read);
    the :data:`~hubspot_loader.state.brief_table.EXACT` ones are left to a lookup by key.
    """
    kind = matched.kind
    known = (kind == TABLE_CREATED) | (kind == OTHER)
    if sync.mode != "incremental":
        return [keys[i] for i in np.flatnonzero(known).tolist()]
    inputs, prints = chunk.inputs, chunk.prints
    count = len(inputs)
    created = kind == TABLE_CREATED
    same = np.zeros(len(keys), dtype=bool)
    if prints is not None and count:
        digests = prints.digest_values()
        if count < prints.rows:  # rows were rejected: the inputs' own positions (else all rows, in order)
            offsets = np.fromiter((item.position for item in inputs), dtype=np.int64, count=count)
            digests = digests[offsets - prints.base]
        same[:count] = created[:count] & matched.has_digest[:count] & (matched.digests[:count] == digests)
    if syncing:
        chosen = same  # rejected rows are never ``same``: they fail even when the key is known
        status = UNCHANGED
    else:
        chosen = created
        status = SKIPPED
        if prints is not None:
            sync.changed_skipped += int(np.count_nonzero((created & matched.has_digest & ~same)[:count]))
    rows: list[PreparedInput | RowOutcome] = [*inputs, *chunk.rejected]
    picked = np.flatnonzero(chosen)
    decided.add_coded([rows[i] for i in picked.tolist()], status, matched.id_codes[picked])
    return [keys[i] for i in np.flatnonzero(known & ~chosen).tolist()]
