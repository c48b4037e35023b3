"""Mirror mode's archiving: the records whose keys left the source (``docs/sync-modes.md``, "Mirror safety").

:func:`vanished_records` finds them (after the rows an earlier run left in doubt were reconciled) and
enforces the safety rules before anything is sent; :func:`archive` archives them with ``batch/archive``
(reference §16.4), written ahead in the ledger so that a lost answer or a crash is settled by the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from hubspot_loader.core.model import ARCHIVED, PLANNED, LoadResult, RecordRef, RowOutcome
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import ArchiveLimitError
from hubspot_loader.state import ledger as ledger_mod
from hubspot_loader.state.ledger import Settlement
from hubspot_loader.state.sync import ARCHIVING, IN_DOUBT_CATEGORIES, LoadSync

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient


def vanished_records(
    sync: LoadSync, spec: HubSpotLoadSpec, source_keys: Iterable[str], source_rows: int
) -> list[RecordRef]:
    """Return what mirror mode archives: records this sync created or adopted whose keys left the source.

    A source with no rows archives nothing (an empty extract is far more often a broken upstream than a
    deliberate deletion of everything).

    Raises:
        ArchiveLimitError: more than ``spec.archive_limit`` of the synced records would go; nothing was sent.

    """
    if spec.write_mode != "mirror" or source_rows == 0:
        return []
    synced = sync.ledger.id_map(sync.portal, sync.object_type, partition=sync.partition)
    present = set(source_keys)
    gone = [RecordRef(key, hubspot_id) for key, hubspot_id in synced.items() if key not in present]
    if synced and len(gone) > spec.archive_limit * len(synced):
        share = len(gone) / len(synced)
        raise ArchiveLimitError(
            f"mirror of {spec.object_type} would archive {len(gone)} of the {len(synced)} records this sync "
            f"holds ({share:.0%}), more than archive_limit={spec.archive_limit:g} allows; nothing was sent. "
            "Check the source (a partial extract?), or raise archive_limit (1 allows any share)",
            len(gone),
            len(synced),
        )
    return sorted(gone, key=lambda r: r.key)


def archive(
    client: HubSpotClient | None,
    sync: LoadSync,
    records: Sequence[RecordRef],
    result: LoadResult,
    dry_run: bool,
) -> None:
    """Archive ``records`` (``batch/archive``, reference §16.4), forget them in the ledger, report them.

    Each batch's records are written ahead as pending with :data:`~hubspot_loader.state.sync.ARCHIVING`
    before it is sent, so after a lost answer or a crash the next run reads them by id: still there → kept
    (archived again if their keys are still gone), gone → forgotten (created anew if their keys came back).
    """
    if dry_run or client is None:
        result.archived.extend(
            RowOutcome(key=r.key, position=-1, status=PLANNED, hubspot_id=r.hubspot_id) for r in records
        )
        return
    if not records:
        return
    ids = {r.key: r.hubspot_id for r in records}  # a failed outcome need not carry the id
    ahead = [Settlement(r.key, ledger_mod.PENDING, hubspot_id=r.hubspot_id, error=ARCHIVING) for r in records]
    sync.ledger.settle(sync.portal, sync.object_type, ahead, run_id=sync.run_id, partition=sync.partition)
    for outcome in client.batch_archive(sync.object_type, records):  # in the client's batch size
        outcome.record.index = len(result.batches)
        result.batches.append(outcome.record)
        gone = [r.key for r in outcome.rows if r.status == ARCHIVED]
        if gone:
            sync.ledger.forget(sync.portal, sync.object_type, gone)
        # refused: still the sync's record (archived again by the next run if its key is still gone); no
        # answer: maybe archived, so it stays pending and the next run reads it by id
        kept = [
            Settlement(r.key, ledger_mod.CREATED, hubspot_id=ids[r.key], error=r.error.message)
            for r in outcome.rows
            if r.status != ARCHIVED and r.error is not None and r.error.category not in IN_DOUBT_CATEGORIES
        ]
        if kept:
            sync.ledger.settle(
                sync.portal, sync.object_type, kept, run_id=sync.run_id, partition=sync.partition
            )
        result.archived.extend(outcome.rows)
