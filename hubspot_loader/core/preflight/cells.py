"""A column as preflight sees it: its raw cells, the exact strings the loader sends, and why not.

Every cell is formatted once with :func:`hubspot_loader.core.formatting.format_series`, the formatter the
load uses, so preflight checks exactly what would be sent. Whatever a cell holds, this never raises: a
cell that cannot be formatted has no wire form and gets the formatter's reason (its row is then
rejected).
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core.formatting import MAX_STRING_LENGTH, format_series
from hubspot_loader.core.preflight.codes import INVALID_STRING_LENGTH, INVALID_VALUE
from hubspot_loader.core.preflight.properties import PropertyDefinition
from hubspot_loader.core.preflight.values import text_codes

LIST_TYPES = (list, tuple, set, frozenset, np.ndarray)


def positional(series: pd.Series) -> pd.Series:
    """Return the values on a fresh RangeIndex (checks work by position, whatever the index).

    Object columns stay ``object``: pandas would otherwise infer a dtype from the cells again (and fail on
    an int too large for a float, for one).
    """
    if series.dtype == object:
        return pd.Series(series.to_numpy(dtype=object), dtype=object, copy=False)
    return pd.Series(series.array, copy=False)


def too_long(value: Any) -> bool:
    """Whether a raw cell, written out, is longer than HubSpot's limit for a value (65,536 characters).

    For a string or a list of strings, and for an int or a ``Decimal`` whose digits alone are more.
    """
    if isinstance(value, str):
        return len(value) > MAX_STRING_LENGTH
    if isinstance(value, np.ndarray):
        value = value.ravel().tolist()  # a 0-d array is one value, and cannot be iterated
    if isinstance(value, LIST_TYPES):
        return any(isinstance(v, str) and len(v) > MAX_STRING_LENGTH for v in value)
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        number = int(value)
        magnitude = abs(number)
        # 2**217,000 < 10**65,325: only ints of more bits can be written with more than 65,536 characters.
        if magnitude.bit_length() <= 217_000:
            return False
        return Decimal(magnitude).adjusted() + 1 + (number < 0) > MAX_STRING_LENGTH
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        fraction = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return max(value.adjusted(), 0) + 1 + fraction + value.is_signed() > MAX_STRING_LENGTH
    return False


class ColumnData:
    """One column of the frame, formatted once: raw cells, wire strings, and the cells without one."""

    def __init__(self, series: pd.Series, naive_timezone: str, column: str | None = None) -> None:
        self.series = series
        self.column = str(series.name) if column is None else column
        self.naive_timezone = naive_timezone
        self._wire: tuple[np.ndarray, np.ndarray, dict[int, str]] | None = None
        self._raw: np.ndarray | None = None
        self._codes: dict[str, np.ndarray] = {}
        self._unique: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.series)

    def _formatted(self) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        if self._wire is None:
            formatted = format_series(
                positional(self.series), column=self.column, naive_timezone=self.naive_timezone
            )
            texts = np.empty(len(self.series), dtype=object)
            texts[:] = formatted.values
            codes = np.full(len(self.series), None, dtype=object)
            reasons = {}
            for error in formatted.errors:
                raw = self.raw[error.position]
                codes[error.position] = INVALID_STRING_LENGTH if too_long(raw) else INVALID_VALUE
                reasons[error.position] = error.reason
            self._wire = texts, codes, reasons
        return self._wire

    @property
    def raw(self) -> np.ndarray:
        """The cells as an ``object`` array."""
        if self._raw is None:
            self._raw = self.series.to_numpy(dtype=object)
        return self._raw

    @property
    def texts(self) -> np.ndarray:
        """The wire strings (``None``: omitted, or no wire form)."""
        return self._formatted()[0]

    @property
    def format_codes(self) -> np.ndarray:
        """The code of each cell that has no wire form (``None`` elsewhere)."""
        return self._formatted()[1]

    def format_reason(self, position: int) -> str | None:
        """Why the cell at ``position`` has no wire form (``None``: it has one, or it is null)."""
        return self._formatted()[2].get(position)

    def value_codes(self, prop: PropertyDefinition) -> np.ndarray:
        """Return the HubSpot error code each cell would get as a value of ``prop`` (``None``: accepted)."""
        if prop.name not in self._codes:
            self._codes[prop.name] = text_codes(self.texts, self.format_codes, prop)
        return self._codes[prop.name]

    def sent(self) -> np.ndarray:
        """Mark the cells the loader would send (any non-omitted value, even ``""``) or reject."""
        return np.asarray(pd.notna(self.texts) | pd.notna(self.format_codes), dtype=bool)

    def has_text(self) -> np.ndarray:
        """Mark the cells with a non-empty wire string."""
        texts = self.texts
        return np.asarray(pd.notna(texts) & (texts != ""), dtype=bool)

    def unique_values(self, prop: PropertyDefinition) -> np.ndarray:
        """Return the values as HubSpot compares them for uniqueness (``None``: no value)."""
        cached = self._unique.get(prop.name)
        if cached is None:
            values = prop.normalise(pd.Series(self.texts, dtype=object))
            present = (values.notna() & (values != "")).to_numpy(dtype=bool)
            cached = np.full(len(values), None, dtype=object)
            cached[present] = values.to_numpy(dtype=object)[present]
            self._unique[prop.name] = cached
        return cached

    def key_problems(self) -> np.ndarray:
        """Mark the rows whose warehouse key (this column) is null, unformattable or not unique."""
        keys = pd.Series(self.texts, dtype=object)
        present = keys.notna().to_numpy()
        return np.asarray(~present | (keys.duplicated(keep=False).to_numpy() & present), dtype=bool)


class FrameData:
    """The frame's columns as :class:`ColumnData`, each formatted once, by column name (as text).

    Columns are taken by position, so any labels work (``0``, ``1.5``, ``False`` ...) once their text
    forms are unique (:func:`~hubspot_loader.core.plan.check_column_names`).
    """

    def __init__(self, df: pd.DataFrame, naive_timezone: str) -> None:
        self.df = df
        self.naive_timezone = naive_timezone
        self._positions = {str(label): i for i, label in enumerate(df.columns)}
        self._columns: dict[str, ColumnData] = {}

    def __len__(self) -> int:
        return len(self.df)

    def resolve(self, name: Hashable) -> str | None:
        """Return the column's name as text (``0`` → ``"0"``); ``None`` when the frame has no such column."""
        text = str(name)
        return text if text in self._positions else None

    def label(self, name: str) -> Hashable:
        """Return the frame's own label of column ``name``."""
        return self.df.columns[self._positions[name]]

    def column(self, name: str) -> ColumnData:
        """Return the column ``name`` (as given by :meth:`resolve`)."""
        if name not in self._columns:
            series = self.df.iloc[:, self._positions[name]]
            self._columns[name] = ColumnData(series, self.naive_timezone, name)
        return self._columns[name]


def duplicated_values(series: pd.Series, prop: PropertyDefinition, naive_timezone: str) -> np.ndarray:
    """Mark every row whose unique value an earlier row of the column already has (the first one is kept).

    This is the check of the plain pandera schema, which sees one column at a time.
    :func:`~hubspot_loader.core.preflight.run_preflight` decides across whole rows instead: the first row
    HubSpot would *accept* keeps the value (:mod:`hubspot_loader.core.preflight.unique`).
    """
    values = pd.Series(ColumnData(series, naive_timezone).unique_values(prop), dtype=object)
    return np.asarray(values.notna() & values.duplicated(keep="first"), dtype=bool)
