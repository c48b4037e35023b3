"""``build_hubspot_load_assets``, ``build_hubspot_load_asset`` and the translator, with ``materialize()``."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader import AssociationColumn, HubSpotLoadSpec, HubSpotResource
from hubspot_loader.dagster import (
    ROWS_ACCEPTED_CHECK,
    DagsterHubSpotTranslator,
    HubSpotLoad,
    build_hubspot_load_asset,
    build_hubspot_load_assets,
)
from hubspot_loader.errors import LoadUsageError
from hubspot_loader.sandbox import SandboxHandle

from .conftest import ACCOUNTS, account_rows, customer_rows, linked_companies

COMPANIES = HubSpotLoad(
    name="companies",
    source="account_rows",
    spec=HubSpotLoadSpec(object_type="companies", key_column="account_id"),
)
CONTACTS = HubSpotLoad(
    name="contacts",
    source="customer_rows",
    spec=HubSpotLoadSpec(
        object_type="contacts",
        key_column="customer_id",
        properties={"email": "email", "first_name": "firstname"},
        associations=[AssociationColumn("account_id", "companies", keys_from="hubspot/companies")],
    ),
)
TRANSLATOR = DagsterHubSpotTranslator(key_prefix="hubspot", group_name="crm")


def test_several_loads_at_once_associate_by_warehouse_key(hubspot_env: SandboxHandle) -> None:
    assets = build_hubspot_load_assets([COMPANIES, CONTACTS], translator=TRANSLATOR)
    result = dg.materialize([account_rows, customer_rows, *assets], resources={"hubspot": HubSpotResource()})
    assert result.success
    assert linked_companies(hubspot_env) == {
        "ann@acme.example": {"Acme"},
        "bo@globex.example": {"Globex"},
        "cy@example.com": set(),
    }
    assert set(result.output_for_node("hubspot__contacts")) == {"C-1", "C-2", "C-3"}
    checks = [e for e in result.get_asset_check_evaluations() if e.check_name == ROWS_ACCEPTED_CHECK]
    assert len(checks) == 2 and all(c.passed for c in checks)


def test_the_translator_gives_each_asset_its_spec() -> None:
    [companies, contacts] = build_hubspot_load_assets([COMPANIES, CONTACTS], translator=TRANSLATOR)
    spec = contacts.specs_by_key[dg.AssetKey(["hubspot", "contacts"])]
    assert spec.group_name == "crm"
    assert spec.kinds == {"hubspot", "python"}
    assert spec.tags["hubspot/object_type"] == "contacts"
    assert spec.metadata["hubspot/key_column"] == "customer_id"
    assert "customer_rows" in (spec.description or "")
    assert {d.asset_key for d in spec.deps} == {
        dg.AssetKey(["customer_rows"]),
        dg.AssetKey(["hubspot", "companies"]),
    }
    # the parent's id map and the source frame are inputs
    assert set(contacts.keys_by_input_name.values()) == {
        dg.AssetKey(["customer_rows"]),
        dg.AssetKey(["hubspot", "companies"]),
    }
    assert contacts.check_specs_by_output_name
    assert companies.op.pool == contacts.op.pool == "hubspot"


def test_the_code_version_follows_the_spec() -> None:
    translator = DagsterHubSpotTranslator()
    same = HubSpotLoad(name="companies", source="account_rows", spec=COMPANIES.spec.replace())
    changed = HubSpotLoad(name="companies", source="account_rows", spec=COMPANIES.spec.replace(batch_size=10))
    version = translator.get_asset_spec(COMPANIES).code_version
    assert version and version == translator.get_asset_spec(same).code_version
    assert translator.get_asset_spec(changed).code_version != version


def test_a_translator_subclass_changes_owners_and_automation() -> None:
    class Owned(DagsterHubSpotTranslator):
        def get_asset_spec(self, load: HubSpotLoad) -> dg.AssetSpec:
            return (
                super()
                .get_asset_spec(load)
                .replace_attributes(owners=["team:crm"], automation_condition=dg.AutomationCondition.eager())
            )

    [asset] = build_hubspot_load_assets([COMPANIES], translator=Owned())
    spec = asset.specs_by_key[dg.AssetKey(["companies"])]
    assert spec.owners == ["team:crm"]
    assert spec.automation_condition is not None


def test_dagster_options_pass_through() -> None:
    partitions = dg.DailyPartitionsDefinition(start_date="2026-01-01")
    [asset] = build_hubspot_load_assets(
        [COMPANIES],
        resource_key="portal_b",
        pool="portal_b",
        op_tags={"team": "crm"},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=1),
        backfill_policy=dg.BackfillPolicy.single_run(),
        partitions_def=partitions,
    )
    assert asset.op.pool == "portal_b"
    assert asset.op.tags["team"] == "crm"
    assert asset.op.retry_policy == dg.RetryPolicy(max_retries=2, delay=1)
    assert asset.backfill_policy == dg.BackfillPolicy.single_run()
    assert asset.partitions_def == partitions
    assert "portal_b" in asset.required_resource_keys and "hubspot" not in asset.required_resource_keys


def test_a_partitioned_load_records_its_partition(hubspot_env: SandboxHandle) -> None:
    partitions = dg.StaticPartitionsDefinition(["p1"])

    @dg.asset(name="account_rows", partitions_def=partitions)
    def partitioned_rows() -> pd.DataFrame:
        return ACCOUNTS

    [asset] = build_hubspot_load_assets([COMPANIES], partitions_def=partitions)
    resource = HubSpotResource()
    result = dg.materialize([partitioned_rows, asset], resources={"hubspot": resource}, partition_key="p1")
    assert result.success
    assert set(resource.ledger_id_map("companies", partition="p1")) == {"A-1", "A-2"}


def test_two_loads_with_one_name_are_refused() -> None:
    with pytest.raises(LoadUsageError, match="two loads are named 'companies'"):
        build_hubspot_load_assets([COMPANIES, COMPANIES])
    with pytest.raises(LoadUsageError, match=r"loads\[0\] must be a HubSpotLoad"):
        build_hubspot_load_assets([COMPANIES.spec])  # type: ignore[list-item]


def test_a_load_refuses_what_cannot_make_an_asset() -> None:
    with pytest.raises(LoadUsageError, match="name must be a non-empty string"):
        HubSpotLoad(name=" ", source="x", spec=COMPANIES.spec)
    with pytest.raises(LoadUsageError, match="spec must be a HubSpotLoadSpec"):
        HubSpotLoad(name="x", source="x", spec={"object_type": "contacts"})  # type: ignore[arg-type]
    with pytest.raises(LoadUsageError, match="table_rows must be a count"):
        HubSpotLoad(name="x", source="x", spec=COMPANIES.spec, table_rows=-1)


def test_the_old_keyword_form_warns_and_builds_the_same_asset() -> None:
    with pytest.warns(DeprecationWarning, match=r"build_hubspot_load_asset\(name=\.\.\., object_type"):
        old = build_hubspot_load_asset(
            name="contacts",
            key_prefix="hubspot",
            group_name="crm",
            source="customer_rows",
            object_type="contacts",
            key_column="customer_id",
            properties={"email": "email", "first_name": "firstname"},
            associations=[AssociationColumn("account_id", "companies", keys_from="hubspot/companies")],
            pool="portal_b",
        )
    new = build_hubspot_load_asset(CONTACTS, translator=TRANSLATOR, pool="portal_b")
    key = dg.AssetKey(["hubspot", "contacts"])
    assert old.keys_by_input_name == new.keys_by_input_name
    assert old.specs_by_key[key] == new.specs_by_key[key]
    assert old.op.pool == "portal_b"


def test_the_single_load_form_takes_a_load_or_the_old_keywords_not_both() -> None:
    with pytest.raises(TypeError, match="needs a HubSpotLoad"):
        build_hubspot_load_asset()
    with pytest.raises(TypeError, match="got a load and old keywords"):
        build_hubspot_load_asset(COMPANIES, name="companies")
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(TypeError, match="missing keyword argument 'source'"),
    ):
        build_hubspot_load_asset(name="companies", object_type="companies")
