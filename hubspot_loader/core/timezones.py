"""Wall-clock times to UTC in an IANA time zone, a whole array at once, as :mod:`zoneinfo` decides them.

Naive datetimes are wall-clock times in ``naive_timezone``. pandas cannot be trusted to turn them into
UTC: with a zone name it uses pytz, whose tables end in 2037 (a summer time in New York in 2050 comes
out as EST, an hour off) and which calls a time before a zone's first transition non-existent (New
York in the year 210); with a :class:`zoneinfo.ZoneInfo` it calls Python for every value and overflows
before 1678. And nanosecond values near 1677 and 2262 wrap around when shifted.

This module reads the zone's TZif file (RFC 8536), the one :class:`zoneinfo.ZoneInfo` reads, searched
the same way (``zoneinfo.TZPATH``, then the ``tzdata`` package), into a table of UTC offsets: the file's
transitions, then those of its POSIX TZ footer rule for every year up to 10000. A wall-clock time
(milliseconds since 1970 on the local clock) then has its UTC instants found with
:func:`numpy.searchsorted` on int64 milliseconds: exactly one (the usual case), none (the clocks skip it
when they go forward) or two (they repeat it when they go back). The tests compare the result with
:mod:`zoneinfo` (PEP 495's ``fold``) over every zone.

Reading the time-zone database is the only I/O, as for :class:`zoneinfo.ZoneInfo`; tables are cached.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import struct
import zoneinfo
from dataclasses import dataclass

import numpy as np

_FIRST_PERIOD = -(2**62)
"""The start of a zone's first period: before any representable time."""
_CLIP_S = 10**13
"""Transition times are clipped to +-10**13 s (300,000 years) so that milliseconds fit in int64."""
_LAST_RULE_YEAR = 10_000
"""The footer rule is expanded through this year (local 9999-12-31 plus any offset)."""

_NAME = r"(?:<[^>]*>|[A-Za-z]+)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}){0,2}"
_DATE = r"(?:M\d{1,2}\.\d\.\d|J\d{1,3}|\d{1,3})"
_TZ_STRING = re.compile(
    rf"(?P<std>{_NAME})(?P<std_offset>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_offset>{_OFFSET})?"
    rf"(?:,(?P<start>{_DATE})(?:/(?P<start_time>{_OFFSET}))?,(?P<end>{_DATE})(?:/(?P<end_time>{_OFFSET}))?)?)?"
)


@dataclass(frozen=True)
class ZoneTable:
    """A zone's UTC offsets: from ``starts[i]`` until ``starts[i + 1]`` (UTC ms) it is ``offsets[i]`` ms."""

    name: str
    starts: np.ndarray
    offsets: np.ndarray
    widest: int
    """The largest absolute offset (ms): a wall-clock time is within this of its UTC instants."""


