"""Writing one batch: send it with retries, settle every row, isolate whole-batch failures by splitting.

:class:`BatchWriter` holds the state of one ``HubSpotClient.batch_create`` call and writes its batches
(in the client's worker threads). Each row of a batch ends with exactly one outcome: created (HubSpot's
answer named it), reconciled (found by its unique property after an unacknowledged attempt), or failed
with a reason. Ambiguous failures are handled in :mod:`hubspot_loader.http.reconcile`.

When the load stops part-way (another batch's 401/403/daily limit, or the caller stopped consuming), a
row that was sent and may have been created is failed in doubt (``UNMATCHED_RESULT``, kept pending by the
ledger), one HubSpot answered without creating it keeps that answer's reason, and only a row that was
never part of a request is ``NOT_SENT``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from hubspot_loader.core.batching import match_results, parse_time, row_error
from hubspot_loader.core.model import (
    CREATED,
    FAILED,
    NOT_SENT,
    RATE_LIMIT_DAILY,
    RECONCILED,
    TRANSPORT_ERROR,
    UNMATCHED_RESULT,
    BatchOutcome,
    BatchRecord,
    PreparedInput,
    RowError,
)
from hubspot_loader.errors import HubSpotError, HubSpotRateLimitError, error_for, parse_existing_id
from hubspot_loader.http.batch_state import Aborted, BatchState, LoadState, drop_unencodable
from hubspot_loader.http.reconcile import (
    INCOMPLETE_STATUSES,
    after_ambiguous,
    after_incomplete,
    incomplete_failure,
)
from hubspot_loader.http.retry import AMBIGUOUS_STATUSES, parse_retry_after
from hubspot_loader.http.transport import Answer, encode_body, is_ambiguous

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

#: Whole-batch 4xx answers that are isolated by splitting (they name no row, or not every row).
SPLIT_STATUSES = frozenset({400, 409, 413})
#: 400 messages that concern the request, not any row: splitting cannot help, so they are fatal.
_REQUEST_LEVEL_400 = ("Unable to infer object type",)


@dataclass
class _Retry:
    """What an attempt left to send again, why, and how the next attempt should wait."""

    rows: list[PreparedInput]
    failure: RowError
    """The rows' failure if no retry is left."""
    retry_after: float | None = None
    rate_limited: int = 0
    """1 when the attempt was answered by a ten-secondly 429."""


