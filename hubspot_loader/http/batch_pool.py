"""Running one batch-write call's batches concurrently: lazy chunks, a bounded pool, outcomes as they finish.

:func:`run_batches` is the loop ``HubSpotClient.batch_create``, ``batch_update`` and ``batch_archive``
share. It takes inputs lazily in chunks of ``size``, keeps at most ``max_in_flight`` batches in a thread
pool (fewer when a :class:`~hubspot_loader.http.concurrency.ConcurrencyController` says so: its
``limit`` is asked before each submission), yields each :class:`~hubspot_loader.core.model.BatchOutcome`
as its batch finishes, and stops taking
inputs once a batch recorded a fatal error (:class:`~hubspot_loader.http.batch_state.LoadState`). After the
batches that were running have finished (and been yielded), it raises that error: inputs not yet taken
from the iterable were never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import TypeVar

from hubspot_loader.core.model import BatchOutcome
from hubspot_loader.errors import HubSpotRateLimitError
from hubspot_loader.http.batch_state import LoadState
from hubspot_loader.http.concurrency import ConcurrencyController

T = TypeVar("T")

RunBatch = Callable[[int, list[T]], BatchOutcome]
"""Writes batch ``index`` of the given inputs in a worker thread; every input gets one outcome."""


def run_batches(
    run_batch: RunBatch[T],
    inputs: Iterable[T],
    *,
    size: int,
    max_in_flight: int,
    load: LoadState,
    verb: str = "created",
    concurrency: ConcurrencyController | None = None,
) -> Iterator[BatchOutcome]:
    """Run ``run_batch`` over ``inputs`` in chunks of ``size``, at most ``max_in_flight`` at a time.

    With ``concurrency``, a new batch is submitted only while fewer than its current ``limit`` (never
    more than ``max_in_flight``, the size of the thread pool) are running; the limit is asked again
    after every batch that finishes.

    ``verb`` names what the batches did to rows in the message of a ``DAILY`` limit ("10 row(s)
    *created* in 2 batch(es)"), counted from :attr:`BatchRecord.created` plus :attr:`BatchRecord.updated`.

    Raises:
        HubSpotError: the fatal error a batch recorded (401, 403, the daily limit ...), after every
            batch that was running has been yielded.
        BaseException: whatever a batch raised unexpectedly (e.g. a ``before_send`` hook), likewise.

    """
    iterator = iter(inputs)
    pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="hubspot-batch")
    running: set[Future[BatchOutcome]] = set()
    index = 0
    exhausted = False
    unexpected: BaseException | None = None
    batches = done_rows = 0
    try:
        while True:
            while not exhausted and not load.abort.is_set() and _room(running, max_in_flight, concurrency):
                chunk = list(islice(iterator, size))
                if not chunk:
                    exhausted = True
                    break
                running.add(pool.submit(run_batch, index, chunk))
                index += 1
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    outcome = future.result()
                except BaseException as exc:
                    load.abort.set()
                    unexpected = unexpected or exc
                    continue
                written = outcome.record.created + outcome.record.updated
                if written:
                    batches += 1
                    done_rows += written
                yield outcome
    finally:
        load.abort.set()
        pool.shutdown(wait=True, cancel_futures=True)
    if unexpected is not None:
        raise unexpected
    if load.fatal is not None:
        fatal = load.fatal
        if isinstance(fatal, HubSpotRateLimitError) and fatal.daily:
            unsent = "loaded" if verb == "created" else verb
            message = (
                f"HubSpot's DAILY API limit is reached: stopped loading {load.object_type}. What was "
                f"loaded so far is kept ({done_rows} row(s) {verb} in {batches} batch(es)); "
                f"rows not yet sent were not {unsent}. Resume after the daily reset. "
                f"HubSpot said: {fatal.message}"
            )
            fatal.args = (message,)
            fatal.message = message
        raise fatal


def _room(running: set[Future[BatchOutcome]], cap: int, concurrency: ConcurrencyController | None) -> bool:
    """Whether one more batch may start: fewer run than the controller's limit within ``cap``, or ``cap``."""
    allowed = cap if concurrency is None else max(1, min(cap, concurrency.limit))
    return len(running) < allowed


__all__ = ["RunBatch", "run_batches"]
