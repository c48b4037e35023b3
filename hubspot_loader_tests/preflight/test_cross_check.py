"""Preflight predicts the sandbox: for many values of every property type, the verdicts agree.

Each case is one contact row with a first name and one more cell. Preflight runs once over the whole
frame; then each row is sent alone to the sandbox. The expected verdicts are never written by hand: the
sandbox's answer is the truth, and preflight must match it row by row, code by code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.formatting import format_value
from hubspot_loader.core.model import CREATED, AssociationColumn, ResolvedAssociation
from hubspot_loader.core.plan import resolve_associations
from hubspot_loader.core.preflight import PREFLIGHT, PreflightError, run_preflight
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.preflight.conftest import Hub, preflight_config, wire_properties

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
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    report = run_preflight(df, spec, definitions=hub.definitions("contacts"), mapping=mapping)
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
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    report = run_preflight(df, spec, definitions=hub.definitions("contacts"), mapping=UNIQUE_MAPPING)
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


# ---------------------------------------------------------------- online preflight: every problem class

FAST = {"rate_limit_per_10s": 5000}
"""Every row of the frame is sent alone: more than HubSpot's 190 requests in 10 seconds."""


@pytest.fixture
def busy_hub(sandbox_factory: Callable[..., SandboxHandle]) -> Iterator[Hub]:
    handle = sandbox_factory(config=preflight_config(**FAST))
    client = HubSpotClient(handle.token, base_url=handle.base_url)
    yield Hub(handle, client)
    client.close()


def hubspot_code(code: str) -> str:
    """The code of HubSpot's answer preflight predicts: both unique-value codes are HubSpot's 409 CONFLICT."""
    return "CONFLICT" if code in ("DUPLICATE_UNIQUE_VALUE", "CONFLICT") else code


def links(cell: Any, association: ResolvedAssociation) -> list[dict[str, Any]]:
    """The ``associations`` of one input, as the loader writes them (record ids, one type)."""
    if cell is None or (not isinstance(cell, list) and pd.isna(cell)):
        return []
    targets = cell if isinstance(cell, list) else [cell]
    kind = {"associationCategory": association.category, "associationTypeId": association.type_id}
    return [{"to": {"id": format_value(t)}, "types": [kind]} for t in targets]


def existing_id(body: Any) -> str | None:
    match = re.search(r"Existing ID: (\d+)", str(body.get("message", "")))
    return match.group(1) if match else None


def contact_rows(taken: str, mixed: str, company: str, other_company: str) -> list[dict[str, Any]]:
    """Rows for each class online preflight adds, and their interplay with the offline ones."""
    missing = "999999999"
    return [
        {"email": "taken@example.com"},  # an existing contact has it
        {"email": "TAKEN@Example.COM"},  # ... in another case: emails compare case-insensitively
        {"email": mixed.lower()},  # stored in lower case, sent in lower case
        {"email": "fresh-1@example.com", "external_id": taken},  # a custom unique property held already
        {"email": "fresh-2@example.com", "external_id": taken.lower()},  # exact comparison: another value
        {"email": "fresh-3@example.com", "company_id": company},  # an association to an existing company
        {"email": "fresh-4@example.com", "company_id": missing},  # ... to a company that does not exist
        {"email": "fresh-5@example.com", "company_id": [company, "888888888"]},  # one target of two missing
        {"email": "fresh-6@example.com", "company_id": "000" + other_company},  # leading zeros: the same id
        {"email": "taken@example.com", "tier": "platinum"},  # invalid first: HubSpot validates before 409
        {"email": "taken@example.com", "company_id": missing},  # conflict first: 409 before associations
        {"email": "dup-new@example.com", "company_id": missing},  # refused for the association: keeps nothing
        {"email": "dup-new@example.com"},  # ... so this one is created (no false alarm)
        {"email": "dup-2@example.com", "tier": "platinum"},  # refused for the option: keeps nothing
        {"email": "DUP-2@example.com"},  # ... so this one is created
        {"email": "dup-3@example.com"},
        {"email": "Dup-3@Example.com"},  # a duplicate within the frame
        {"external_id": "EXT-NEW"},
        {"external_id": "EXT-NEW"},  # a duplicate of a custom unique value within the frame
    ]


def online_contact_frame(hub: Hub) -> pd.DataFrame:
    taken = "EXT-TAKEN"
    hub.create("contacts", {"email": "taken@example.com", "external_id": taken})
    mixed = "Mixed.Case@Example.com"
    hub.create("contacts", {"email": mixed})
    company, other = hub.create("companies", {"name": "Acme"}), hub.create("companies", {"name": "Globex"})
    df = case_frame()
    df["external_id"], df["company_id"] = None, None
    extra = pd.DataFrame(contact_rows(taken, mixed, company, other), columns=df.columns).astype(object)
    extra["id"] = [f"online-{i}" for i in range(len(extra))]
    extra["firstname"] = "Online"
    return pd.concat([df, extra], ignore_index=True).astype(object)


