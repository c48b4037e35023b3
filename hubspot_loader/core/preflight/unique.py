"""Unique values repeated within the frame: which row keeps the value, which rows HubSpot would refuse.

HubSpot refuses a second object with the value of a ``hasUniqueValue`` property (``email`` compared
case-insensitively) as already existing (``CONFLICT``). Only a row that is *created* takes the value: a
row HubSpot rejects for another reason (an invalid option, an invalid email, a bad key ...) takes
nothing, so the next row with that value is created. Rows are taken in frame order, the way preflight
makes the outcome deterministic: the first row that would be accepted keeps each value, and every later
row with a taken value is flagged ``DUPLICATE_UNIQUE_VALUE``. A row flagged for one unique column is
itself refused, so it takes none of its other unique values either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class UniqueConflict:
    """Row ``position`` repeats a unique value of ``column`` that row ``keeper`` (earlier) keeps."""

    position: int
    column: str
    keeper: int


def unique_conflicts(columns: Sequence[tuple[str, np.ndarray]], rejected: np.ndarray) -> list[UniqueConflict]:
    """Find the rows HubSpot would refuse for a unique value that an earlier accepted row has.

    Args:
        columns: per unique column, its label and each row's value as HubSpot compares it (``None``:
            no value).
        rejected: the rows preflight rejects for other reasons; they keep no value.

    Returns:
        one conflict per (row, column), in row order.

    """
    contested = np.zeros(len(rejected), dtype=bool)
    for _, values in columns:
        series = pd.Series(values, dtype=object)
        contested |= (series.notna() & series.duplicated(keep=False)).to_numpy(dtype=bool)
    taken: list[dict[object, int]] = [{} for _ in columns]
    conflicts: list[UniqueConflict] = []
    # Only rows sharing a value with another row can conflict: the loop is over those few.
    for position in np.flatnonzero(contested & ~np.asarray(rejected, dtype=bool)).tolist():
        cells = [values[position] for _, values in columns]
        found = [
            UniqueConflict(position, column, keeps[value])
            for (column, _), keeps, value in zip(columns, taken, cells, strict=True)
            if value is not None and value in keeps
        ]
        if found:
            conflicts.extend(found)
            continue
        for keeps, value in zip(taken, cells, strict=True):
            if value is not None:
                keeps[value] = position
    return conflicts