class BatchWriter:
    """Writes the batches of one ``batch_create`` call through ``client``."""

    def __init__(self, client: HubSpotClient, load: LoadState) -> None:
        self.client = client
        self.load = load

    def run_batch(self, index: int, rows: list[PreparedInput]) -> BatchOutcome:
        """Write one batch; every row of it gets exactly one outcome (or a fatal error is recorded)."""
        load = self.load
        batch = BatchState(index=index, record=BatchRecord(index=index, rows=len(rows)))
        refused: HubSpotError | None = None
        if load.before_send is not None and not load.abort.is_set():
            load.before_send(index, rows)
        try:
            self._write_group(batch, rows, top=True)
        except Aborted:
            pass
        except HubSpotError as exc:
            load.set_fatal(exc)
            batch.record.error = str(exc)
            refused = exc
        finally:
            if batch.started is not None:
                batch.record.duration_s = time.monotonic() - batch.started
        if batch.record.error is None and load.fatal is not None and len(batch.outcomes) < len(rows):
            batch.record.error = f"stopped: {load.fatal}"
        _account_for_the_rest(batch, rows, refused)
        outcomes = [batch.outcomes[r.trace_id] for r in rows]
        record = batch.record
        record.created = sum(1 for o in outcomes if o.status in (CREATED, RECONCILED))
        record.reconciled = sum(1 for o in outcomes if o.status == RECONCILED)
        record.failed = sum(1 for o in outcomes if o.status == FAILED)
        return BatchOutcome(record=record, rows=outcomes)

    def _write_group(self, batch: BatchState, rows: list[PreparedInput], *, top: bool) -> None:
        """Send ``rows`` as one batch-create request with retries; settle every row (or raise fatal)."""
        client, load = self.client, self.load
        path = client.objects_path(load.object_type, "create")
        record = batch.record
        pending = rows
        encoded_for: list[PreparedInput] | None = None
        data = b""
        started = time.monotonic()
        attempts = rate_limited = 0
        if load.abort.is_set():
            raise Aborted
        while True:
            if encoded_for is not pending:
                try:
                    data = encode_body({"inputs": [r.payload() for r in pending]})
                except TypeError:  # orjson's JSONEncodeError: a value with no JSON form
                    pending = drop_unencodable(batch, pending)
                    if not pending:
                        return
                    continue
                encoded_for = pending
            attempts += 1
            record.requests += 1
            if attempts > 1:
                record.retries += 1
            if batch.started is None:
                batch.started = time.monotonic()
                record.sent_at = datetime.now(timezone.utc)
            batch.sent.update(r.trace_id for r in pending)
            try:
                answer = client.send_once("POST", path, data)
            except Exception as exc:
                step = self._after_transport_error(batch, pending, exc)
            else:
                step = self._after_answer(batch, pending, answer, top=top)
            if step is None:
                return
            pending = step.rows
            rate_limited += step.rate_limited
            wait_s = client.retry.delay(max(1, attempts - rate_limited), step.retry_after)
            elapsed = time.monotonic() - started
            if wait_s is None or not client.retry.may_retry(
                attempts, elapsed, wait_s, rate_limited=rate_limited
            ):
                self._give_up(
                    batch, pending, step.failure, f" (gave up after {attempts} attempt(s), {elapsed:.1f}s)"
                )
                return
            if load.abort.wait(wait_s):
                # HubSpot's last answer decides the rows that cannot have been created; the others stay
                # in doubt (see _account_for_the_rest)
                batch.fail_unsettled(pending, _with_note(step.failure, " (not retried: the load stopped)"))
                raise Aborted

    def _after_transport_error(
        self, batch: BatchState, rows: list[PreparedInput], exc: Exception
    ) -> _Retry | None:
        """No HTTP answer: re-raise what is not retryable; reconcile what may have been committed."""
        client = self.client
        if not client.retry.is_retryable_exception(exc):
            raise exc
        ambiguous = is_ambiguous(exc)
        error = client.transport_error(exc, ambiguous=ambiguous, what=f"batch {batch.index}")
        if ambiguous:
            rows = after_ambiguous(client, batch, self.load, rows, str(error))
            if not rows:
                return None
        return _Retry(rows, RowError(category=TRANSPORT_ERROR, message=str(error)))

    def _after_answer(
        self, batch: BatchState, rows: list[PreparedInput], answer: Answer, *, top: bool
    ) -> _Retry | None:
        """Settle what ``answer`` decides; return the rows to send again (``None`` when all are settled)."""
        client, load = self.client, self.load
        if top:
            batch.record.http_status = answer.status
        if answer.status in (200, 201, 207) and isinstance(answer.body, dict):
            doubtful = self._settle_answer(batch, rows, answer)
            if not doubtful:
                return None
            status = str(answer.body.get("status"))
            resend = after_incomplete(client, batch, load, doubtful, status)
            return _Retry(resend, incomplete_failure(status, load.unique_property)) if resend else None
        if 200 <= answer.status < 300:
            message = f"HTTP {answer.status} without a readable body; the row may exist"
            batch.fail(rows, RowError(UNMATCHED_RESULT, message, http_status=answer.status))
            return None
        failure = row_error(answer.body, http_status=answer.status)
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        if answer.status == 429:
            policy = answer.body.get("policyName") if isinstance(answer.body, dict) else None
            if policy == "DAILY":
                raise error_for(answer.error_response(), what=f"batch {batch.index}")
            client.limiter.on_rate_limited(retry_after)
            return _Retry(rows, failure, retry_after, rate_limited=1)
        if client.retry.is_retryable_status(answer.status):
            if answer.status in AMBIGUOUS_STATUSES:
                note = f"batch {batch.index}: gateway HTTP {answer.status} (may have been processed)"
                rows = after_ambiguous(client, batch, load, rows, note)
                if not rows:
                    return None
            return _Retry(rows, failure, retry_after)
        self._non_retryable(batch, rows, answer, failure)
        return None

    @staticmethod
    def _give_up(batch: BatchState, rows: list[PreparedInput], failure: RowError, note: str) -> None:
        """Retries are spent: fail ``rows`` with the last failure and how the retries ended."""
        if failure.category == TRANSPORT_ERROR and rows and rows[0].trace_id in batch.unacked:
            note += "; the row may have been created"
        batch.fail(rows, _with_note(failure, note))

    def _non_retryable(
        self, batch: BatchState, rows: list[PreparedInput], answer: Answer, failure: RowError
    ) -> None:
        load = self.load
        status = answer.status
        if status in (401, 403, 404) or (
            status == 400 and any(failure.message.startswith(p) for p in _REQUEST_LEVEL_400)
        ):
            raise error_for(answer.error_response(), what=f"batch create of {load.object_type}")
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
        if not load.take_splits(2):
            batch.fail(
                rows,
                RowError(
                    category=failure.category,
                    message=(
                        f"not isolated: split budget exhausted ({self.client.max_split_requests} split "
                        f"requests per load); HubSpot rejected the group of {len(rows)} rows with: "
                        f"{failure.message}"
                    ),
                    code=failure.code,
                    property=failure.property,
                    http_status=status,
                ),
            )
            return
        batch.record.splits += 1
        middle = len(rows) // 2
        try:
            self._write_group(batch, rows[:middle], top=False)
            self._write_group(batch, rows[middle:], top=False)
        except Aborted:
            batch.fail_unsettled(rows, _not_isolated(failure, len(rows)))
            raise

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
        if not load.take_splits(1):
            batch.fail(
                rest,
                RowError(
                    category=failure.category,
                    message=f"not isolated: split budget exhausted; HubSpot said: {failure.message}",
                    code=failure.code,
                    http_status=failure.http_status,
                ),
            )
            return True
        batch.record.splits += 1
        try:
            self._write_group(batch, rest, top=False)
        except Aborted:
            batch.fail_unsettled(rest, _not_isolated(failure, len(rows)))
            raise
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
        record = batch.record
        for attr, key, pick in (
            ("requested_at", "requestedAt", min),
            ("started_at", "startedAt", min),
            ("completed_at", "completedAt", max),
        ):
            value = parse_time(body.get(key))
            if value is not None:
                current = getattr(record, attr)
                setattr(record, attr, value if current is None else pick(current, value))
        status = body.get("status")
        if isinstance(status, str) and (record.status in (None, "COMPLETE")):
            record.status = status
        return doubtful


