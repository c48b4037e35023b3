"""The progress bar of ``hubspot-loader load`` (tqdm), on stderr, only when stderr is a terminal.

It counts rows as batches finish (created / failed); at the end it is set to the load's own totals, so
the rows preflight held back, the rows that could not be converted and the rows skipped by the sync
state are in its last line, which therefore agrees with the summary.
"""

from __future__ import annotations

from typing import TextIO

from tqdm import tqdm

from hubspot_loader.core.model import BatchOutcome, LoadResult


class LoadProgress:
    r"""A tqdm bar over the file's rows; a callable to pass as ``load_dataframe(on_batch=...)``.

    Args:
        total: rows in the file.
        stream: where to draw (stderr).
        enabled: ``False`` turns it off; ``True`` still leaves it off when ``stream`` is not a terminal
            (tqdm's ``disable=None``), so redirected or captured output never gets ``\r`` lines.

    """

    def __init__(self, total: int, stream: TextIO, *, enabled: bool) -> None:
        self.created = self.failed = self.skipped = 0
        self._bar = tqdm(
            total=total,
            file=stream,
            unit="row",
            desc="rows",
            disable=None if enabled else True,
            mininterval=0.5,
            dynamic_ncols=True,
        )

    @property
    def active(self) -> bool:
        """Whether the bar is drawn."""
        return not self._bar.disable

    def __call__(self, outcome: BatchOutcome) -> None:
        """Count one finished batch; rows the sync state skips are never sent (:meth:`finish` counts them)."""
        record = outcome.record
        self.created += record.created
        self.failed += record.failed
        self._bar.set_postfix_str(self._counts(), refresh=False)
        self._bar.update(record.rows)

    def finish(self, result: LoadResult) -> None:
        """Show the load's final counts (held-back and skipped rows included) and end the bar."""
        self.created, self.failed, self.skipped = result.rows_created, result.rows_failed, result.rows_skipped
        self._bar.n = result.rows_total
        self._bar.set_postfix_str(self._counts(), refresh=False)
        self._bar.refresh()
        self.close()

    def close(self) -> None:
        """End the bar (idempotent)."""
        self._bar.close()

    def _counts(self) -> str:
        return f"created {self.created}, failed {self.failed}, skipped {self.skipped}"
