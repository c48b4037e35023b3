"""Custom objects get generated schemas from the same properties API; association preflight."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.model import CREATED, FAILED, AssociationColumn
from hubspot_loader.core.preflight import PreflightError, run_preflight, schema_from_properties
from hubspot_loader.errors import HubSpotValidationError
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader_tests.preflight.conftest import Hub, wire_properties


def vendors() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["v1", "v2", "v3", "v4", "v5", "v6"],
            "vendor_name": ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"],
            "vendor_code": ["A-1", "G-1", "I-1", "A-1", "H-1", "S-1"],
            "category": ["hardware", "software", "toys", "services", "hardware", None],
            "rating": [4.5, "3", "high", None, 5, None],
            "onboarded_on": [
                "2025-01-01",
                None,
                None,
                None,
                "2025-02-01T12:00:00Z",
                pd.Timestamp("2024-07-01"),
            ],
        }
    )


MAPPING = {c: c for c in ["vendor_name", "vendor_code", "category", "rating", "onboarded_on"]}


@pytest.mark.parametrize("object_type", ["p_vendor", "2-101"])
def test_custom_object_schema_is_generated_and_predicts_the_sandbox(hub: Hub, object_type: str) -> None:
    definitions = hub.definitions(object_type)
    schema = schema_from_properties(definitions, MAPPING, key_column="code", object_type=object_type)
    good = vendors().iloc[[1, 5]]
    assert schema.validate(good) is not None  # the generated schema accepts the good rows as they are

    df = vendors()
    spec = HubSpotLoadSpec(object_type=object_type, key_column="code")
    report = run_preflight(df, spec, definitions=definitions, mapping=MAPPING)
    assert {(p.key, p.column, p.code) for p in report.problems} == {
        ("v4", "vendor_code", "DUPLICATE_UNIQUE_VALUE"),  # v1 has the code first and is loaded
        ("v3", "category", "INVALID_OPTION"),
        ("v3", "rating", "INVALID_INTEGER"),
        ("v5", "onboarded_on", "INVALID_DATE"),
    }
    # Cross-check: rows rejected alone are rejected by the sandbox with the predicted codes ...
    for position in (2, 4):
        status, codes, body = hub.send_alone(object_type, wire_properties(df.iloc[position], MAPPING))
        assert status == 400 and codes == {p.code for p in report.problems if p.position == position}, body
    # ... the duplicate pair cannot both be created ...
    first = hub.send_alone(object_type, wire_properties(df.iloc[0], MAPPING))
    second = hub.send_alone(object_type, wire_properties(df.iloc[3], MAPPING))
    assert (first[0], second[0], second[1]) == (201, 409, {"CONFLICT"})
    # ... and the rows preflight passes load through the loader.
    split = report.quarantine(df)
    spec = HubSpotLoadSpec(object_type=object_type, properties=MAPPING, key_column="code", preflight="off")
    result = load_dataframe(split.frame, spec, client=hub.client)
    # v1 passes preflight (first with its code) but the cross-check above already created it: CONFLICT.
    assert [(r.key, r.status) for r in result.rows] == [("v1", FAILED), ("v2", CREATED), ("v6", CREATED)]
    assert result.rows[0].error is not None and result.rows[0].error.category == "CONFLICT"


def labels_for(hub: Hub, object_type: str, targets: list[str]) -> dict[str, Any]:
    """What a load fetches before preflight: each target's labels, or None when HubSpot does not know it."""
    out: dict[str, Any] = {}
    for target in targets:
        try:
            out[target] = hub.client.association_labels(object_type, target)
        except HubSpotValidationError:  # 400 "Unable to infer object type": HubSpot does not know it
            out[target] = None
    return out


