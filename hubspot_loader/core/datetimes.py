"""Datetimes as sent to HubSpot: exactly the instant in the frame, as ISO 8601 UTC, or a reason why not.

HubSpot takes a ``datetime`` property as ISO 8601 (``2020-02-29T03:30:17.000Z``) or as epoch milliseconds
(reference §9) and keeps milliseconds ("any valid millisecond timestamp would be accepted", the
Timestamps FAQ cited there). It documents no range. The range sent here is
**0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z**: the instants ISO 8601 writes with four-digit
years. Years outside 0000-9999 need ISO 8601's expanded, signed form, which it allows only by agreement
between the parties, and year 0000 is no year of Python's :class:`datetime.datetime`, with which the
preflight and the sandbox read the values. A naive value must also lie in those years on its own
(local) clock. Other values are rejected, naming the value and the range; they are never sent as
another instant.

Precision: HubSpot keeps milliseconds, so finer digits are dropped, toward the past, exactly as cutting
the ISO text does (``23:59:59.9999`` → ``23:59:59.999``, never rounded into the next second or day).

Columns are read as int64 in their own unit (``s``, ``ms``, ``us``, ``ns``) and converted with integer
arithmetic and :mod:`hubspot_loader.core.timezones`, never through ``datetime64[ns]``, which wraps silently
outside 1677-2262. Single values (object columns) are converted with exact Python integers and
:mod:`zoneinfo`, which the vectorized path agrees with.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from hubspot_loader.core.timezones import check_zone, wall_to_utc, zone_table
from hubspot_loader.errors import HubSpotLoaderError

EARLIEST_MS = -62_135_596_800_000
"""0001-01-01T00:00:00.000Z in epoch milliseconds: the earliest datetime sent."""
LATEST_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z in epoch milliseconds: the latest datetime sent."""
RANGE_TEXT = "0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z"
"""The sent range, as the rejection reasons name it."""

