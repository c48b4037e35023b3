"""State of one batch-write call (create, update, archive) and of each batch in it.

Shared by the writers (:mod:`hubspot_loader.http.group_writer` and its subclasses) and reconciliation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from hubspot_loader.core.batching import outcome_for
from hubspot_loader.core.model import FAILED, INVALID_VALUE, BatchRecord, PreparedInput, RowError, RowOutcome
from hubspot_loader.errors import HubSpotError, HubSpotLoaderError
from hubspot_loader.http.transport import encode_body

BeforeSend = Callable[[int, list[PreparedInput]], Mapping[str, RowOutcome] | None]
"""Called with a batch's index and inputs in the worker thread, before the batch's first request.

The ledger uses it to write the batch ahead as pending (and to lease its rows). It may return outcomes,
by trace id, for rows that must not be sent (another load holds them, or created them meanwhile): those
rows keep the outcome given and the rest of the batch is sent. If it raises, the batch is not sent and the
exception ends the ``batch_create`` call (like any unexpected error)."""


class WriteRow(Protocol):
    """One input of a batch write: ``PreparedInput``, ``UpdateInput``, or an archive input."""

    @property
    def position(self) -> int:
        """0-based row position in the source frame (``-1`` when the input is not a row of the frame)."""
        ...

    @property
    def key(self) -> str:
        """The row's warehouse key."""
        ...

    @property
    def trace_id(self) -> str:
        """The input's ``objectWriteTraceId``: unique within the batch (outcomes are keyed by it)."""
        ...

    def payload(self) -> dict[str, Any]:
        """Return the JSON-ready input object."""
        ...


RowT = TypeVar("RowT", bound=WriteRow)
"""The input type of one writer."""


class Aborted(HubSpotLoaderError):
    """Another batch hit a fatal error; stop before sending more (internal: never leaves the client)."""


@dataclass
class LoadState:
    """State shared by the batches of one ``batch_create``, ``batch_update`` or ``batch_archive`` call."""

    object_type: str
    unique_property: str | None
    split_budget: int
    before_send: BeforeSend | None = None
    abort: threading.Event = field(default_factory=threading.Event)
    fatal: HubSpotError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_splits(self, n: int) -> bool:
        """Spend ``n`` split requests from the load's budget; ``False`` (nothing spent) when short."""
        with self.lock:
            if self.split_budget < n:
                return False
            self.split_budget -= n
            return True

    def set_fatal(self, exc: HubSpotError) -> None:
        """Record the first fatal error and tell every batch to stop."""
        with self.lock:
            if self.fatal is None:
                self.fatal = exc
        self.abort.set()


@dataclass
class BatchState:
    """One batch in progress: its record, settled outcomes and rows sent without a definite answer.

    ``sent`` holds the trace ids of the rows that were part of a request that left; ``unacked`` the rows
    HubSpot may have created without saying so (an ambiguous failure, or a non-``COMPLETE`` answer that
    did not list them); ``resent_incomplete`` the rows already resent once after a
    ``PENDING``/``PROCESSING`` answer, which are never resent a second time.
    """

    index: int
    record: BatchRecord
    outcomes: dict[str, RowOutcome] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    unacked: set[str] = field(default_factory=set)
    resent_incomplete: set[str] = field(default_factory=set)
    started: float | None = None

    def settle(
        self, row: WriteRow, status: str, *, hubspot_id: str | None = None, error: RowError | None = None
    ) -> None:
        """Give ``row`` its final outcome."""
        self.outcomes[row.trace_id] = outcome_for(
            row, status, batch_index=self.index, hubspot_id=hubspot_id, error=error  # type: ignore[arg-type]
        )

    def fail(self, rows: Iterable[WriteRow], error: RowError) -> None:
        """Fail every row of ``rows`` with ``error``."""
        for row in rows:
            self.settle(row, FAILED, error=error)

    def fail_unsettled(self, rows: Iterable[WriteRow], error: RowError) -> None:
        """Fail the rows of ``rows`` that have no outcome yet and are not in doubt (``unacked``)."""
        self.fail(
            (r for r in rows if r.trace_id not in self.outcomes and r.trace_id not in self.unacked), error
        )


def drop_unencodable(batch: BatchState, rows: list[RowT]) -> list[RowT]:
    """Fail the rows whose input has no JSON form (each named with the reason); return the others.

    Formatting makes every property value a string, so this is a safety net: an association id or
    type id of a type JSON cannot carry would otherwise stop the whole load.
    """
    kept = []
    for row in rows:
        try:
            encode_body(row.payload())
        except TypeError as exc:
            batch.settle(
                row,
                FAILED,
                error=RowError(INVALID_VALUE, f"not sent: the input has no JSON form ({exc})"),
            )
        else:
            kept.append(row)
    return kept
