"""Wall-clock → UTC tables (hubspot_loader.core.timezones) agree with zoneinfo in every zone.

The expectation is always the standard library's: a wall-clock time has one UTC instant when PEP 495's
``fold=0`` and ``fold=1`` give the same offset; otherwise the clocks skip it (the offset grows) or repeat
it (the offset shrinks).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import zoneinfo
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_loader.core.timezones import ZoneTable, check_zone, wall_to_utc, zone_table

ZONES = sorted(zoneinfo.available_timezones())
EPOCH = dt.datetime(1970, 1, 1)
MS = dt.timedelta(milliseconds=1)
EARLIEST_MS, LATEST_MS = -62_135_596_800_000, 253_402_300_799_999  # 0001-01-01 .. 9999-12-31T23:59:59.999
HOUR = 3_600_000


def zoneinfo_answer(wall_ms: int, zone: zoneinfo.ZoneInfo) -> tuple[int | None, int]:
    """(UTC ms or None, number of instants) of a wall-clock time, by the standard library."""
    wall = EPOCH + wall_ms * MS
    first, second = wall.replace(tzinfo=zone).utcoffset(), wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert first is not None and second is not None
    if first == second:
        return wall_ms - first // MS, 1
    return None, (0 if first < second else 2)


def probes(table: ZoneTable, rng: np.random.Generator, per_zone: int) -> np.ndarray:
    """Wall times right around some of the zone's transitions, and anywhere in years 1-9999."""
    inner = table.starts[1:]
    inner = inner[(inner > EARLIEST_MS + 2 * 86_400_000) & (inner < LATEST_MS - 2 * 86_400_000)]
    picked = rng.choice(inner, min(len(inner), per_zone), replace=False) if len(inner) else inner
    offsets = table.offsets[np.searchsorted(table.starts, picked, side="right") - 1]
    deltas = [-2 * HOUR, -HOUR - 1, -HOUR, -HOUR // 2, -1, 0, 1, HOUR // 2, HOUR - 1, HOUR, 2 * HOUR]
    around = [base + d for base in (picked, picked + offsets) for d in deltas]
    anywhere = rng.integers(EARLIEST_MS, LATEST_MS, 20)
    return np.concatenate([*around, anywhere, [EARLIEST_MS, LATEST_MS]]).astype(np.int64)


def assert_agrees(table: ZoneTable, zone: zoneinfo.ZoneInfo, wall: np.ndarray) -> None:
    utc, matches = wall_to_utc(wall, table)
    got = [(int(u) if m == 1 else None, int(m)) for u, m in zip(utc.tolist(), matches.tolist(), strict=True)]
    expected = [zoneinfo_answer(w, zone) for w in wall.tolist()]
    mismatches = [
        (EPOCH + w * MS, g, e) for w, g, e in zip(wall.tolist(), got, expected, strict=True) if g != e
    ]
    assert mismatches == [], f"{zone.key}: {mismatches[:5]}"


def test_every_zone_agrees_with_zoneinfo_around_its_transitions() -> None:
    rng = np.random.default_rng(11)
    for name in ZONES:
        assert_agrees(zone_table(name), zoneinfo.ZoneInfo(name), probes(zone_table(name), rng, 4))


@st.composite
def zone_and_walls(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    name = draw(st.sampled_from(ZONES))
    transitions = zone_table(name).starts[1:].tolist() or [0]
    near = st.builds(lambda at, d: at + d, st.sampled_from(transitions), st.integers(-30 * HOUR, 30 * HOUR))
    anywhere = st.integers(EARLIEST_MS, LATEST_MS)
    recent = st.integers(-5_364_662_400_000, 4_102_444_800_000)  # 1800-2100
    walls = draw(st.lists(st.one_of(near, anywhere, recent), min_size=1, max_size=20))
    return name, np.clip(np.array(walls, dtype=np.int64), EARLIEST_MS, LATEST_MS)


@settings(max_examples=150, deadline=None)
@given(zone_and_walls())
def test_wall_to_utc_matches_zoneinfo(case: tuple[str, np.ndarray]) -> None:
    name, walls = case
    assert_agrees(zone_table(name), zoneinfo.ZoneInfo(name), walls)


@pytest.fixture
def tzdata_package_only() -> Iterator[None]:
    """Make zoneinfo (and so the tables) read the ``tzdata`` package's files, which are "slim"."""
    if importlib.util.find_spec("tzdata") is None:
        pytest.skip("the tzdata package is not installed")
    zoneinfo.reset_tzpath(to=[])
    zone_table.cache_clear()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zone_table.cache_clear()


def test_slim_files_use_the_footer_rule_for_later_years(tzdata_package_only: None) -> None:
    # Slim TZif files stop listing transitions in 2007 (New York) and leave later years to the POSIX
    # TZ footer rule; the table must follow it through year 9999.
    rng = np.random.default_rng(5)
    for name in ["America/New_York", "Australia/Lord_Howe", "Europe/Dublin", "America/Santiago", *ZONES[::7]]:
        zone = zoneinfo.ZoneInfo.no_cache(name)
        table = zone_table(name)
        assert_agrees(table, zone, probes(table, rng, 40))
    summer_2050 = (dt.datetime(2050, 7, 1, 12) - EPOCH) // MS
    utc, matches = wall_to_utc(np.array([summer_2050]), zone_table("America/New_York"))
    assert (matches.tolist(), utc.tolist()) == ([1], [summer_2050 + 4 * HOUR])  # EDT, not EST


def test_odd_offsets_and_half_hour_daylight_saving() -> None:
    def one(name: str, wall: dt.datetime) -> tuple[list[int], list[int]]:
        utc, matches = wall_to_utc(np.array([(wall - EPOCH) // MS]), zone_table(name))
        return matches.tolist(), [(EPOCH + u * MS).minute for u in utc.tolist()]

    assert one("Asia/Kathmandu", dt.datetime(2026, 1, 1, 12, 0)) == ([1], [15])  # +05:45
    assert one("Australia/Lord_Howe", dt.datetime(2026, 10, 4, 2, 15))[0] == [0]  # +10:30 -> +11, 30 min gap
    assert one("Australia/Lord_Howe", dt.datetime(2026, 4, 5, 1, 45))[0] == [2]  # repeated half hour
    assert one("America/New_York", dt.datetime(210, 2, 26, 3, 54, 57)) == ([1], [50])  # LMT -04:56:02


def test_unknown_zones_are_a_value_error_naming_them() -> None:
    for bad in ["Mars/Olympus_Mons", "../../etc/passwd", "", "/usr/share/zoneinfo/UTC"]:
        with pytest.raises(ValueError, match=r"naive_timezone .* is not an IANA time zone"):
            check_zone(bad)
        with pytest.raises(ValueError, match="is not an IANA time zone"):
            zone_table(bad)