def vendor_frame(hub: Hub) -> pd.DataFrame:
    hub.create("p_vendor", {"vendor_name": "Old", "vendor_code": "V-TAKEN"})
    company = hub.create("companies", {"name": "Supplier Co"})
    rows = [
        ("v1", "V-TAKEN", None, None),  # the custom object's unique code is taken
        ("v2", "v-taken", None, None),  # exact comparison: another code
        ("v3", "V-NEW", None, company),
        ("v4", "V-NEW", None, None),  # a duplicate within the frame
        ("v5", "V-TAKEN", "toys", None),  # invalid option first
        ("v6", "V-6", None, "777777777"),  # an association to a company that does not exist
        ("v7", None, None, [company, "777777777"]),
    ]
    return pd.DataFrame(rows, columns=["code", "vendor_code", "category", "company_id"]).astype(object)


def cross_check(
    hub: Hub, df: pd.DataFrame, spec: HubSpotLoadSpec, mapping: dict[str, str]
) -> tuple[int, int, list[Any]]:
    """Run preflight as a dry run, then send each row alone; return (rejected, accepted, disagreements)."""
    before = hub.writes()
    result = load_dataframe(df, spec, client=hub.client, dry_run=True)
    assert hub.writes() == before  # a dry run sends no write, online reads included
    report = result.preflight
    assert report is not None and report.online and report.cost.lookup_requests > 0
    predicted: dict[int, set[str]] = {}
    ids: dict[int, str] = {}
    for problem in report.problems:
        predicted.setdefault(problem.position, set()).add(hubspot_code(problem.code))
        if problem.code == "CONFLICT":
            ids[problem.position] = re.search(r"Existing ID: (\d+)", problem.message).group(1)  # type: ignore[union-attr]
    labels = {a.to_object_type: hub.client.association_labels(spec.object_type, a.to_object_type)
              for a in spec.associations}  # fmt: skip
    resolved = resolve_associations(spec.object_type, list(spec.associations), labels=labels)
    disagreements = []
    rejected = accepted = 0
    for position, row in df.iterrows():
        pos = int(position)  # type: ignore[call-overload]
        sent = [link for a in resolved for link in links(row[a.column], a)]
        status, codes, body = hub.send_alone(spec.object_type, wire_properties(row, mapping), sent)
        assert status in (201, 400, 409), body
        rejected, accepted = rejected + (status != 201), accepted + (status == 201)
        if codes != predicted.get(pos, set()) or (pos in ids and ids[pos] != existing_id(body)):
            disagreements.append((pos, row.iloc[0], sorted(predicted.get(pos, set())), sorted(codes), body))
    return rejected, accepted, disagreements


def test_online_preflight_predicts_every_rejection_of_the_sandbox_with_its_code(busy_hub: Hub) -> None:
    hub = busy_hub
    df = online_contact_frame(hub)
    mapping = {c: c for c in df.columns if c not in ("id", "company_id")}
    spec = HubSpotLoadSpec(
        object_type="contacts", key_column="id", properties=mapping,
        associations=[AssociationColumn("company_id", "companies")],
    )  # fmt: skip
    rejected, accepted, disagreements = cross_check(hub, df, spec, mapping)
    assert disagreements == []
    assert rejected >= 40 and accepted >= 40


def test_online_preflight_predicts_a_custom_objects_unique_code_and_associations(busy_hub: Hub) -> None:
    hub = busy_hub
    df = vendor_frame(hub)
    mapping = {"vendor_code": "vendor_code", "category": "category"}
    spec = HubSpotLoadSpec(
        object_type="2-101", key_column="code", properties=mapping,
        associations=[AssociationColumn("company_id", "companies", type_id=900)],
    )  # fmt: skip
    rejected, accepted, disagreements = cross_check(hub, df, spec, mapping)
    assert disagreements == []
    assert (rejected, accepted) == (5, 2)


def test_block_mode_sends_no_write_when_only_the_reads_find_problems(busy_hub: Hub) -> None:
    hub = busy_hub
    hub.create("contacts", {"email": "taken@example.com"})
    df = pd.DataFrame({"id": ["a", "b"], "email": ["TAKEN@example.com", "new@example.com"]})
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id", preflight="block")
    before = hub.writes()
    with pytest.raises(PreflightError) as caught:
        load_dataframe(df, spec, client=hub.client)
    assert [(p.key, p.code) for p in caught.value.report.problems] == [("a", "CONFLICT")]
    assert hub.writes() == before
    # Offline, the definitions see nothing wrong: the load goes ahead and HubSpot refuses the row.
    offline = load_dataframe(df, spec.replace(preflight="offline_block"), client=hub.client)
    assert [r.error.category for r in offline.rows if r.error is not None] == ["CONFLICT"]
