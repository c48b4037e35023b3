"""Turn DataFrame columns into HubSpot property value strings, one whole column at a time.

HubSpot's batch-create API takes every property value as a string (reference §9). This module decides
the string for each cell, per column and vectorized wherever the dtype allows it:

==============================  ===================================================================
value                           sent as
==============================  ===================================================================
null (None, NaN, NaT, pd.NA)    nothing: the property is omitted (never ``"nan"``/``"None"``/``"NaT"``)
bool, ``boolean``               ``"true"`` / ``"false"``
int, ``Int64`` (also with NA)   ``"42"``; Python ints of any size exactly (beyond 4,300 digits too);
                                more than 65,536 characters → invalid
float                           whole numbers as integers (``42.0`` → ``"42"``, ``-0.0`` → ``"0"``,
                                ``1e21`` → ``"1000000000000000000000"``); others in their shortest
                                round-trip form without exponent (``0.1`` → ``"0.1"``,
                                ``1e-7`` → ``"0.0000001"``); ``inf`` is reported as invalid
Decimal                         plain notation (``Decimal("1E+3")`` → ``"1000"``); infinite, sNaN or
                                over 65,536 characters → invalid
``datetime.date``, date32       ``YYYY-MM-DD``
tz-aware datetime               ISO 8601 in UTC with milliseconds: ``2026-11-28T15:16:36.000Z``, any
                                unit, exactly (digits below the ms dropped); outside 0001-01-01 ..
                                9999-12-31T23:59:59.999Z → invalid (:mod:`hubspot_loader.core.datetimes`)
naive datetime                  taken to be wall-clock time in ``naive_timezone`` (default ``UTC``,
                                IANA rules as :mod:`zoneinfo`), then as above; a wall-clock time that
                                does not exist or is ambiguous there (DST changes) is invalid
list, tuple, set, ndarray       multi-checkbox ``a;b;c`` (elements formatted by these rules; null
                                elements skipped; sets sorted); an empty list is **omitted** (sending
                                ``""`` would clear the property); an element containing ``;`` is invalid
str                             unchanged (no stripping; unicode and emoji intact; ``""`` is sent as
                                ``""``); longer than 65,536 characters → invalid; a lone
                                surrogate (no UTF-8 form) → invalid
bytes                           decoded as UTF-8 (invalid UTF-8 → invalid)
categorical                     its categories formatted by these rules
anything else                   ``str(value)`` (UUIDs ...); dicts, times of day and timedeltas are
                                invalid
==============================  ===================================================================

Cells that cannot be formatted are not sent: :func:`format_series` returns ``None`` for them and
reports each as a :class:`CellError` (position, column, reason), so the caller can reject the row.

The formatting is by dtype only. Whether a datetime is at midnight for a HubSpot ``date`` property is a
preflight concern, not decided here.
"""

from __future__ import annotations

import datetime as dt
import operator
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_object_dtype,
    is_string_dtype,
    is_timedelta64_dtype,
)

from hubspot_loader.core.datetimes import (
    InvalidDatetime,
    datetime_text,
    format_datetime_ints,
    format_datetime_series,
)
from hubspot_loader.core.text_cells import MAX_STRING_LENGTH as MAX_STRING_LENGTH
from hubspot_loader.core.text_cells import InvalidValue, format_texts, fresh_text, too_long_reason
from hubspot_loader.core.text_cells import encodable as encodable
from hubspot_loader.core.timezones import check_zone

_EXACT_INT_LIMIT = 2.0**53
_MAX_INT_BITS = 217_707
"""An int of more bits is at least 2**217,707 > 10**65,536: it has more than 65,536 digits."""
_TZINFO = operator.attrgetter("tzinfo")
_NUMBER_TOO_LONG = f"the number written out has more than HubSpot's {MAX_STRING_LENGTH:,} characters"
_LIST_TYPES = (list, tuple, set, frozenset, np.ndarray)
_HASHABLE_KINDS = ("date", "datetime", "decimal")
_TYPED_KINDS = {"boolean": "boolean", "integer": "Int64", "floating": "float64"}
_MAX_REASON = 500


