"""The one retry loop of the batch writes: send a group of inputs, retry what is safe, split what is rejected.

:class:`GroupWriter` writes the batches of one ``HubSpotClient.batch_create``, ``batch_update`` or
``batch_archive`` call (in the client's worker threads). It owns what the three endpoints share: encoding,
attempts and waits (:class:`~hubspot_loader.http.retry.RetryPolicy`), the rate limiter's pause on a
ten-secondly 429, the fatal refusals (401, 403, 404, the ``DAILY`` 429), isolating a whole-batch 4xx by
splitting within the load's split budget, HubSpot's batch times, and the outcome of the rows a stopped load
left. Its subclasses decide what a 2xx answer means for the rows
(:class:`~hubspot_loader.http.batch_writer.BatchWriter` for create,
:mod:`hubspot_loader.http.sync_writer` for update and archive), what an ambiguous failure needs before a
resend (create reconciles, update and archive are idempotent and just resend), and what a non-retryable
answer does to the rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from hubspot_loader.core.batching import parse_time, row_error
from hubspot_loader.core.model import (
    FAILED,
    NOT_SENT,
    RATE_LIMIT_DAILY,
    TRANSPORT_ERROR,
    UNMATCHED_RESULT,
    BatchOutcome,
    BatchRecord,
    RowError,
    RowOutcome,
)
from hubspot_loader.errors import HubSpotError, HubSpotRateLimitError, error_for
from hubspot_loader.http.batch_state import Aborted, BatchState, LoadState, RowT, drop_unencodable
from hubspot_loader.http.retry import AMBIGUOUS_STATUSES, parse_retry_after
from hubspot_loader.http.transport import Answer, encode_body, is_ambiguous

if TYPE_CHECKING:
    from hubspot_loader.http.client import HubSpotClient

#: Whole-batch 4xx answers that are isolated by splitting (they name no row, or not every row).
SPLIT_STATUSES = frozenset({400, 409, 413})
#: 400 messages that concern the request, not any row: splitting cannot help, so they are fatal.
REQUEST_LEVEL_400 = ("Unable to infer object type",)


@dataclass
class Retry(Generic[RowT]):
    """What an attempt left to send again, why, and how the next attempt should wait."""

    rows: list[RowT]
    failure: RowError
    """The rows' failure if no retry is left."""
    retry_after: float | None = None
    rate_limited: int = 0
    """1 when the attempt was answered by a ten-secondly 429."""