def _with_note(failure: RowError, note: str) -> RowError:
    """``failure`` (the row's last attempt's) with ``note`` appended to its message."""
    return RowError(
        category=failure.category,
        message=failure.message + note,
        code=failure.code,
        property=failure.property,
        http_status=failure.http_status,
    )


def _not_isolated(failure: RowError, rows: int) -> RowError:
    """Return the failure of a row of a group HubSpot rejected whole when the load stopped isolating it."""
    return RowError(
        category=failure.category,
        message=(
            f"not isolated: the load stopped; HubSpot rejected the group of {rows} rows with: "
            f"{failure.message}"
        ),
        code=failure.code,
        property=failure.property,
        http_status=failure.http_status,
    )


def _account_for_the_rest(batch: BatchState, rows: list[PreparedInput], refused: HubSpotError | None) -> None:
    """Give every row of ``batch`` still without an outcome one, after the batch stopped part-way.

    A row that was sent and may have been created (``unacked``, or sent without any settling answer)
    fails in doubt (``UNMATCHED_RESULT``: the ledger keeps it pending). When this batch's own request was
    refused (``refused``: 401, 403, daily limit ...), the other rows fail with that refusal. Only a row
    that was never part of a request is ``NOT_SENT``.
    """
    left = [r for r in rows if r.trace_id not in batch.outcomes]
    if not left:
        return
    doubtful = [
        r for r in left if r.trace_id in batch.unacked or (refused is None and r.trace_id in batch.sent)
    ]
    batch.fail(
        doubtful,
        RowError(
            category=UNMATCHED_RESULT,
            message="sent; HubSpot may have created it; the load stopped before it was confirmed",
        ),
    )
    if refused is None:
        error = RowError(category=NOT_SENT, message="not sent: the load stopped before this row was sent")
    else:
        response = refused.response
        if isinstance(refused, HubSpotRateLimitError) and refused.daily:
            category = RATE_LIMIT_DAILY
        else:
            category = (response.category if response else None) or type(refused).__name__
        error = RowError(
            category=category,
            message=f"not created: {refused}",
            http_status=response.status if response else None,
        )
    batch.fail((r for r in left if r.trace_id not in batch.outcomes), error)


__all__ = ["SPLIT_STATUSES", "BatchWriter"]
