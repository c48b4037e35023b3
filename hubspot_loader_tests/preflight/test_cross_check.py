"""Preflight predicts the sandbox: for many values of every property type, the verdicts agree.

Each case is one contact row with a first name and one more cell. Preflight runs once over the whole
frame; then each row is sent alone to the sandbox. The expected verdicts are never written by hand: the
sandbox's answer is the truth, and preflight must match it row by row, code by code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from hubspot_loader.core.model import CREATED
from hubspot_loader.core.preflight import PREFLIGHT, run_preflight
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader_tests.preflight.conftest import Hub, wire_properties

CASES: list[tuple[str, Any]] = [
    # number
    ("score", 12), ("score", 12.5), ("score", -3), ("score", "12"), ("score", " 7 "), ("score", "-0.5"),
    ("score", ".5"), ("score", "5."), ("score", "1e5"), ("score", "abc"), ("score", "1,000"),
    ("score", "+5"), ("score", True), ("score", Decimal("1E+3")), ("score", 1e-7), ("score", ""),
    # date
    ("renewal_date", dt.date(2026, 1, 1)), ("renewal_date", "2026-01-01"),
    ("renewal_date", "2026-01-01T00:00:00Z"), ("renewal_date", "2026-01-01T00:00:00.000Z"),
    ("renewal_date", "2026-01-01T00:00:00+02:00"), ("renewal_date", "2026-01-01T10:00:00Z"),
    ("renewal_date", "1430438400000"), ("renewal_date", "1430438400001"), ("renewal_date", "2026-02-30"),
    ("renewal_date", "01/02/2026"), ("renewal_date", "not a date"),
    ("renewal_date", pd.Timestamp("2026-01-01", tz="UTC")),
    ("renewal_date", pd.Timestamp("2026-01-01", tz="Europe/Berlin")),
    ("renewal_date", dt.datetime(2026, 5, 1)), ("renewal_date", dt.datetime(2026, 5, 1, 0, 0, 1)),
    ("renewal_date", "2026-01-01 00:00:00"), ("renewal_date", "9999-12-31"),
    # datetime
    ("signed_up_at", "2026-01-01T10:00:00Z"), ("signed_up_at", "2026-01-01"),
    ("signed_up_at", "1430438400001"),
    ("signed_up_at", "yesterday"), ("signed_up_at", pd.Timestamp("2026-01-01 10:11:12.345", tz="UTC")),
    ("signed_up_at", "2026-13-01T00:00:00Z"), ("signed_up_at", dt.datetime(2026, 1, 1, 8, 30)),
    # bool
    ("is_vip", True), ("is_vip", False), ("is_vip", "true"), ("is_vip", "TRUE"), ("is_vip", "False"),
    ("is_vip", "yes"), ("is_vip", 1), ("is_vip", ""),
    # single-select enumeration
    ("tier", "gold"), ("tier", "Gold"), ("tier", "gold;silver"), ("tier", ["gold"]), ("tier", ""),
    ("tier", "diamond"),
    # multi-checkbox enumeration
    ("interests", ["golf", "chess"]), ("interests", "golf;tennis"), ("interests", "golf;;chess"),
    ("interests", ["golf", "curling"]), ("interests", "curling"), ("interests", ("chess",)),
    ("interests", {"tennis", "golf"}), ("interests", ";golf"),
    # email
    ("email", "a@b.co"), ("email", "A.B+tag@Example.COM"), ("email", "no-at-sign"), ("email", "a@b"),
    ("email", "a b@c.com"), ("email", "a@b.c"), ("email", "first.last@sub.domain.org"), ("email", ""),
    ("email", "x@-bad.com"),
    # string length (the limit itself is fine)
    ("company", "é" * 65_536), ("company", "y" * 65_537), ("company", ""),
    # read-only and unknown: any value, even "", is rejected
    ("legacy_score", 1), ("legacy_score", ""), ("hs_email_optout", False),
    ("nickname", "Bud"), ("nickname", ""),
    # hubspot_owner_id: an enumeration whose options the sandbox lists as empty
    ("hubspot_owner_id", "123"),
]  # fmt: skip

COLUMNS = sorted({c for c, _ in CASES})


def case_frame() -> pd.DataFrame:
    rows = []
    for i, (column, value) in enumerate(CASES):
        row: dict[str, Any] = dict.fromkeys(COLUMNS)
        row[column] = value
        row["id"] = f"case-{i}"
        row["firstname"] = "Fuzz"
        rows.append(row)
    return pd.DataFrame(rows, columns=["id", "firstname", *COLUMNS]).astype(object)


def test_preflight_verdicts_match_the_sandbox_row_by_row(hub: Hub) -> None:
    df = case_frame()
    mapping = {c: c for c in df.columns if c != "id"}
    report = run_preflight(
        df, object_type="contacts", definitions=hub.definitions("contacts"), mapping=mapping, key_column="id"
    )
    predicted: dict[int, set[str]] = {}
    for problem in report.problems:
        predicted.setdefault(problem.position, set()).add(problem.code)

    disagreements = []
    rejected = accepted = 0
    for position, row in df.iterrows():
        status, codes, body = hub.send_alone("contacts", wire_properties(row, mapping))
        assert status in (201, 400), body
        rejected += status == 400
        accepted += status == 201
        expected = predicted.get(int(position), set())  # type: ignore[call-overload]
        if codes != expected:
            disagreements.append((CASES[int(position)], sorted(expected), sorted(codes)))  # type: ignore[call-overload]
    assert disagreements == []
    # Both verdicts occur often, so agreement is not trivial.
    assert rejected >= 30 and accepted >= 30
    assert hub.handle.counts()["contacts"] == accepted


def unique_frame() -> pd.DataFrame:
    """Rows repeating unique values (email, case-insensitive; external_id, exact) after rejected rows."""
    rows = [
        ("u0", "dup@example.com", "platinum", None),  # invalid option: rejected, keeps nothing
        ("u1", "DUP@example.com", "gold", None),  # the first accepted row with the email: keeps it
        ("u2", "dup@example.com", None, None),  # repeats u1's email
        ("u3", "not-an-email", None, "X-1"),  # invalid email: rejected, keeps nothing
        ("u4", "e@example.com", None, "X-1"),  # keeps X-1
        ("u5", "f@example.com", None, "X-2"),
        ("u6", "F@example.com", None, "X-3"),  # repeats u5's email: refused, so X-3 stays free
        ("u7", "h@example.com", None, "X-3"),  # keeps X-3
        ("u8", "i@example.com", None, "x-1"),  # another value than X-1 (strings compare exactly)
        ("u9", None, None, "X-1"),  # repeats u4's X-1
    ]
    frame = pd.DataFrame(rows, columns=["id", "email", "tier", "external_id"])
    frame.insert(1, "firstname", "Uniq")
    return frame


UNIQUE_MAPPING = {"email": "email", "firstname": "firstname", "tier": "tier", "external_id": "external_id"}


def test_a_rejected_row_keeps_no_unique_value_the_sandbox_agrees(hub: Hub) -> None:
    df = unique_frame()
    report = run_preflight(
        df, object_type="contacts", definitions=hub.definitions("contacts"), mapping=UNIQUE_MAPPING,
        key_column="id",
    )  # fmt: skip
    predicted: dict[int, set[str]] = {}
    for problem in report.problems:
        code = "CONFLICT" if problem.code == "DUPLICATE_UNIQUE_VALUE" else problem.code
        predicted.setdefault(problem.position, set()).add(code)
    assert predicted == {
        0: {"INVALID_OPTION"}, 2: {"CONFLICT"}, 3: {"INVALID_EMAIL"}, 6: {"CONFLICT"}, 9: {"CONFLICT"}
    }  # fmt: skip
    keepers = {p.key: p.message for p in report.problems if p.code == "DUPLICATE_UNIQUE_VALUE"}
    assert "the row with key 'u1' has it first" in keepers["u2"]
    assert "the row with key 'u4' has it first" in keepers["u9"]
    # The sandbox is the judge: rows sent one by one in frame order get exactly the predicted verdicts.
    for position, row in df.iterrows():
        status, codes, body = hub.send_alone("contacts", wire_properties(row, UNIQUE_MAPPING))
        assert codes == predicted.get(int(position), set()), (position, body)  # type: ignore[call-overload]
        assert (status == 201) == (int(position) not in predicted), body  # type: ignore[call-overload]


def test_quarantine_loads_every_row_hubspot_accepts_and_no_conflict_happens(hub: Hub) -> None:
    spec = HubSpotLoadSpec(
        object_type="contacts", properties=UNIQUE_MAPPING, key_column="id", preflight="quarantine"
    )
    result = load_dataframe(unique_frame(), spec, client=hub.client)
    created = [r.key for r in result.rows if r.status == CREATED]
    assert created == ["u1", "u4", "u5", "u7", "u8"]
    assert {r.error.category for r in result.rows if r.error is not None} == {PREFLIGHT}
    assert hub.handle.counts()["contacts"] == 5