@dataclass(frozen=True)
class CellError:
    """One cell that cannot be sent.

    ``position`` is the cell's 0-based position within the series that was formatted.
    """

    position: int
    column: str
    reason: str


@dataclass
class FormattedColumn:
    """The formatted values of one column (``None`` = omit the property) and its invalid cells."""

    values: list[str | None]
    errors: list[CellError] = field(default_factory=list)


def format_series(
    series: pd.Series, *, column: Hashable | None = None, naive_timezone: str = "UTC"
) -> FormattedColumn:
    """Format every cell of ``series`` as a HubSpot property value.

    Args:
        series: the column, any dtype; only its positions matter (the index is ignored).
        column: the name used in error reports (default: ``series.name``).
        naive_timezone: the IANA zone naive datetimes are wall-clock times in (default ``UTC``).

    Returns:
        one ``str | None`` per cell, in order, and a :class:`CellError` for each cell that cannot be
        formatted (its value is ``None``).

    Raises:
        ValueError: ``naive_timezone`` is not an IANA time zone (when a cell is a naive datetime).

    Nothing else is raised, whatever the cells hold. Should the vectorized path of a column raise (a
    cell that no rule expects, e.g. an object whose ``str()`` raises), the column is formatted cell by
    cell, and each cell that cannot be formatted is reported with the error it raised.

    """
    name = str(series.name if column is None else column)
    try:
        return _by_dtype(series, name, naive_timezone)
    except Exception:  # a cell no vectorized rule expects: cell by cell, each failure reported for its cell
        check_zone(naive_timezone)  # an unknown zone is the caller's mistake, not a cell's
        return _cell_by_cell(series, name, naive_timezone)


def _by_dtype(series: pd.Series, name: str, naive_timezone: str) -> FormattedColumn:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _format_categorical(series, name, naive_timezone)
    if is_bool_dtype(dtype):
        return _format_bool(series)
    if is_integer_dtype(dtype):
        return _format_int(series)
    if is_float_dtype(dtype):
        return _format_float(series, name)
    if is_datetime64_any_dtype(dtype):
        return _format_datetime(series, name, naive_timezone)
    if is_timedelta64_dtype(dtype):
        return _format_objects(series.astype(object), name, naive_timezone)
    if isinstance(dtype, pd.ArrowDtype) or is_object_dtype(dtype) or is_string_dtype(dtype):
        return _format_objects(series, name, naive_timezone)
    return _format_objects(series.astype(object), name, naive_timezone)


def format_value(value: Any, *, naive_timezone: str = "UTC") -> str | None:
    """Format one scalar (or list) by the rules of :func:`format_series`.

    Returns ``None`` for nulls and empty lists.

    Raises:
        ValueError: the value cannot be sent (the message says why; a value no rule expects, e.g. one
            whose ``str()`` raises, names the error it raised).

    """
    try:
        return _scalar(value, naive_timezone)
    except ValueError:
        raise
    except Exception as exc:  # a value no rule expects: say which error it raised
        raise InvalidValue(_unexpected(exc)) from exc


# --- per-dtype fast paths -------------------------------------------------------------------------


def _masked(strings: list[str], mask: np.ndarray) -> list[str | None]:
    out: list[str | None] = list(strings)
    if mask.any():
        for i in np.flatnonzero(mask).tolist():
            out[i] = None
    return out


def _format_bool(series: pd.Series) -> FormattedColumn:
    mask = series.isna().to_numpy()
    flags = series.to_numpy(dtype=bool, na_value=False)
    return FormattedColumn(_masked(np.where(flags, "true", "false").tolist(), mask))


def _format_int(series: pd.Series) -> FormattedColumn:
    mask = series.isna().to_numpy()
    unsigned = series.dtype.kind == "u"
    ints = series.to_numpy(dtype="uint64" if unsigned else "int64", na_value=0)
    return FormattedColumn(_masked(list(map(str, ints.tolist())), mask))