_NAT = np.iinfo(np.int64).min
_EPOCH = dt.datetime(1970, 1, 1)
_MS = dt.timedelta(milliseconds=1)
_DAY_MS = 86_400_000
_MS_PER_UNIT = {"W": 604_800_000, "D": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_UNITS_PER_MS = {"us": 10**3, "ns": 10**6, "ps": 10**9, "fs": 10**12, "as": 10**15}

CellProblem = tuple[int, str]
"""(position, reason) of a datetime cell that is not sent."""


class InvalidDatetime(HubSpotLoaderError, ValueError):
    """A datetime that cannot be sent to HubSpot as the instant it is (the message says why)."""


def format_datetime_series(
    series: pd.Series, naive_timezone: str
) -> tuple[list[str | None], list[CellProblem]]:
    """Format a ``datetime64`` column (any unit, naive or tz-aware): texts (``None`` = omit) and problems.

    pyarrow ``timestamp`` columns (``pd.ArrowDtype``) are read the same way, as int64 in their unit.
    """
    if isinstance(series.dtype, pd.ArrowDtype):
        import pyarrow as pa  # present whenever an ArrowDtype is

        arrow = pa.chunked_array(series.array.__arrow_array__())
        if pa.types.is_date(arrow.type):  # date32 (days) or date64 (ms): calendar dates, YYYY-MM-DD
            ints = arrow.cast(pa.int32() if pa.types.is_date32(arrow.type) else pa.int64()).cast(pa.int64())
            days = ints.fill_null(_NAT).to_numpy()
            return _format_days(
                np.where(days == _NAT, _NAT, days // (1 if arrow.type.bit_width == 32 else _DAY_MS))
            )
        raw = arrow.cast(pa.int64()).fill_null(_NAT).to_numpy()  # UTC if tz-aware
        return format_datetime_ints(raw, arrow.type.unit, None if arrow.type.tz else naive_timezone)
    raw = np.asarray(series.array.asi8, dtype=np.int64)  # UTC if tz-aware
    zone = None if series.dt.tz is not None else naive_timezone
    return format_datetime_ints(raw, str(series.dt.unit), zone)


def format_datetime_ints(
    raw: np.ndarray, unit: str, naive_timezone: str | None
) -> tuple[list[str | None], list[CellProblem]]:
    """Format int64 datetimes in ``unit`` (``s``, ``ms``, ``us``, ``ns``; min int64 = NaT).

    ``naive_timezone`` is the zone of their wall clock, or ``None`` when they are UTC instants already.

    Raises:
        ValueError: ``naive_timezone`` is not an IANA time zone.

    """
    null = raw == _NAT
    millis, usable = _to_millis(raw, unit)
    usable &= ~null
    skipped = repeated = np.zeros(len(raw), dtype=bool)
    if naive_timezone is not None:
        millis, matches = wall_to_utc(np.where(usable, millis, 0), zone_table(naive_timezone))
        skipped, repeated = usable & (matches == 0), usable & (matches >= 2)
        usable &= matches == 1
    sent = usable & (millis >= EARLIEST_MS) & (millis <= LATEST_MS)
    texts = np.datetime_as_string(np.where(sent, millis, 0).view("datetime64[ms]"), unit="ms", timezone="UTC")
    out: list[str | None] = texts.tolist()
    problems: list[CellProblem] = []
    if not sent.all():
        for i in np.flatnonzero(~sent).tolist():
            out[i] = None
        for i in np.flatnonzero(~sent & ~null).tolist():
            shown = _shown(raw, unit, naive_timezone is None, i)
            if skipped[i]:
                problems.append((i, _skipped(shown, str(naive_timezone))))
            elif repeated[i]:
                problems.append((i, _repeated(shown, str(naive_timezone))))
            else:
                problems.append((i, _out_of_range(shown, naive_timezone)))
    return out, problems


def datetime_text(value: dt.datetime | np.datetime64, naive_timezone: str) -> str:
    """Return the ISO 8601 UTC text of one ``datetime``, ``pd.Timestamp`` or ``np.datetime64`` (not null).

    Raises:
        InvalidDatetime: out of range, or a naive value whose wall-clock time does not exist or is
            ambiguous in ``naive_timezone``.
        ValueError: ``naive_timezone`` is not an IANA time zone.

    """
    if isinstance(value, pd.Timestamp):
        millis, aware = _datetime64_millis(value.asm8), value.tzinfo is not None  # asm8 is UTC if aware
    elif isinstance(value, np.datetime64):
        millis, aware = _datetime64_millis(value), False
    else:
        try:
            offset = value.utcoffset()
        except Exception as exc:  # a third-party tzinfo may raise anything: the cell is rejected
            raise InvalidDatetime(f"the UTC offset of {value!r} cannot be read ({exc})") from None
        aware = offset is not None
        millis = (value.replace(tzinfo=None) - _EPOCH - (offset or dt.timedelta())) // _MS
    zone = None if aware else naive_timezone
    shown = str(value) if isinstance(value, np.datetime64) else value.isoformat()
    if not aware:
        if not EARLIEST_MS <= millis <= LATEST_MS:
            raise InvalidDatetime(_out_of_range(shown, zone))
        millis = _wall_to_utc_one(millis, naive_timezone, shown)
    if not EARLIEST_MS <= millis <= LATEST_MS:
        raise InvalidDatetime(_out_of_range(shown, zone))
    return (_EPOCH + millis * _MS).isoformat(timespec="milliseconds") + "Z"


def _format_days(days: np.ndarray) -> tuple[list[str | None], list[CellProblem]]:
    """``YYYY-MM-DD`` for int64 days since 1970 (min int64 = null); outside years 1-9999 rejected."""
    null = days == _NAT
    sent = ~null & (days >= EARLIEST_MS // _DAY_MS) & (days <= LATEST_MS // _DAY_MS)
    texts = np.datetime_as_string(np.where(sent, days, 0).view("datetime64[D]"), unit="D")
    out: list[str | None] = texts.tolist()
    problems: list[CellProblem] = []
    for i in np.flatnonzero(~sent).tolist():
        out[i] = None
        if not null[i]:
            shown = np.datetime_as_string(days[i : i + 1].view("datetime64[D]"))[0]
            problems.append(
                (i, f"date {shown} is outside the range sent to HubSpot, 0001-01-01 to 9999-12-31")
            )
    return out, problems


# --- conversions ------------------------------------------------------------------------------------


def _to_millis(raw: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Milliseconds (floored) of int64 values in ``unit``, and which are within the sent range.

    Values outside the range are set to 0 so that later arithmetic cannot overflow.
    """
    if unit == "s":  # compared in seconds: multiplying first could overflow int64
        fits = (raw >= EARLIEST_MS // 1000) & (raw <= LATEST_MS // 1000)
        return np.where(fits, raw, 0) * 1000, fits
    if unit == "ms":
        millis = raw
    elif unit in _UNITS_PER_MS:
        millis = raw // _UNITS_PER_MS[unit]
    else:
        raise ValueError(f"unsupported datetime64 unit {unit!r}")
    fits = (millis >= EARLIEST_MS) & (millis <= LATEST_MS)
    return np.where(fits, millis, 0), fits


def _fold_offsets(wall_ms: int, zone: str) -> tuple[int, int]:
    """(UTC ms, instants: 0 skipped, 1, 2 repeated) of one wall-clock time, by PEP 495's ``fold``."""
    wall, tz = _EPOCH + wall_ms * _MS, check_zone(zone)
    first, second = wall.replace(tzinfo=tz).utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
    if first is None or second is None:
        raise ValueError(f"time zone {zone!r} has no UTC offset")
    if first == second:
        return wall_ms - first // _MS, 1
    return 0, (0 if first < second else 2)  # the clocks go forward over a gap, back over a repeat


def _wall_to_utc_one(wall_ms: int, zone: str, shown: str) -> int:
    utc, matches = _fold_offsets(wall_ms, zone)
    if matches == 0:
        raise InvalidDatetime(_skipped(shown, zone))
    if matches == 2:
        raise InvalidDatetime(_repeated(shown, zone))
    return utc


def _datetime64_millis(value: np.datetime64) -> int:
    """Epoch milliseconds (floored, exact Python int) of a ``np.datetime64`` of any unit."""
    unit, count = np.datetime_data(value.dtype)
    amount = int(value.astype(np.int64)) * count
    if unit in ("Y", "M"):
        months = amount * 12 if unit == "Y" else amount
        year = 1970 + months // 12
        if not 1 <= year <= 9999:
            return LATEST_MS + 1 if year > 9999 else EARLIEST_MS - 1
        return (dt.datetime(year, months % 12 + 1, 1) - _EPOCH) // _MS
    if unit in _MS_PER_UNIT:
        return amount * _MS_PER_UNIT[unit]
    if unit in _UNITS_PER_MS:
        return amount // _UNITS_PER_MS[unit]
    raise InvalidDatetime(f"a datetime64 in unit {unit!r} has no HubSpot property format")


# --- reasons ------------------------------------------------------------------------------------------


def _shown(raw: np.ndarray, unit: str, utc: bool, position: int) -> str:
    """How a cell is named in its reason: ISO 8601 in its own unit, without trailing zeros (``Z`` if UTC)."""
    text = str(np.datetime_as_string(raw[position : position + 1].view(f"datetime64[{unit}]"))[0])
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + ("Z" if utc else "")


def _out_of_range(shown: str, naive_timezone: str | None) -> str:
    where = f" (wall clock in {naive_timezone})" if naive_timezone is not None else ""
    return f"datetime {shown}{where} is outside the range sent to HubSpot, {RANGE_TEXT}"


def _skipped(shown: str, zone: str) -> str:
    return f"local time {shown} does not exist in {zone} (the clocks skip it); give it a UTC offset"


def _repeated(shown: str, zone: str) -> str:
    return f"local time {shown} is ambiguous in {zone} (the clocks repeat it); give it a UTC offset"
