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

from hubspot_loader.preflight import run_preflight
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