def _format_float(series: pd.Series, name: str) -> FormattedColumn:
    # float32 keeps its own shortest form (0.1f → "0.1", not "0.10000000149011612").
    target = np.float32 if str(series.dtype).lower() == "float32" else np.float64
    return _format_float_array(series.to_numpy(dtype=target, na_value=np.nan), name)


def _format_float_array(values: np.ndarray, name: str) -> FormattedColumn:
    nulls = np.isnan(values)
    infinite = np.isinf(values)
    finite = ~(nulls | infinite)
    whole = finite & (np.abs(values) < _EXACT_INT_LIMIT)
    whole[whole] = np.floor(values[whole]) == values[whole]
    out = np.full(len(values), None, dtype=object)
    if whole.any():
        out[whole] = list(map(str, values[whole].astype(np.int64).tolist()))
    rest = finite & ~whole
    if rest.any():
        # Warehouse floats repeat (prices, rates): format each distinct value once.
        codes, uniques = pd.factorize(values[rest])
        out[rest] = np.array(_float_texts(uniques), dtype=object)[codes]
    errors = [
        CellError(i, name, f"{values[i]} is not a valid HubSpot number (infinite)")
        for i in np.flatnonzero(infinite).tolist()
    ]
    return FormattedColumn(out.tolist(), errors)


def _float_texts(values: np.ndarray) -> list[str]:
    """Shortest round-trip digits of finite non-integral floats, never in exponent notation."""
    # float32 keeps its own shortest form (0.1f → "0.1", not "0.10000000149011612").
    texts = list(map(repr, values.tolist())) if values.dtype == np.float64 else list(map(str, values))
    # One C-level scan for the rare exponent or trailing ".0" forms before looking cell by cell.
    joined = "\n".join(texts) + "\n"
    if "e" in joined or ".0\n" in joined:
        for i, text in enumerate(texts):
            if "e" in text or text.endswith(".0"):
                texts[i] = np.format_float_positional(values[i], trim="-")
    return texts


def _format_datetime(series: pd.Series, name: str, naive_timezone: str) -> FormattedColumn:
    texts, problems = format_datetime_series(series, naive_timezone)
    return FormattedColumn(texts, [CellError(i, name, reason) for i, reason in problems])


def _format_categorical(series: pd.Series, name: str, naive_timezone: str) -> FormattedColumn:
    categories = pd.Series(series.cat.categories)
    formatted = format_series(categories, column=name, naive_timezone=naive_timezone)
    return _by_codes(formatted, series.cat.codes.to_numpy(), name)


def _by_codes(distinct: FormattedColumn, codes: np.ndarray, name: str) -> FormattedColumn:
    """Expand the formatted distinct values to cells by their codes (-1 = null)."""
    texts = np.array([*distinct.values, None], dtype=object)
    errors = []
    if distinct.errors:
        bad = {e.position: e.reason for e in distinct.errors}
        errors = [CellError(i, name, bad[c]) for i, c in enumerate(codes.tolist()) if c in bad]
    return FormattedColumn(texts[codes].tolist(), errors)


