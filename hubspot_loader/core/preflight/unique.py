"""Unique values: which row keeps each value, and which rows HubSpot would refuse for one.

HubSpot refuses an object whose ``hasUniqueValue`` property (``email`` compared case-insensitively) holds a
value another object already has, as already existing (``CONFLICT``, reference §5.4). Only a row that is
*created* takes its values: a row HubSpot rejects for another reason (an invalid option, an invalid email,
a bad key ...) takes nothing, so the next row with that value is created. Rows are taken in frame order,
the way preflight makes the outcome deterministic:

- a value an existing record holds (online preflight read it, :mod:`~hubspot_loader.core.preflight.existing`)
  refuses every row that sends it, naming that record;
- otherwise the first row that would be accepted keeps the value, and every later row with it is flagged
  ``DUPLICATE_UNIQUE_VALUE``;
- a row refused for one unique column takes none of its other unique values either, and neither does a
  row HubSpot refuses after the unique check (an association to a record that does not exist: ``held_back``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class UniqueConflict:
    """Row ``position`` repeats a unique value of ``column``.

    ``existing_id`` names the existing record that holds it; without one, row ``keeper`` (earlier in the
    frame) keeps it.
    """

    position: int
    column: str
    keeper: int = -1
    existing_id: str | None = None


def unique_conflicts(
    columns: Sequence[tuple[str, np.ndarray]],
    rejected: np.ndarray,
    *,
    holders: Sequence[np.ndarray] | None = None,
    held_back: np.ndarray | None = None,
) -> list[UniqueConflict]:
    """Find the rows HubSpot would refuse for a unique value an existing record or an earlier row has.

    Args:
        columns: per unique column, its label and each row's value as HubSpot compares it (``None``:
            no value).
        rejected: rows not checked: preflight rejects them for other reasons, or they are not sent; they
            keep no value.
        holders: per column (same order), each row's existing record id that holds its value (``None``:
            no existing record holds it, or it was not read).
        held_back: rows HubSpot refuses only after the unique check; they are checked, but keep no value.

    Returns:
        one conflict per (row, column), in row order.

    """
    skip = np.asarray(rejected, dtype=bool)
    contested = np.zeros(len(skip), dtype=bool)
    for _, values in columns:
        series = pd.Series(values, dtype=object)
        contested |= (series.notna() & series.duplicated(keep=False)).to_numpy(dtype=bool)
    holds = list(holders) if holders is not None else [np.full(len(skip), None, dtype=object)] * len(columns)
    for held in holds:
        contested |= pd.notna(pd.Series(held, dtype=object)).to_numpy(dtype=bool)
    back = np.zeros(len(skip), dtype=bool) if held_back is None else np.asarray(held_back, dtype=bool)
    taken: list[dict[object, int]] = [{} for _ in columns]
    conflicts: list[UniqueConflict] = []
    # Only rows sharing a value with another row or an existing record can conflict: the loop is over those.
    for position in np.flatnonzero(contested & ~skip).tolist():
        found = []
        for (column, values), held, keeps in zip(columns, holds, taken, strict=True):
            value = values[position]
            if value is None:
                continue
            if held[position] is not None:
                found.append(UniqueConflict(position, column, existing_id=str(held[position])))
            elif value in keeps:
                found.append(UniqueConflict(position, column, keeper=keeps[value]))
        if found:
            conflicts.extend(found)
            continue
        if back[position]:
            continue
        for (_, values), keeps in zip(columns, taken, strict=True):
            if values[position] is not None:
                keeps[values[position]] = position
    return conflicts
