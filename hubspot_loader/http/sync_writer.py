"""Writing the batches of the sync modes: ``batch/update`` and ``batch/archive`` (reference §16.1, §16.4).

Both go through the retry loop batch create uses (:class:`~hubspot_loader.http.group_writer.GroupWriter`).
Both writes are idempotent, so a retryable failure (ten-secondly 429, 5xx, no answer) is simply resent,
with no reconciliation: writing the same values twice leaves the record as writing them once.

Update (:class:`UpdateWriter`): each input is matched to HubSpot's answer by ``objectWriteTraceId``, else
by record id (HubSpot does not keep result order, §5.9). A result makes the row
:data:`~hubspot_loader.core.model.UPDATED` with the result's id; a 207 error item fails the rows its
``context.ids`` (``OBJECT_NOT_FOUND`` names the missing ids, §16.1) and/or ``context.objectWriteTraceId``
(§5.3) name. An input in neither after a ``COMPLETE`` answer fails ``UNMATCHED_RESULT``: HubSpot drops
the id of a merged record silently (§16.1). After a ``CANCELED``/``PENDING``/``PROCESSING`` answer (§16.8)
such inputs are resent while the retries last. A whole-batch 400/409 that names no input is isolated by
splitting, within the load's split budget; the whole-batch 400 ``Duplicate IDs found in batch input``
fails the inputs whose ids it names (or that repeat an id) with HubSpot's message and resends the others.

Archive (:class:`ArchiveWriter`): HubSpot answers 204 without a body whatever the records' state, ids that
name no record included (§16.4), so every input of a 2xx answer is
:data:`~hubspot_loader.core.model.ARCHIVED`; a whole-batch failure fails every input of it with
HubSpot's reason (there is nothing per input to isolate).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hubspot_loader.core.batching import row_error
from hubspot_loader.core.model import (
    ARCHIVED,
    FAILED,
    UNMATCHED_RESULT,
    UPDATED,
    BatchOutcome,
    BatchRecord,
    RecordRef,
    RowError,
    RowOutcome,
    UpdateInput,
)
from hubspot_loader.http.batch_state import BatchState
from hubspot_loader.http.group_writer import SPLIT_STATUSES, GroupWriter, Retry
from hubspot_loader.http.reconcile import INCOMPLETE_STATUSES
from hubspot_loader.http.transport import Answer

#: The start of HubSpot's whole-batch 400 for an id sent twice in one update (reference §16.1).
DUPLICATE_IDS = "Duplicate IDs found in batch input"
_BRACKETED = re.compile(r"\[([^\]]*)\]")


def _texts(context: Any, key: str) -> list[str]:
    """Return the strings of ``context[key]`` (a list, or one string)."""
    if not isinstance(context, Mapping):
        return []
    values = context.get(key)
    if isinstance(values, (str, int)):
        return [str(values)]
    if isinstance(values, list):
        return [str(v) for v in values if v is not None]
    return []


class UpdateAnswer:
    """One 200/207 ``batch/update`` body being matched to the inputs of its request."""

    def __init__(self, batch: BatchState, rows: list[UpdateInput], http_status: int) -> None:
        self.batch = batch
        self.pending: dict[str, UpdateInput] = {r.trace_id: r for r in rows}
        self.http_status = http_status
        self.unattributed: list[RowError] = []

    def _by_id(self, hubspot_id: str) -> UpdateInput | None:
        return next((r for r in self.pending.values() if r.hubspot_id == hubspot_id), None)

    def results(self, items: Any) -> None:
        """Update the inputs each result names by trace id, else by record id."""
        for result in items if isinstance(items, list) else []:
            if not isinstance(result, Mapping):
                continue
            trace, rid = result.get("objectWriteTraceId"), result.get("id")
            row = self.pending.get(str(trace)) if trace is not None else None
            if row is None and rid is not None:
                row = self._by_id(str(rid))
            if row is not None:
                del self.pending[row.trace_id]
                self.batch.settle(row, UPDATED, hubspot_id=str(rid) if rid is not None else row.hubspot_id)

    def _named(self, context: Any) -> list[UpdateInput]:
        """Return the pending inputs an error item's context names (by ids and trace ids when both do)."""
        ids = set(_texts(context, "ids"))
        by_ids = [r for r in self.pending.values() if r.hubspot_id in ids]
        traces = set(_texts(context, "objectWriteTraceId"))
        if traces and not traces & set(self.pending):  # a joined "t1,t2" (a third-party mock, §16.1)
            traces = {part.strip() for t in traces for part in t.split(",")}
        by_traces = [r for r in self.pending.values() if r.trace_id in traces]
        if by_ids and by_traces:
            both = [r for r in by_ids if r.trace_id in traces]
            return both or by_ids
        return by_ids or by_traces

    def errors(self, items: Any) -> None:
        """Fail the inputs each error item names; keep the items that name none."""
        for item in items if isinstance(items, list) else []:
            error = row_error(item, http_status=self.http_status)
            named = self._named(item.get("context") if isinstance(item, Mapping) else None)
            if not named:
                self.unattributed.append(error)
            for row in named:
                del self.pending[row.trace_id]
                self.batch.settle(row, FAILED, error=error)

    def missing_error(self) -> RowError:
        """Return the failure of an input a ``COMPLETE`` answer named neither as a result nor an error."""
        message = (
            "the record was not in HubSpot's answer (neither a result nor an error): merged into another "
            "record or deleted?"
        )
        if self.unattributed:
            first = self.unattributed[0].message
            message += f"; {len(self.unattributed)} error(s) in the answer named no input, first: {first}"
        return RowError(category=UNMATCHED_RESULT, message=message, http_status=self.http_status)