def _format_objects(series: pd.Series, name: str, naive_timezone: str) -> FormattedColumn:
    kind = infer_dtype(series, skipna=True)
    if kind == "empty":
        return FormattedColumn([None] * len(series))
    if kind == "string":
        texts, problems = format_texts(series.astype(object).to_numpy())
        return FormattedColumn(texts, [CellError(i, name, reason) for i, reason in problems])
    if kind in _TYPED_KINDS and not isinstance(series.dtype, pd.ArrowDtype):
        try:
            typed = series.astype(pd.api.types.pandas_dtype(_TYPED_KINDS[kind]))
        except (TypeError, ValueError, OverflowError):
            pass  # e.g. ints beyond int64: format element by element below
        else:
            return format_series(typed, column=name, naive_timezone=naive_timezone)
    values = series.astype(object).to_numpy()
    # Aware datetimes that differ only in ``fold`` compare and hash equal (PEP 495) but are different
    # instants: those columns are not deduplicated.
    if kind in _HASHABLE_KINDS and not (kind == "datetime" and any(getattr(v, "fold", 0) for v in values)):
        # Dates and timestamps repeat: format each distinct value once.
        try:
            if kind == "decimal":  # equal decimals can differ in text (0.0 and 0, 1.50 and 1.5): by text
                codes = pd.factorize(np.array(list(map(str, values)), dtype=object))[0]
                uniques = values[np.unique(codes, return_index=True)[1]]
            else:
                codes, uniques = pd.factorize(values)
        except TypeError:  # an unhashable value, e.g. Decimal("sNaN"): cell by cell
            return _format_cells(values, name, naive_timezone)
        distinct = _format_plain_dates(uniques) if kind == "date" else None
        if distinct is None and kind == "datetime":
            distinct = _format_naive_datetimes(uniques, name, naive_timezone)
        if distinct is None:
            distinct = _format_cells(np.asarray(uniques, dtype=object), name, naive_timezone)
        return _by_codes(distinct, codes, name)
    return _format_cells(values, name, naive_timezone)


def _format_plain_dates(uniques: Any) -> FormattedColumn | None:
    """``YYYY-MM-DD`` for distinct ``datetime.date`` values in one C-level pass (``None``: not all dates).

    ``infer_dtype`` also says "date" when datetimes are mixed in; those keep the cell-by-cell path.
    """
    values = list(uniques)
    if set(map(type, values)) != {dt.date}:
        return None
    return FormattedColumn(list(map(dt.date.isoformat, values)))


def _format_naive_datetimes(uniques: Any, name: str, naive_timezone: str) -> FormattedColumn | None:
    """Distinct naive ``datetime.datetime`` values, vectorized (``None``: not all of them are).

    A ``datetime`` always lies in years 1-9999, so microseconds since 1970 hold it exactly.
    """
    values = list(uniques)
    if set(map(type, values)) != {dt.datetime} or set(map(_TZINFO, values)) != {None}:
        return None
    raw = np.array(values, dtype="datetime64[us]").view(np.int64)
    texts, problems = format_datetime_ints(raw, "us", naive_timezone)
    return FormattedColumn(texts, [CellError(i, name, reason) for i, reason in problems])


def _format_cells(values: np.ndarray, name: str, naive_timezone: str) -> FormattedColumn:
    """Format an ``object`` array cell by cell; never raises (an unexpected error is the cell's reason)."""
    cells = values.tolist()
    try:
        nulls = pd.isna(values).tolist()
    except Exception:  # e.g. Decimal("sNaN") cannot even be compared: judge cell by cell
        nulls = [_is_null(value) for value in cells]
    out: list[str | None] = [None] * len(values)
    errors: list[CellError] = []
    for i, (value, null) in enumerate(zip(cells, nulls, strict=True)):
        if null:
            continue
        try:
            out[i] = _scalar(value, naive_timezone)
        except InvalidValue as exc:
            errors.append(CellError(i, name, str(exc)))
        except Exception as exc:  # a cell no rule expects (its str() raises ...): rejected with the error
            check_zone(naive_timezone)  # unless the zone is unknown: that is the caller's mistake
            errors.append(CellError(i, name, _unexpected(exc)))
    return FormattedColumn(out, errors)


def _cell_by_cell(series: pd.Series, name: str, naive_timezone: str) -> FormattedColumn:
    """Format ``series`` cell by cell (the fallback of :func:`format_series`)."""
    try:
        values = series.to_numpy(dtype=object)
    except Exception as exc:  # not even the cells can be read: every cell is reported
        reason = f"the column's cells cannot be read ({_described(exc)})"
        return FormattedColumn([None] * len(series), [CellError(i, name, reason) for i in range(len(series))])
    return _format_cells(values, name, naive_timezone)


def _unexpected(exc: BaseException) -> str:
    return f"the value cannot be formatted ({_described(exc)})"


