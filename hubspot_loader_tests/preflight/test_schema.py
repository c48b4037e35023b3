"""The generated schema itself: plain pandera use, nulls, merging with a user schema, and its cost."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.errors import SchemaErrors

from hubspot_loader.core.preflight import VALUE_CHECK, merge_schemas, run_preflight, schema_from_properties
from hubspot_loader.core.schemas import CONTACTS_SCHEMA, validate_frame
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader_tests.preflight.conftest import Hub

MAPPING = {"email": "email", "tier": "tier", "score": "score", "renewal_date": "renewal_date"}


def test_nulls_always_pass_and_bad_values_fail_plain_pandera(hub: Hub) -> None:
    schema = schema_from_properties(hub.definitions("contacts"), MAPPING, object_type="contacts")
    nulls = pd.DataFrame({c: [None, np.nan, pd.NA] for c in MAPPING}).astype(object)
    nulls["email"] = ["a@example.com", "b@example.com", "c@example.com"]  # the identity rule
    schema.validate(nulls)

    bad = nulls.copy()
    bad.loc[1, "tier"] = "platinum"
    with pytest.raises(SchemaErrors) as caught:
        schema.validate(bad, lazy=True)
    cases = caught.value.failure_cases
    assert cases[["column", "check", "index"]].values.tolist() == [["tier", VALUE_CHECK, 1]]


def test_user_schema_wins_for_the_columns_it_declares(hub: Hub) -> None:
    definitions = hub.definitions("contacts")
    df = pd.DataFrame({"email": ["a@example.com", "b@example.com"], "tier": ["gold", "diamond"]})
    mapping = {"email": "email", "tier": "tier"}
    relaxed = pa.DataFrameSchema({"tier": pa.Column(str, pa.Check.str_length(max_value=10))})
    merged = merge_schemas(schema_from_properties(definitions, mapping), relaxed)
    assert validate_frame(df, merged).ok  # the user's column replaced the option check

    kept = merge_schemas(schema_from_properties(definitions, mapping), relaxed, keep_generated_checks=True)
    entries = validate_frame(df, kept).entries
    assert [(e.position, e.column, e.check) for e in entries] == [(1, "tier", VALUE_CHECK)]

    # Through run_preflight the user's checks are reported per row like the generated ones.
    strict_tier = pa.DataFrameSchema({"tier": pa.Column(str, pa.Check.isin(["gold"]), nullable=True)})
    spec = HubSpotLoadSpec(object_type="contacts", schema=strict_tier)
    report = run_preflight(df, spec, definitions=definitions, mapping=mapping)
    assert [(p.key, p.column, p.code) for p in report.problems] == [("1", "tier", "isin(['gold'])")]
    # Columns only the user declares are kept; a user schema can be a pandera DataFrameSchema like ours.
    merged = merge_schemas(schema_from_properties(definitions, mapping), CONTACTS_SCHEMA)
    assert {"email", "tier", "firstname", "lifecyclestage"} <= set(merged.columns)
    assert merged.columns["email"] is CONTACTS_SCHEMA.columns["email"]


def test_key_column_must_be_unique_and_non_null(hub: Hub) -> None:
    df = pd.DataFrame({"id": [1.0, 2.0, 1.0, None], "email": [f"{i}@example.com" for i in "abcd"]})
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    report = run_preflight(df, spec, definitions=hub.definitions("contacts"), mapping={"email": "email"})
    assert [(p.position, p.code) for p in report.problems] == [
        (0, "INVALID_KEY"),
        (2, "INVALID_KEY"),
        (3, "INVALID_KEY"),
    ]
    assert "key '1' is not unique" in report.problems[0].message
    assert "null" in report.problems[2].message


def test_generated_schema_is_vectorized_on_100k_rows(hub: Hub) -> None:
    n = 100_000
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "email": [f"user{i}@example.com" for i in range(n)],
            "firstname": rng.choice(["Ann", "Bo", "Cy"], n),
            "tier": rng.choice(["gold", "silver", "bronze", "diamond"], n),
            "interests": rng.choice(["golf", "golf;chess", "tennis;curling"], n),
            "score": rng.normal(50, 10, n),
            "renewal_date": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "signed_up_at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**9, n), "s"),
            "external_id": [f"ext-{i}" for i in range(n)],
        }
    )
    mapping = {c: c for c in df.columns if c != "id"}
    definitions = hub.definitions("contacts")
    started = time.process_time()  # CPU time: not inflated by other processes on a loaded machine
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    report = run_preflight(df, spec, definitions=definitions, mapping=mapping)
    elapsed = time.process_time() - started
    bad_tier = set(np.flatnonzero(df["tier"].to_numpy() == "diamond").tolist())
    bad_interest = set(np.flatnonzero(df["interests"].to_numpy() == "tennis;curling").tolist())
    assert report.bad_positions == bad_tier | bad_interest
    print(f"preflight of {n:,} rows x {len(mapping)} columns: {elapsed:.2f}s")
    assert elapsed < 20  # measured ~2-3 s on CI-class machines; per-row Python would be far slower