def test_association_configuration_problems_block(hub: Hub) -> None:
    df = pd.DataFrame({"id": ["c1"], "email": ["a@example.com"], "co": ["1"]})
    columns = [
        AssociationColumn("co", "compnies"),
        AssociationColumn("co", "companies", label="Primery"),
        AssociationColumn("co", "companies", type_id=999),
        AssociationColumn("co", "companies", label="primary"),
        AssociationColumn("co", "companies"),
        AssociationColumn("co", "companies", keys_from="companies"),
    ]
    report = run_preflight(
        df,
        HubSpotLoadSpec(object_type="contacts", key_column="id", associations=columns),
        definitions=hub.definitions("contacts"),
        mapping={"email": "email"},
        labels=labels_for(hub, "contacts", ["compnies", "companies"]),
    )
    codes = [b.code for b in report.blocking]
    assert codes == [
        "UNKNOWN_OBJECT_TYPE",
        "UNKNOWN_ASSOCIATION_LABEL",
        "UNKNOWN_ASSOCIATION_TYPE",
        "MISSING_ID_MAP",
    ]
    assert report.blocking[0].suggestions[0] == "companies"
    assert report.blocking[1].suggestions == ("Primary",)
    assert "279 (unlabeled, HUBSPOT_DEFINED)" in report.blocking[2].message
    assert not report.can_quarantine
    with pytest.raises(PreflightError):
        report.quarantine(df)
    assert hub.writes() == 0


def test_custom_object_associations_need_a_type_or_label(hub: Hub) -> None:
    df = pd.DataFrame({"code": ["v1"], "vendor_name": ["Acme"], "supplier_of": ["1"]})
    spec = HubSpotLoadSpec(object_type="p_vendor", key_column="code")
    kwargs: dict[str, Any] = {
        "definitions": hub.definitions("p_vendor"),
        "mapping": {"vendor_name": "vendor_name"},
        "labels": labels_for(hub, "p_vendor", ["companies"]),
    }
    unlabelled = spec.replace(associations=[AssociationColumn("supplier_of", "companies")])
    default = run_preflight(df, unlabelled, **kwargs)
    assert [b.code for b in default.blocking] == ["UNKNOWN_ASSOCIATION_TYPE"]
    labelled = AssociationColumn("supplier_of", "companies", label="Supplier")
    assert run_preflight(df, spec.replace(associations=[labelled]), **kwargs).ok


def test_unresolved_warehouse_keys_are_reported_per_row_and_the_rest_loads(hub: Hub) -> None:
    companies = pd.DataFrame({"key": ["co1", "co2"], "name": ["One", "Two"]})
    companies_spec = HubSpotLoadSpec(object_type="companies", key_column="key", preflight="off")
    loaded = load_dataframe(companies, companies_spec, client=hub.client)
    id_map = loaded.id_map
    df = pd.DataFrame(
        {
            "id": ["c1", "c2", "c3", "c4", "c5"],
            "email": [f"{k}@example.com" for k in ["c1", "c2", "c3", "c4", "c5"]],
            "company_key": ["co1", ["co1", "co2"], None, "co9", ["co2", "co8", "co7"]],
        }
    )
    association = AssociationColumn("company_key", "companies", keys_from="companies")
    report = run_preflight(
        df,
        HubSpotLoadSpec(object_type="contacts", key_column="id", associations=[association]),
        definitions=hub.definitions("contacts"),
        mapping={"email": "email"},
        labels=labels_for(hub, "contacts", ["companies"]),
        id_maps={"companies": id_map},
    )
    assert report.blocking == []
    assert [(p.key, p.column, p.code) for p in report.problems] == [
        ("c4", "company_key", "UNRESOLVED_ASSOCIATION"),
        ("c5", "company_key", "UNRESOLVED_ASSOCIATION"),
    ]
    assert "warehouse key 'co8', 'co7'" in report.problems[1].message
    split = report.quarantine(df)
    spec = HubSpotLoadSpec(
        object_type="contacts",
        properties={"email": "email"},
        associations=[association],
        key_column="id",
        preflight="off",
    )
    result = load_dataframe(split.frame, spec, client=hub.client, id_maps={"companies": id_map})
    assert [(r.key, r.status) for r in result.rows] == [("c1", CREATED), ("c2", CREATED), ("c3", CREATED)]
    contacts = {o["properties"]["email"]: o for o in hub.handle.objects("contacts")}
    assert set(contacts) == {"c1@example.com", "c2@example.com", "c3@example.com"}