class GroupWriter(Generic[RowT]):
    """Writes the batches of one batch-write call through ``client`` (see the module docstring)."""

    endpoint: ClassVar[str] = "create"
    """The batch endpoint (``…/batch/{endpoint}``), also :attr:`BatchRecord.endpoint`."""
    verb: ClassVar[str] = "created"
    """What the endpoint does to a row, in messages ("HubSpot may have *created* it")."""

    def __init__(self, client: HubSpotClient, load: LoadState) -> None:
        self.client = client
        self.load = load

    # ------------------------------------------------------------ one batch

    def run_batch(self, index: int, rows: list[RowT]) -> BatchOutcome:
        """Write one batch; every row of it gets exactly one outcome (or a fatal error is recorded)."""
        load = self.load
        record = BatchRecord(index=index, rows=len(rows), endpoint=self.endpoint)
        batch = BatchState(index=index, record=record)
        refused: HubSpotError | None = None
        held = self.before_batch(index, rows)
        sending = rows
        if held:
            batch.outcomes.update({r.trace_id: held[r.trace_id] for r in rows if r.trace_id in held})
            sending = [r for r in rows if r.trace_id not in held]
        try:
            if sending:
                self.write_group(batch, sending, top=True)
        except Aborted:
            pass
        except HubSpotError as exc:
            load.set_fatal(exc)
            record.error = str(exc)
            refused = exc
        finally:
            if batch.started is not None:
                record.duration_s = time.monotonic() - batch.started
        if record.error is None and load.fatal is not None and len(batch.outcomes) < len(rows):
            record.error = f"stopped: {load.fatal}"
        self.account_for_the_rest(batch, rows, refused)
        outcomes = [batch.outcomes[r.trace_id] for r in rows]
        record.failed = sum(1 for o in outcomes if o.status == FAILED)
        return BatchOutcome(record=record, rows=self.count(record, outcomes))

    def before_batch(self, index: int, rows: list[RowT]) -> Mapping[str, RowOutcome] | None:
        """Prepare batch ``index`` in the worker thread before its first request (nothing by default).

        Returns outcomes, by trace id, of rows that are not to be sent (``None``: send them all).
        """
        return None

    def count(self, record: BatchRecord, outcomes: list[RowOutcome]) -> list[RowOutcome]:
        """Fill the record's row counts (``failed`` is done); return the outcomes to yield."""
        return outcomes

    def write_group(self, batch: BatchState, rows: list[RowT], *, top: bool) -> None:
        """Send ``rows`` as one request with retries; settle every row (or raise a fatal error)."""
        client, load = self.client, self.load
        path = client.objects_path(load.object_type, self.endpoint)
        record = batch.record
        pending = rows
        encoded_for: list[RowT] | None = None
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
                step = self.after_transport_error(batch, pending, exc)
            else:
                step = self.after_answer(batch, pending, answer, top=top)
            if step is None:
                return
            pending = step.rows
            rate_limited += step.rate_limited
            wait_s = client.retry.delay(max(1, attempts - rate_limited), step.retry_after)
            elapsed = time.monotonic() - started
            if wait_s is None or not client.retry.may_retry(
                attempts, elapsed, wait_s, rate_limited=rate_limited
            ):
                self.give_up(
                    batch, pending, step.failure, f" (gave up after {attempts} attempt(s), {elapsed:.1f}s)"
                )
                return
            if load.abort.wait(wait_s):
                # HubSpot's last answer decides the rows that cannot have been written; the others stay
                # in doubt (see account_for_the_rest)
                batch.fail_unsettled(pending, with_note(step.failure, " (not retried: the load stopped)"))
                raise Aborted

    # ------------------------------------------------------------ what an attempt left

    def after_transport_error(
        self, batch: BatchState, rows: list[RowT], exc: Exception
    ) -> Retry[RowT] | None:
        """No HTTP answer: re-raise what is not retryable; ask :meth:`on_ambiguous` what to resend."""
        client = self.client
        if not client.retry.is_retryable_exception(exc):
            raise exc
        ambiguous = is_ambiguous(exc)
        error = client.transport_error(exc, ambiguous=ambiguous, what=f"batch {batch.index}")
        if ambiguous:
            rows = self.on_ambiguous(batch, rows, str(error))
            if not rows:
                return None
        return Retry(rows, RowError(category=TRANSPORT_ERROR, message=str(error)))

    def on_ambiguous(self, batch: BatchState, rows: list[RowT], reason: str) -> list[RowT]:
        """Return the rows to resend of a request that may have been processed (all: idempotent writes)."""
        return rows

    def after_answer(
        self, batch: BatchState, rows: list[RowT], answer: Answer, *, top: bool
    ) -> Retry[RowT] | None:
        """Settle what ``answer`` decides; return the rows to send again (``None`` when all are settled)."""
        if top:
            batch.record.http_status = answer.status
        if 200 <= answer.status < 300:
            return self.after_success(batch, rows, answer)
        return self.after_error_status(batch, rows, answer)

    def after_success(self, batch: BatchState, rows: list[RowT], answer: Answer) -> Retry[RowT] | None:
        """Settle the rows a 2xx answer decides (the subclasses' part)."""
        raise NotImplementedError

    def after_error_status(self, batch: BatchState, rows: list[RowT], answer: Answer) -> Retry[RowT] | None:
        """Retry a 429 or 5xx answer, raise the fatal ones, hand the rest to :meth:`non_retryable`."""
        client = self.client
        failure = row_error(answer.body, http_status=answer.status)
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        if answer.status == 429:
            policy = answer.body.get("policyName") if isinstance(answer.body, dict) else None
            if policy == "DAILY":
                raise error_for(answer.error_response(), what=f"batch {batch.index}")
            client.limiter.on_rate_limited(retry_after)
            return Retry(rows, failure, retry_after, rate_limited=1)
        if client.retry.is_retryable_status(answer.status):
            if answer.status in AMBIGUOUS_STATUSES:
                note = f"batch {batch.index}: gateway HTTP {answer.status} (may have been processed)"
                rows = self.on_ambiguous(batch, rows, note)
                if not rows:
                    return None
            return Retry(rows, failure, retry_after)
        self.non_retryable(batch, rows, answer, failure)
        return None

    def non_retryable(self, batch: BatchState, rows: list[RowT], answer: Answer, failure: RowError) -> None:
        """Settle a 4xx that is not retried: raise the fatal ones, isolate a whole-batch one by splitting."""
        self.raise_if_fatal(answer, failure)
        if answer.status in SPLIT_STATUSES and len(rows) > 1:
            self.split(batch, rows, failure)
        else:
            batch.fail(rows, failure)

    def raise_if_fatal(self, answer: Answer, failure: RowError) -> None:
        """Raise the error of an answer that concerns the whole load (401, 403, 404, a request-level 400)."""
        status = answer.status
        if status in (401, 403, 404) or (
            status == 400 and any(failure.message.startswith(p) for p in REQUEST_LEVEL_400)
        ):
            raise error_for(answer.error_response(), what=f"batch {self.endpoint} of {self.load.object_type}")

    def give_up(self, batch: BatchState, rows: list[RowT], failure: RowError, note: str) -> None:
        """Retries are spent: fail ``rows`` with the last failure and how the retries ended."""
        batch.fail(rows, with_note(failure, note))

    # ------------------------------------------------------------ isolating a rejected group

    def split(self, batch: BatchState, rows: list[RowT], failure: RowError) -> None:
        """Send the two halves of a group HubSpot rejected whole, within the load's split budget."""
        if not self.load.take_splits(2):
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
                    http_status=failure.http_status,
                ),
            )
            return
        batch.record.splits += 1
        middle = len(rows) // 2
        try:
            self.write_group(batch, rows[:middle], top=False)
            self.write_group(batch, rows[middle:], top=False)
        except Aborted:
            batch.fail_unsettled(rows, not_isolated(failure, len(rows)))
            raise

    def resend_rest(self, batch: BatchState, rest: list[RowT], failure: RowError, group: int) -> None:
        """Send ``rest`` again after the culprits of a rejected group of ``group`` rows were settled."""
        if not self.load.take_splits(1):
            batch.fail(
                rest,
                RowError(
                    category=failure.category,
                    message=f"not isolated: split budget exhausted; HubSpot said: {failure.message}",
                    code=failure.code,
                    http_status=failure.http_status,
                ),
            )
            return
        batch.record.splits += 1
        try:
            self.write_group(batch, rest, top=False)
        except Aborted:
            batch.fail_unsettled(rest, not_isolated(failure, group))
            raise

    # ------------------------------------------------------------ the record and a stopped load

    @staticmethod
    def note_times(record: BatchRecord, body: Mapping[str, Any]) -> None:
        """Keep HubSpot's ``requestedAt``/``startedAt``/``completedAt``/``status`` (over the splits)."""
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

    def account_for_the_rest(self, batch: BatchState, rows: list[RowT], refused: HubSpotError | None) -> None:
        """Give every row of ``batch`` still without an outcome one, after the batch stopped part-way.

        A row that was sent and may have been written (``unacked``, or sent without any settling answer)
        fails in doubt (``UNMATCHED_RESULT``: the ledger keeps it pending). When this batch's own request
        was refused (``refused``: 401, 403, daily limit ...), the other rows fail with that refusal. Only a
        row that was never part of a request is ``NOT_SENT``.
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
                message=f"sent; HubSpot may have {self.verb} it; the load stopped before it was confirmed",
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
                message=f"not {self.verb}: {refused}",
                http_status=response.status if response else None,
            )
        batch.fail((r for r in left if r.trace_id not in batch.outcomes), error)


def with_note(failure: RowError, note: str) -> RowError:
    """``failure`` (the row's last attempt's) with ``note`` appended to its message."""
    return RowError(
        category=failure.category,
        message=failure.message + note,
        code=failure.code,
        property=failure.property,
        http_status=failure.http_status,
    )


def not_isolated(failure: RowError, rows: int) -> RowError:
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


__all__ = ["REQUEST_LEVEL_400", "SPLIT_STATUSES", "GroupWriter", "Retry", "not_isolated", "with_note"]
