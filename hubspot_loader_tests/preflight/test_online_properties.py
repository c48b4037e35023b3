"""Online preflight over hostile frames and any records found: a verdict per row, never an exception.

The records found (``ExistingRecords``) are drawn, not read: what is checked here is how preflight turns
them into row problems, against the offline verdicts of the same frame.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.preflight import (
    CONFLICT,
    DUPLICATE_UNIQUE_VALUE,
    INVALID_OBJECT_IDS,
    ExistingRecords,
    KnownRow,
    PreflightChecks,
    PreflightRequest,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.sandbox import start_sandbox
from hubspot_loader_tests.preflight.conftest import preflight_config

EMAILS = ["a@x.com", "A@X.COM", "b@x.com", "bad", "", None, 5, math.inf, {"k": 1}, "\ud800@x.com"]
CODES = ["E1", "e1", "E2", None, "", ["E1"], 2.5]
TIERS = ["gold", "platinum", None]
TARGETS = ["1", "2", "007", "x", None, ["1", "3"], [], 4, {"a": 1}, "3"]
MAPPING = {"email": "email", "external_id": "external_id", "tier": "tier", "firstname": "firstname"}
ASSOCIATIONS = [AssociationColumn("company_id", "companies")]


@pytest.fixture(scope="module")
def definitions() -> Iterator[list[dict[str, Any]]]:
    handle = start_sandbox(preflight_config())
    try:
        with HubSpotClient(handle.token, base_url=handle.base_url) as client:
            yield client.properties("contacts")
    finally:
        handle.stop()


rows = st.lists(
    st.tuples(
        st.sampled_from(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", None]),
        st.sampled_from(EMAILS),
        st.sampled_from(CODES),
        st.sampled_from(TIERS),
        st.sampled_from(TARGETS),
    ),
    min_size=1,
    max_size=10,
)
found_ids = st.dictionaries(st.sampled_from(["a@x.com", "b@x.com"]), st.sampled_from(["101", "102"]))
found_codes = st.dictionaries(st.sampled_from(["E1", "E2"]), st.sampled_from(["101", "103"]))
checked = st.sets(st.sampled_from(["1", "2", "3", "7"]))
keys = st.sets(st.sampled_from(["k0", "k1", "k2", "k3"]))


def frame(drawn: list[tuple[Any, ...]]) -> pd.DataFrame:
    df = pd.DataFrame(drawn, columns=["id", "email", "external_id", "tier", "company_id"]).astype(object)
    df.insert(1, "firstname", "Ann")
    return df


def checks_for(df: pd.DataFrame, definitions: list[dict[str, Any]]) -> PreflightChecks:
    return PreflightChecks(
        PreflightRequest(df, "contacts", definitions, MAPPING, key_column="id", associations=ASSOCIATIONS)
    )


def codes_by_row(problems: list[Any]) -> dict[int, set[tuple[str | None, str]]]:
    out: dict[int, set[tuple[str | None, str]]] = {}
    for p in problems:
        out.setdefault(p.position, set()).add((p.column, p.code))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=rows, emails=found_ids, codes=found_codes, asked=checked, skipped=keys, known=keys, data=st.data()
)
def test_records_found_turn_into_conflicts_and_missing_targets_and_nothing_else(
    definitions: list[dict[str, Any]],
    drawn: list[tuple[Any, ...]],
    emails: dict[str, str],
    codes: dict[str, str],
    asked: set[str],
    skipped: set[str],
    known: set[str],
    data: st.DataObject,
) -> None:
    df = frame(drawn)
    checks = checks_for(df, definitions)
    offline = checks.report()
    # Nothing found changes nothing.
    assert codes_by_row(checks.report(ExistingRecords()).problems) == codes_by_row(offline.problems)
    plan = checks.lookups(skipped)
    assert plan.targets.keys() <= {"companies"} and set(plan.values) <= {"email", "external_id"}
    found = data.draw(st.sets(st.sampled_from(sorted(asked)))) if asked else set()
    existing = ExistingRecords(
        values={"email": emails, "external_id": codes},
        targets_found={"companies": found},
        targets_checked={"companies": asked},
        skipped=frozenset(skipped),
        known={k: KnownRow(hubspot_id="101") for k in known - skipped},
    )
    online = checks.report(existing)
    offline_rows, online_rows = codes_by_row(offline.problems), codes_by_row(online.problems)
    unique_codes = {DUPLICATE_UNIQUE_VALUE, CONFLICT, INVALID_OBJECT_IDS}
    for position in range(len(df)):
        before = {c for c in offline_rows.get(position, set()) if c[1] not in unique_codes}
        after = online_rows.get(position, set())
        # A row the definitions reject keeps exactly those problems (HubSpot validates values first).
        if before:
            assert after == before, position
        key = checks.keys[position]
        if key in skipped:
            assert not {c for c in after if c[1] in (CONFLICT, INVALID_OBJECT_IDS)}
    for problem in online.problems:
        row = df.iloc[problem.position]
        if problem.code == CONFLICT:
            holder = re.search(r"Existing ID: (\d+)", problem.message)
            value = str(problem.value)  # as sent
            lookup = value.lower() if problem.column == "email" else value
            assert holder is not None and existing.values[problem.column][lookup] == holder.group(1)
            assert holder.group(1) != "101" or checks.keys[problem.position] not in known
        if problem.code == INVALID_OBJECT_IDS:
            cell = row["company_id"]
            targets = {str(t) for t in (cell if isinstance(cell, list) else [cell])}
            missing = {str(int(t)) if t.isdigit() else t for t in targets} & (asked - found)
            assert missing, (cell, asked, found)
    # Completeness: a row sending an email an existing record holds, that nothing else rejects and the
    # ledger does not know, is refused.
    for position in range(len(df)):
        email, key = df.iloc[position]["email"], checks.keys[position]
        if (
            isinstance(email, str)
            and email.lower() in emails
            and position not in offline_rows
            and key not in skipped
            and key not in known
        ):
            assert (("email", CONFLICT) in online_rows.get(position, set())), position
    # The rows online preflight does not look up are exactly those the definitions reject.
    rejected = {p.position for p in offline.problems if p.code != DUPLICATE_UNIQUE_VALUE}
    assert set(np.flatnonzero(checks.rejected).tolist()) == rejected
