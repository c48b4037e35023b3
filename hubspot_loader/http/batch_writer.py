"""Writing one batch of creates: settle every row, reconcile before resending, resolve conflicts.

:class:`BatchWriter` holds the state of one ``HubSpotClient.batch_create`` call and writes its batches
(in the client's worker threads) through the retry loop it shares with update and archive
(:class:`~hubspot_loader.http.group_writer.GroupWriter`). Each row of a batch ends with exactly one
outcome: created (HubSpot's answer named it), reconciled (found by its unique property after an
unacknowledged attempt), or failed with a reason. Ambiguous failures are handled in
:mod:`hubspot_loader.http.reconcile`.

When the load stops part-way (another batch's 401/403/daily limit, or the caller stopped consuming), a
row that was sent and may have been created is failed in doubt (``UNMATCHED_RESULT``, kept pending by the
ledger), one HubSpot answered without creating it keeps that answer's reason, and only a row that was
never part of a request is ``NOT_SENT``.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubspot_loader.core.batching import match_results
from hubspot_loader.core.model import (
    CREATED,
    FAILED,
    RECONCILED,
    TRANSPORT_ERROR,
    UNMATCHED_RESULT,
    BatchRecord,
    PreparedInput,
    RowError,
    RowOutcome,
)
from hubspot_loader.errors import HubSpotError, parse_existing_id
from hubspot_loader.http.batch_state import BatchState
from hubspot_loader.http.group_writer import SPLIT_STATUSES, GroupWriter, Retry, with_note
from hubspot_loader.http.reconcile import (
    INCOMPLETE_STATUSES,
    after_ambiguous,
    after_incomplete,
    incomplete_failure,
)
from hubspot_loader.http.transport import Answer


class BatchWriter(GroupWriter[PreparedInput]):
    """Writes the batches of one ``batch_create`` call through ``client``."""

    endpoint = "create"
    verb = "created"

    def before_batch(self, index: int, rows: list[PreparedInput]) -> Mapping[str, RowOutcome] | None:
        """Call the load's ``before_send`` (the ledger writes the batch ahead) unless the load stopped.

        Returns what it returns: the outcomes of rows the ledger would not let this load send.
        """
        load = self.load
        if load.before_send is not None and not load.abort.is_set():
            return load.before_send(index, rows)
        return None

    def count(self, record: BatchRecord, outcomes: list[RowOutcome]) -> list[RowOutcome]:
        """Count the created rows (reconciled ones included) and the reconciled ones."""
        record.created = sum(1 for o in outcomes if o.status in (CREATED, RECONCILED))
        record.reconciled = sum(1 for o in outcomes if o.status == RECONCILED)
        return outcomes

    def on_ambiguous(self, batch: BatchState, rows: list[PreparedInput], reason: str) -> list[PreparedInput]:
        """Rows that may have been created: reconcile them by the unique property; return those to resend."""
        return after_ambiguous(self.client, batch, self.load, rows, reason)

    def after_success(
        self, batch: BatchState, rows: list[PreparedInput], answer: Answer
    ) -> Retry[PreparedInput] | None:
        """Settle what a 2xx answer decides; look up what a non-``COMPLETE`` answer left out."""
        if answer.status in (200, 201, 207) and isinstance(answer.body, dict):
            doubtful = self._settle_answer(batch, rows, answer)
            if not doubtful:
                return None
            status = str(answer.body.get("status"))
            resend = after_incomplete(self.client, batch, self.load, doubtful, status)
            return Retry(resend, incomplete_failure(status, self.load.unique_property)) if resend else None
        message = f"HTTP {answer.status} without a readable body; the row may exist"
        batch.fail(rows, RowError(UNMATCHED_RESULT, message, http_status=answer.status))
        return None

    def give_up(self, batch: BatchState, rows: list[PreparedInput], failure: RowError, note: str) -> None:
        """Retries are spent: fail ``rows`` with the last failure and how the retries ended."""
        if failure.category == TRANSPORT_ERROR and rows and rows[0].trace_id in batch.unacked:
            note += "; the row may have been created"
        batch.fail(rows, with_note(failure, note))

    def non_retryable(
        self, batch: BatchState, rows: list[PreparedInput], answer: Answer, failure: RowError
    ) -> None:
        """Raise the fatal ones; settle a single row's conflict with itself; resolve or split the rest."""
        load = self.load
        status = answer.status
        self.raise_if_fatal(answer, failure)
        if status not in SPLIT_STATUSES:
            batch.fail(rows, failure)
            return
        if len(rows) == 1:
            row = rows[0]
            existing = parse_existing_id(failure.message) if status == 409 else None
            if existing and row.trace_id in batch.unacked:
                batch.settle(row, RECONCILED, hubspot_id=existing)
            else:
                batch.fail(rows, failure)
            return
        if status == 409 and load.unique_property and self._resolve_conflict(batch, rows, failure):
            return
        self.split(batch, rows, failure)

    def _resolve_conflict(self, batch: BatchState, rows: list[PreparedInput], failure: RowError) -> bool:
        """409 naming "Existing ID: N": find the row holding N's unique value, settle it, resend the rest.

        Returns ``False`` (so the caller splits) when the conflict cannot be attributed.
        """
        load = self.load
        existing = parse_existing_id(failure.message)
        prop = load.unique_property
        if existing is None or prop is None:
            return False
        try:
            found = self.client.batch_read(load.object_type, [existing], properties=[prop])
        except HubSpotError:
            return False
        values = {str(r.get("properties", {}).get(prop) or "").strip().casefold() for r in found}
        values.discard("")
        culprits = [r for r in rows if str(r.properties.get(prop) or "").strip().casefold() in values]
        if not culprits or len(culprits) == len(rows):
            return False
        if len(culprits) == 1 and culprits[0].trace_id in batch.unacked:
            batch.settle(culprits[0], RECONCILED, hubspot_id=existing)
        else:
            batch.fail(culprits, failure)
        rest = [r for r in rows if r not in culprits]
        self.resend_rest(batch, rest, failure, len(rows))
        return True

    def _settle_answer(
        self, batch: BatchState, rows: list[PreparedInput], answer: Answer
    ) -> list[PreparedInput]:
        """Settle the rows a 200/201/207 body decides; return those a non-``COMPLETE`` answer left open.

        Rows in ``results`` are created and rows in ``errors`` failed, whatever the ``status``. A row in
        neither is in doubt when the status is ``CANCELED``/``PENDING``/``PROCESSING`` (returned, not
        settled); after a ``COMPLETE`` answer it fails as ``UNMATCHED_RESULT``.
        """
        body = answer.body
        incomplete = body.get("status") in INCOMPLETE_STATUSES
        doubtful: list[PreparedInput] = []
        matched = match_results(
            rows,
            body,
            http_status=answer.status,
            batch_index=batch.index,
            unique_property=self.load.unique_property,
        )
        for row in rows:
            outcome = matched.outcomes[row.trace_id]
            error = outcome.error
            if (
                outcome.status == FAILED
                and error is not None
                and error.category == "CONFLICT"
                and row.trace_id in batch.unacked
                and (existing := parse_existing_id(error.message))
            ):
                batch.settle(row, RECONCILED, hubspot_id=existing)
            elif (
                incomplete
                and outcome.status == FAILED
                and error is not None
                and error.category == UNMATCHED_RESULT
            ):
                doubtful.append(row)
            else:
                batch.outcomes[row.trace_id] = outcome
        self.note_times(batch.record, body)
        return doubtful


__all__ = ["SPLIT_STATUSES", "BatchWriter"]
