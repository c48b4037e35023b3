"""The preflight report: blocking problems, row problems, failed outcomes, and the quarantine split."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hubspot_loader.core.model import FAILED, RowError, RowOutcome
from hubspot_loader.core.preflight.codes import MESSAGE_ENTRIES, PREFLIGHT
from hubspot_loader.errors import HubSpotLoaderError


@dataclass(frozen=True)
class BlockingProblem:
    """A problem with the load's configuration rather than one row's values.

    ``per_row`` is ``True`` when the problem is also reported for every row it affects (a column mapped
    to a missing or read-only property fails exactly the rows with a value in it), so quarantining
    those rows removes it; ``False`` when no row can be loaded correctly until it is fixed.
    """

    code: str
    message: str
    column: str | None = None
    property: str | None = None
    suggestions: tuple[str, ...] = ()
    per_row: bool = False


@dataclass(frozen=True)
class RowProblem:
    """One (row, column) HubSpot would reject, with HubSpot's code and a reason phrased like HubSpot's."""

    position: int
    key: str
    column: str | None
    property: str | None
    code: str
    message: str
    value: str | None = None
    """The value as it would be sent (shortened to 100 characters), when there is one."""


@dataclass
class Quarantine:
    """A frame split by preflight: the rows to load, and the failed outcomes of the others.

    ``frame`` keeps the source index; ``positions[i]`` is the source position of ``frame``'s row ``i``.
    Outcomes of loading ``frame`` count positions from 0 within it: map them back with :meth:`restore`.
    """

    frame: pd.DataFrame
    positions: np.ndarray
    rejected: list[RowOutcome]

    def restore(self, outcome: RowOutcome, *, key_column: str | None) -> RowOutcome:
        """Return ``outcome`` with its source position (and, without a key column, its source key)."""
        position = int(self.positions[outcome.position])
        key = outcome.key if key_column is not None else str(position)
        return dataclasses.replace(outcome, position=position, key=key)


@dataclass
class PreflightCost:
    """What one preflight spent: HTTP requests (retries included) and wall-clock seconds.

    Every request goes through the load's client and rate limiter, as the writes do.
    """

    requests: int = 0
    """Every request preflight sent: property definitions, association labels and lookups."""
    seconds: float = 0.0
    """Wall-clock seconds of the whole preflight step (reads and checks)."""
    lookup_requests: int = 0
    """Of :attr:`requests`: the reads of existing records (online preflight; 0 offline)."""
    lookup_seconds: float = 0.0
    """Of :attr:`seconds`: the time those reads took."""
    lookup_budget: int = 0
    """The most lookup requests the load allowed (a share of its write requests; 0 offline)."""
    unchecked_rows: int = 0
    """Rows whose unique values or association targets could not all be checked against existing records
    (the budget ran out, or a read was refused; the load's warnings say which): HubSpot judges them."""


@dataclass
class PreflightReport:
    """What preflight predicts HubSpot would reject, before anything is sent."""

    object_type: str
    rows_total: int
    blocking: list[BlockingProblem] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    """Every (row, column) problem, in position order."""
    rows: list[RowOutcome] = field(default_factory=list)
    """One failed outcome per bad row (category :data:`PREFLIGHT`; all its problems in the message)."""
    frame: pd.DataFrame | None = None
    """The frame as validated: coerced by the user's schema when everything passed, else the input."""
    online: bool = False
    """Whether existing records were read (unique values already used, association targets that do not
    exist); ``False``: the definitions alone were used."""
    cost: PreflightCost = field(default_factory=PreflightCost)
    """Requests and seconds preflight spent (set by the load; zero when ``run_preflight`` is called alone)."""

    @property
    def bad_positions(self) -> set[int]:
        """Source positions of the rows HubSpot would reject."""
        return {r.position for r in self.rows}

    @property
    def ok(self) -> bool:
        """``True`` when nothing blocks and no row would be rejected."""
        return not self.blocking and not self.problems

    @property
    def can_quarantine(self) -> bool:
        """Whether loading the rows outside :attr:`bad_positions` avoids every predicted failure."""
        return all(b.per_row for b in self.blocking)

    @property
    def rows_failed(self) -> int:
        """Rows HubSpot would reject."""
        return len(self.rows)

    @property
    def error_counts(self) -> dict[str, int]:
        """Row problems per code."""
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.code] = counts.get(problem.code, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def message(self) -> str:
        """A readable summary: each blocking problem, then each row problem (first 50)."""
        if self.ok:
            return f"preflight of {self.object_type}: all {self.rows_total} row(s) pass"
        counts = ", ".join(f"{k}: {v}" for k, v in self.error_counts.items())
        head = (
            f"preflight of {self.object_type}: {len(self.blocking)} blocking problem(s), "
            f"{self.rows_failed} of {self.rows_total} row(s) would be rejected"
            + (f" ({counts})" if counts else "")
        )
        lines = [f"- {b.code}: {b.message}" for b in self.blocking]
        for p in self.problems[:MESSAGE_ENTRIES]:
            column = f"column {p.column!r}" if p.column is not None else "whole row"
            lines.append(f"- row key {p.key!r} (position {p.position}), {column}: {p.code}: {p.message}")
        if len(self.problems) > MESSAGE_ENTRIES:
            lines.append(f"... and {len(self.problems) - MESSAGE_ENTRIES} more")
        return "\n".join([head, *lines])

    def to_frame(self) -> pd.DataFrame:
        """Return the row problems as a table: key, position, column, property, code, message, value."""
        columns = ["key", "position", "column", "property", "code", "message", "value"]
        return pd.DataFrame([dataclasses.asdict(p) for p in self.problems], columns=columns)

    def quarantine(self, df: pd.DataFrame) -> Quarantine:
        """Split ``df`` (the frame this report is about) into the rows to load and the rejected ones.

        Raises:
            PreflightError: a blocking problem cannot be quarantined (see :attr:`can_quarantine`).

        """
        if not self.can_quarantine:
            raise PreflightError(self)
        if len(df) != self.rows_total:
            raise ValueError(f"the report is about {self.rows_total} rows, the frame has {len(df)}")
        keep = np.setdiff1d(np.arange(len(df)), np.fromiter(self.bad_positions, dtype=np.int64))
        return Quarantine(frame=df.iloc[keep], positions=keep, rejected=list(self.rows))


class PreflightError(HubSpotLoaderError, ValueError):
    """Preflight predicts failures and the load was asked to block; nothing was sent.

    ``report`` holds every blocking and row problem; ``str(error)`` names them.
    """

    def __init__(self, report: PreflightReport) -> None:
        super().__init__(report.message)
        self.report = report


def row_outcomes(problems: list[RowProblem], key_column: str | None) -> list[RowOutcome]:
    """One failed outcome per row: the first problem's code and column, every problem in the message."""
    by_row: dict[int, list[RowProblem]] = {}
    for problem in problems:
        by_row.setdefault(problem.position, []).append(problem)
    outcomes = []
    for position, found in sorted(by_row.items()):
        first = found[0]
        message = "; ".join(
            (f"column {p.column!r}: " if p.column is not None else "") + f"{p.code}: {p.message}"
            for p in found
        )
        error = RowError(category=PREFLIGHT, message=message, code=first.code, property=first.column)
        trace = first.key if key_column is not None else f"row-{position}"
        outcomes.append(
            RowOutcome(key=first.key, position=position, status=FAILED, error=error, trace_id=trace)
        )
    return outcomes