def _described(exc: BaseException) -> str:
    """``"TypeError: message"``, at most 500 characters (even when the exception's ``str()`` raises)."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception that cannot describe itself
        text = type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON] + " ..."


# --- scalars --------------------------------------------------------------------------------------


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except Exception:  # Decimal("sNaN"), an array-like cell, an object pandas cannot judge: not null
        return False


def _scalar(value: Any, naive_timezone: str) -> str | None:
    """Format one cell; ``None`` = omit. Raises :class:`InvalidValue` when it has no HubSpot form."""
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise InvalidValue(too_long_reason(value))
        return value if value.isascii() else fresh_text(value)
    if isinstance(value, _LIST_TYPES):
        return _multi(value, naive_timezone)
    if _is_null(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return _int_text(int(value))
    if isinstance(value, float | np.floating):
        return _one_float(float(value))
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, dt.datetime | np.datetime64):
        try:
            return datetime_text(value, naive_timezone)
        except InvalidDatetime as exc:
            raise InvalidValue(str(exc)) from None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return _scalar(value.decode("utf-8"), naive_timezone)
        except UnicodeDecodeError as exc:
            raise InvalidValue(f"bytes are not valid UTF-8 ({exc.reason})") from None
    if isinstance(value, dict | dt.time | dt.timedelta | np.timedelta64):
        raise InvalidValue(f"a {type(value).__name__} value has no HubSpot property format")
    if isinstance(value, uuid.UUID):
        return str(value)
    text = str(value)
    return text if text.isascii() else fresh_text(text)


def _int_text(value: int) -> str:
    """Return the exact decimal digits of an int of any size, if it has at most 65,536 characters.

    ``str(int)`` refuses more than ``sys.get_int_max_str_digits()`` digits (4,300 by default), a guard
    against quadratic-time conversions. Raising that limit is process-wide, for every thread, so longer
    ints go through :class:`decimal.Decimal`, whose construction from an int and whose ``str`` are exact
    and unlimited. Ints too long to send are refused by their bit length, before any conversion.
    """
    if value.bit_length() <= _MAX_INT_BITS:
        try:
            text = str(value)
        except ValueError:
            text = str(Decimal(value))
        if len(text) <= MAX_STRING_LENGTH:
            return text
    raise InvalidValue(_NUMBER_TOO_LONG)


def _decimal_text(value: Decimal) -> str:
    """Return plain notation (no exponent; ``-0`` unsigned, as floats), at most 65,536 characters."""
    if not value.is_finite():
        raise InvalidValue(f"{value} is not a valid HubSpot number")
    _, digits, exponent = value.as_tuple()
    # The plain text's length without its sign, known before it is built (a huge exponent is refused cheaply):
    # digits then zeros, or "0." and zeros then digits, or digits with a point inside.
    places = int(exponent)
    length = len(digits) + places if places >= 0 else max(len(digits) + 1, 2 - places)
    if length <= MAX_STRING_LENGTH:
        text = format(value.copy_abs() if value.is_zero() else value, "f")
        if len(text) <= MAX_STRING_LENGTH:
            return text
    raise InvalidValue(_NUMBER_TOO_LONG)


def _one_float(value: float) -> str | None:
    formatted = _format_float_array(np.array([value], dtype="float64"), "")
    if formatted.errors:
        raise InvalidValue(formatted.errors[0].reason)
    return formatted.values[0]


def _multi(values: Any, naive_timezone: str) -> str | None:
    items = list(values)
    if isinstance(values, set | frozenset):
        items = sorted(items, key=str)
    parts = []
    for item in items:
        if isinstance(item, _LIST_TYPES):
            raise InvalidValue("a nested list has no HubSpot property format")
        text = _scalar(item, naive_timezone)
        if text is None:
            continue
        if ";" in text:
            raise InvalidValue(f"list element {text!r} contains ';', the multi-checkbox separator")
        parts.append(text)
    return ";".join(parts) if parts else None