def check_zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the :class:`zoneinfo.ZoneInfo` called ``name``.

    Raises:
        ValueError: there is no such IANA time zone (the message names it).

    """
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, KeyError, OSError, TypeError) as exc:
        raise ValueError(f"naive_timezone {name!r} is not an IANA time zone ({exc})") from None


@functools.lru_cache(maxsize=64)
def zone_table(name: str) -> ZoneTable:
    """Return the offset table of the IANA zone ``name``.

    Raises:
        ValueError: there is no such IANA time zone, or its TZif file cannot be read.

    """
    check_zone(name)
    data = _tzif_bytes(name)
    try:
        if data is None:
            raise ValueError("no TZif file found")
        return _table(name, *_parse_tzif(data))
    except (ValueError, struct.error, IndexError) as exc:
        raise ValueError(f"the time-zone data of {name!r} cannot be read ({exc})") from None


def wall_to_utc(wall_ms: np.ndarray, table: ZoneTable) -> tuple[np.ndarray, np.ndarray]:
    """UTC milliseconds for wall-clock milliseconds (int64), and how many UTC instants each has.

    The count is 1 for an ordinary time, 0 for a time the clocks skip, 2 for one they repeat (the UTC
    value is then the earlier instant). ``wall_ms`` must lie within about 300,000 years of 1970.
    """
    starts, offsets = table.starts, table.offsets
    if len(starts) == 1:
        return wall_ms - offsets[0], np.ones(len(wall_ms), dtype=np.int8)
    last = len(starts) - 1
    # An instant u has wall time u + offset(u), with |offset| <= widest: the periods an instant of this
    # wall time can lie in are those overlapping [wall - widest, wall + widest].
    low = np.searchsorted(starts, wall_ms - table.widest, side="right") - 1
    high = np.searchsorted(starts, wall_ms + table.widest, side="right") - 1
    utc = np.zeros(len(wall_ms), dtype=np.int64)
    matches = np.zeros(len(wall_ms), dtype=np.int8)
    for step in range(int((high - low).max(initial=0)) + 1):
        period = np.minimum(low + step, last)
        candidate = wall_ms - offsets[period]
        following = starts[np.minimum(period + 1, last)]
        inside = (low + step <= high) & (candidate >= starts[period])
        inside &= (period == last) | (candidate < following)
        utc = np.where(inside & (matches == 0), candidate, utc)
        matches += inside
    return utc, matches


# --- TZif (RFC 8536) ----------------------------------------------------------------------------------


def _tzif_bytes(name: str) -> bytes | None:
    """Read the TZif file :class:`zoneinfo.ZoneInfo` reads for ``name``: from ``TZPATH``, else ``tzdata``."""
    for directory in zoneinfo.TZPATH:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            try:
                with open(path, "rb") as handle:
                    return handle.read()
            except OSError:
                return None
    try:
        resource = importlib.resources.files("tzdata").joinpath("zoneinfo", *name.split("/"))
        return resource.read_bytes()
    except (ImportError, OSError, ValueError):
        return None


def _parse_tzif(data: bytes) -> tuple[list[int], list[int], list[tuple[int, bool]], str | None]:
    """Transition times (s), their type indices, the types (UTC offset s, is DST) and the footer rule."""
    if data[:4] != b"TZif":
        raise ValueError("not a TZif file")
    counts = struct.unpack(">6l", data[20:44])
    size = 4
    body = data[44:]
    if data[4:5] not in (b"\0", b"1"):  # version 2+: skip the 32-bit block to the 64-bit one
        isut, isstd, leap, times, types, chars = counts
        second = 44 + times * 5 + types * 6 + chars + leap * 8 + isstd + isut
        if data[second : second + 4] != b"TZif":
            raise ValueError("no 64-bit TZif block")
        counts = struct.unpack(">6l", data[second + 20 : second + 44])
        size, body = 8, data[second + 44 :]
    isut, isstd, leap, times, types, chars = counts
    transitions = list(struct.unpack(f">{times}{'l' if size == 4 else 'q'}", body[: times * size]))
    at = times * size
    indices = list(body[at : at + times])
    at += times
    kinds = [struct.unpack(">lBB", body[at + 6 * i : at + 6 * i + 6])[:2] for i in range(types)]
    at += types * 6 + chars + leap * (size + 4) + isstd + isut
    footer = None
    if size == 8 and body[at : at + 1] == b"\n":
        end = body.index(b"\n", at + 1)
        footer = body[at + 1 : end].decode("ascii") or None
    return transitions, indices, [(offset, bool(dst)) for offset, dst in kinds], footer


def _table(
    name: str, transitions: list[int], indices: list[int], kinds: list[tuple[int, bool]], footer: str | None
) -> ZoneTable:
    if not kinds:
        raise ValueError("a TZif file without local time types")
    # Before the first transition: the first standard-time type (zoneinfo's choice; RFC 8536 says type 0,
    # which zic makes the same one). With no transitions at all, the last type holds throughout.
    before = next((offset for offset, dst in kinds if not dst), kinds[0][0]) if transitions else kinds[-1][0]
    starts = [_FIRST_PERIOD, *(max(-_CLIP_S, min(_CLIP_S, t)) * 1000 for t in transitions)]
    offsets = [before, *(kinds[i][0] for i in indices)]
    if footer is not None:
        # The footer rule holds after the last transition (as zoneinfo: from the second after it).
        last = transitions[-1] if transitions else None
        rule_starts, rule_offsets = _footer_periods(footer, last)
        if last is None:
            starts, offsets = [], []
        elif rule_offsets[0] != offsets[-1]:
            starts.append((min(_CLIP_S, last) + 1) * 1000)
            offsets.append(rule_offsets[0])
        starts += rule_starts if last is None else rule_starts[1:]
        offsets += rule_offsets if last is None else rule_offsets[1:]
    starts_ms = np.array(starts, dtype=np.int64)
    offsets_ms = np.array(offsets, dtype=np.int64) * 1000
    return ZoneTable(name, starts_ms, offsets_ms, int(np.abs(offsets_ms).max()) + 1)


# --- the POSIX TZ footer ------------------------------------------------------------------------------


def _footer_periods(footer: str, after_s: int | None) -> tuple[list[int], list[int]]:
    """Periods of the footer rule after ``after_s`` (the last explicit transition, s; ``None``: always).

    Returns period starts (UTC ms; the first is ``_FIRST_PERIOD``, for the period in effect at
    ``after_s``) and their offsets (s).
    """
    match = _TZ_STRING.fullmatch(footer)
    if match is None:
        raise ValueError(f"unsupported TZ rule {footer!r}")
    std = -_seconds(match["std_offset"])
    if match["dst"] is None:
        return [_FIRST_PERIOD], [std]
    if match["start"] is None:
        raise ValueError(f"TZ rule without transition dates {footer!r}")
    dst = -_seconds(match["dst_offset"]) if match["dst_offset"] else std + 3600
    first_year = 1 if after_s is None else max(1, 1970 + after_s // 31_556_952 - 2)
    years = np.arange(first_year, _LAST_RULE_YEAR + 1, dtype=np.int64)
    start_time = _seconds(match["start_time"]) if match["start_time"] else 7200
    end_time = _seconds(match["end_time"]) if match["end_time"] else 7200
    # Start times are given on the standard-time clock, end times on the daylight-time clock.
    begins = (_rule_days(match["start"], years) * 86_400 + start_time - std) * 1000
    ends = (_rule_days(match["end"], years) * 86_400 + end_time - dst) * 1000
    # Ends first, so that where a year's end meets the next year's start (DST all year), DST holds.
    times = np.concatenate([ends, begins])
    targets = np.concatenate([np.full(len(ends), std), np.full(len(begins), dst)])
    order = np.argsort(times, kind="stable")
    times, targets = times[order], targets[order]
    cut = 0 if after_s is None else int(np.searchsorted(times, after_s * 1000, side="right"))
    current = int(targets[cut - 1]) if cut else (std if targets[0] == dst else dst)
    return [_FIRST_PERIOD, *times[cut:].tolist()], [current, *targets[cut:].tolist()]


def _seconds(text: str) -> int:
    """``[+-]hh[:mm[:ss]]`` in seconds."""
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _rule_days(rule: str, years: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a POSIX TZ transition date (``Mm.w.d``, ``Jn``, ``n``) in each year."""
    jan1 = _month_days((years - 1970) * 12)
    if rule.startswith("M"):
        month, week, weekday = (int(p) for p in rule[1:].split("."))
        months = (years - 1970) * 12 + month - 1
        first, following = _month_days(months), _month_days(months + 1)
        # 1970-01-01 was a Thursday (day 4, counting from Sunday = 0).
        day = first + (weekday - (first + 4) % 7) % 7 + 7 * (week - 1)
        return np.where(day >= following, day - 7, day)  # week 5: the month's last such weekday
    if rule.startswith("J"):  # 1-365, February 29 never counted
        number = int(rule[1:])
        leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
        return jan1 + number - 1 + (leap & (number >= 60))
    return jan1 + int(rule)  # 0-365, February 29 counted


def _month_days(months_since_1970: np.ndarray) -> np.ndarray:
    return months_since_1970.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
