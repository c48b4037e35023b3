"""Issue #7 acceptance at the module level: preflight names every bad row, and the sandbox agrees."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from hubspot_loader.core.model import CREATED, FAILED
from hubspot_loader.core.preflight import PREFLIGHT, PreflightReport, run_preflight
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader_tests.preflight.conftest import Hub, wire_properties

LONG = "x" * 70_000


def acceptance_frame() -> pd.DataFrame:
    """Eight contacts: three good, five with one problem each (the issue's list)."""
    return pd.DataFrame(
        {
            "id": [
                "good-1", "unknown-col", "bad-enum", "read-only",
                "not-midnight", "too-long", "good-2", "good-3",
            ],
            "email": [
                "ann@example.com", "bo@example.com", "cy@example.com", "di@example.com",
                "ed@example.com", "fi@example.com", "gus@example.com", "Hal@Example.com",
            ],
            "firstname": ["Ann", "Bo", "Cy", "Di", "Ed", LONG, "Gus", None],
            "fristname": [None, "Bo", None, None, None, None, None, None],
            "tier": ["gold", None, "platinum", None, "silver", None, "bronze", None],
            "legacy_score": [None, None, None, 42, None, None, None, None],
            "renewal_date": [
                dt.date(2026, 1, 1), None, None, None,
                pd.Timestamp("2026-03-01 10:30", tz="UTC"), None, pd.Timestamp("2026-06-30", tz="UTC"), None,
            ],
            "interests": [["golf", "chess"], None, None, None, None, None, "tennis", []],
            "score": [12.5, None, None, None, None, None, "7", None],
        }
    )  # fmt: skip


MAPPING = {c: c for c in acceptance_frame().columns if c != "id"}
EXPECTED = {
    ("unknown-col", "fristname", "PROPERTY_DOESNT_EXIST"),
    ("bad-enum", "tier", "INVALID_OPTION"),
    ("read-only", "legacy_score", "READ_ONLY_VALUE"),
    ("not-midnight", "renewal_date", "INVALID_DATE"),
    ("too-long", "firstname", "INVALID_STRING_LENGTH"),
}
GOOD = ["good-1", "good-2", "good-3"]


def preflight(hub: Hub, df: pd.DataFrame) -> PreflightReport:
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    return run_preflight(df, spec, definitions=hub.definitions("contacts"), mapping=MAPPING)


def test_each_problem_is_reported_with_key_column_and_reason(hub: Hub) -> None:
    df = acceptance_frame()
    report = preflight(hub, df)

    assert {(p.key, p.column, p.code) for p in report.problems} == EXPECTED
    assert report.bad_positions == {1, 2, 3, 4, 5}
    by_key = {r.key: r for r in report.rows}
    assert set(by_key) == {k for k, _, _ in EXPECTED}
    for key, column, code in EXPECTED:
        outcome = by_key[key]
        assert outcome.status == FAILED
        assert outcome.error is not None
        assert (outcome.error.category, outcome.error.code, outcome.error.property) == (
            PREFLIGHT,
            code,
            column,
        )
    reasons = {p.key: p.message for p in report.problems}
    assert reasons["bad-enum"].startswith(
        "platinum was not one of the allowed options: [gold, silver, bronze]"
    )
    assert "2026-03-01T10:30:00.000Z is not at midnight UTC" in reasons["not-midnight"]
    assert reasons["too-long"] == "firstname is longer than the maximum of 65,536 characters (got 70,000)"
    assert reasons["read-only"] == "legacy_score is a read-only property; its value cannot be set"
    assert reasons["unknown-col"].startswith('Property "fristname" does not exist')

    # Column-level: the unknown column names the closest existing properties; both can be quarantined.
    blocking = {b.code: b for b in report.blocking}
    assert set(blocking) == {"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"}
    assert blocking["PROPERTY_DOESNT_EXIST"].suggestions[0] == "firstname"
    assert "'fristname'" in blocking["PROPERTY_DOESNT_EXIST"].message
    assert "closest existing properties: 'firstname'" in blocking["PROPERTY_DOESNT_EXIST"].message
    assert report.can_quarantine and not report.ok
    # The message names each row key, column and reason.
    for key, column, code in EXPECTED:
        assert f"row key {key!r}" in report.message and f"column {column!r}: {code}" in report.message
    assert hub.writes() == 0


def test_sandbox_rejects_exactly_the_flagged_rows(hub: Hub) -> None:
    """Cross-check: each flagged row sent alone is rejected with the same code; the others are created."""
    df = acceptance_frame()
    report = preflight(hub, df)
    codes = {p.position: p.code for p in report.problems}
    for position, row in df.iterrows():
        status, sandbox_codes, body = hub.send_alone("contacts", wire_properties(row, MAPPING))
        if position in codes:
            assert status == 400, body
            assert sandbox_codes == {codes[int(position)]}, body  # type: ignore[call-overload]
        else:
            assert status == 201, body
    created = {o["properties"].get("email") for o in hub.handle.objects("contacts")}
    assert created == {"ann@example.com", "gus@example.com", "hal@example.com"}


# Block mode through load_dataframe (nothing sent) is tested in test_load_integration.py.


def test_quarantine_mode_creates_exactly_the_good_rows(hub: Hub) -> None:
    df = acceptance_frame().set_index(pd.Index([10, 11, 12, 13, 14, 15, 16, 17]))  # any index
    report = preflight(hub, df)
    split = report.quarantine(df)
    assert list(split.positions) == [0, 6, 7]
    assert list(split.frame["id"]) == GOOD

    spec = HubSpotLoadSpec(object_type="contacts", properties=MAPPING, key_column="id", preflight="off")
    result = load_dataframe(split.frame, spec, client=hub.client)
    rows = [split.restore(r, key_column="id") for r in result.rows] + split.rejected
    rows.sort(key=lambda r: r.position)

    assert [r.position for r in rows] == list(range(len(df)))
    assert {r.key for r in rows if r.status == CREATED} == set(GOOD)
    assert [r.position for r in rows if r.status == CREATED] == [0, 6, 7]
    assert {r.key for r in rows if r.status == FAILED} == {k for k, _, _ in EXPECTED}
    assert hub.handle.counts()["contacts"] == 3
    assert hub.handle.counters()["write_requests"] == 1


def test_quarantine_without_key_column_restores_source_positions_as_keys(hub: Hub) -> None:
    df = acceptance_frame().drop(columns=["id"])
    report = run_preflight(
        df, HubSpotLoadSpec(object_type="contacts"), definitions=hub.definitions("contacts"), mapping=MAPPING
    )
    split = report.quarantine(df)
    spec = HubSpotLoadSpec(object_type="contacts", properties=MAPPING, preflight="off")
    result = load_dataframe(split.frame, spec, client=hub.client)
    restored = sorted((split.restore(r, key_column=None) for r in result.rows), key=lambda r: r.position)
    assert [(r.key, r.position, r.status) for r in restored] == [
        ("0", 0, CREATED),
        ("6", 6, CREATED),
        ("7", 7, CREATED),
    ]
    assert [r.key for r in split.rejected] == ["1", "2", "3", "4", "5"]