class UpdateWriter(GroupWriter[UpdateInput]):
    """Writes the batches of one ``batch_update`` call through ``client``."""

    endpoint = "update"
    verb = "updated"

    def count(self, record: BatchRecord, outcomes: list[RowOutcome]) -> list[RowOutcome]:
        """Count the updated rows."""
        record.updated = sum(1 for o in outcomes if o.status == UPDATED)
        return outcomes

    def after_success(
        self, batch: BatchState, rows: list[UpdateInput], answer: Answer
    ) -> Retry[UpdateInput] | None:
        """Settle the inputs a 200/207 body names; fail or resend those it does not."""
        body = answer.body
        if not isinstance(body, dict):
            message = f"HTTP {answer.status} without a readable body; resent while retries last"
            return Retry(rows, RowError(UNMATCHED_RESULT, message, http_status=answer.status))
        matched = UpdateAnswer(batch, rows, answer.status)
        matched.results(body.get("results"))
        matched.errors(body.get("errors"))
        self.note_times(batch.record, body)
        left = [r for r in rows if r.trace_id in matched.pending]
        if not left:
            return None
        status = body.get("status")
        if status in INCOMPLETE_STATUSES:
            message = f"HubSpot answered {status} without this record; resent while retries last"
            return Retry(left, RowError(UNMATCHED_RESULT, message, http_status=answer.status))
        batch.fail(left, matched.missing_error())
        return None

    def non_retryable(
        self, batch: BatchState, rows: list[UpdateInput], answer: Answer, failure: RowError
    ) -> None:
        """Raise the fatal ones; fail duplicated ids with HubSpot's message; split other whole-batch 4xx."""
        self.raise_if_fatal(answer, failure)
        if answer.status == 400 and failure.message.startswith(DUPLICATE_IDS):
            self._fail_duplicates(batch, rows, answer, failure)
        elif answer.status in SPLIT_STATUSES and len(rows) > 1:
            self.split(batch, rows, failure)
        else:
            batch.fail(rows, failure)

    def _fail_duplicates(
        self, batch: BatchState, rows: list[UpdateInput], answer: Answer, failure: RowError
    ) -> None:
        """Fail the inputs whose id HubSpot named as duplicated (or that repeat an id); resend the others.

        Never split: the two inputs of a duplicated id would each succeed alone, and one would silently
        overwrite the other.
        """
        context = answer.body.get("context") if isinstance(answer.body, dict) else None
        ids = set(_texts(context, "ids"))
        listed = _BRACKETED.search(failure.message)
        if listed:
            ids.update(part.strip().strip("\"'") for part in listed.group(1).split(","))
        repeated = Counter(r.hubspot_id for r in rows)
        ids.update(i for i, n in repeated.items() if n > 1)
        culprits = [r for r in rows if r.hubspot_id in ids]
        if not culprits or len(culprits) == len(rows):
            batch.fail(rows, failure)
            return
        batch.fail(culprits, failure)
        self.resend_rest(batch, [r for r in rows if r.hubspot_id not in ids], failure, len(rows))


@dataclass(frozen=True, slots=True)
class ArchiveRow:
    """One ``batch/archive`` input: the record to archive and a trace id to key its outcome by.

    HubSpot's archive input is ``{"id": …}`` only (§16.4); ``trace_id`` never leaves the client.
    """

    key: str
    hubspot_id: str
    trace_id: str
    position: int = -1

    def payload(self) -> dict[str, Any]:
        """Return the JSON-ready input object for ``batch/archive``."""
        return {"id": self.hubspot_id}


class ArchiveWriter(GroupWriter[ArchiveRow]):
    """Writes the batches of one ``batch_archive`` call through ``client``."""

    endpoint = "archive"
    verb = "archived"

    def run_refs(self, index: int, refs: list[RecordRef]) -> BatchOutcome:
        """Archive the records of batch ``index``; every record gets exactly one outcome."""
        rows = [ArchiveRow(r.key, r.hubspot_id, f"archive-{index}-{n}") for n, r in enumerate(refs)]
        return self.run_batch(index, rows)

    def count(self, record: BatchRecord, outcomes: list[RowOutcome]) -> list[RowOutcome]:
        """Count the archived rows; drop the client-side trace ids from the outcomes."""
        record.updated = sum(1 for o in outcomes if o.status == ARCHIVED)
        return [dataclasses.replace(o, trace_id=None) for o in outcomes]

    def after_success(
        self, batch: BatchState, rows: list[ArchiveRow], answer: Answer
    ) -> Retry[ArchiveRow] | None:
        """Settle a 2xx (HubSpot's 204): every input is archived, whatever the record's state was."""
        if isinstance(answer.body, dict):
            self.note_times(batch.record, answer.body)
        for row in rows:
            batch.settle(row, ARCHIVED, hubspot_id=row.hubspot_id)
        return None

    def non_retryable(
        self, batch: BatchState, rows: list[ArchiveRow], answer: Answer, failure: RowError
    ) -> None:
        """Raise the fatal ones; any other rejection fails every input of the request with its reason."""
        self.raise_if_fatal(answer, failure)
        batch.fail(rows, failure)


__all__ = ["DUPLICATE_IDS", "ArchiveRow", "ArchiveWriter", "UpdateAnswer", "UpdateWriter"]
