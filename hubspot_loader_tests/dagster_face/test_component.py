"""``HubSpotLoadCollectionComponent`` in a defs folder (``create_defs_folder_sandbox``): scaffold, load, run.

The real ``dg`` CLI is in ``test_dg_cli.py``.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster.components.testing import DefsFolderSandbox, create_defs_folder_sandbox

from hubspot_loader.core.spec import HubSpotLoadSpec, field_docs
from hubspot_loader.dagster import HubSpotLoadCollectionComponent, HubSpotResource
from hubspot_loader.dagster.component_model import LOAD_MODEL, RESOURCE_MODEL
from hubspot_loader.sandbox import SandboxHandle

from .conftest import linked_companies

TYPE = "hubspot_loader.dagster.HubSpotLoadCollectionComponent"

ROWS_MODULE = """
import dagster as dg
import pandas as pd

from hubspot_loader_tests.dagster_face.conftest import ACCOUNTS, CUSTOMERS


@dg.asset
def account_rows() -> pd.DataFrame:
    return ACCOUNTS


@dg.asset
def customer_rows() -> pd.DataFrame:
    return CUSTOMERS
"""

RESOURCE_YAML = """\
  resource:
    access_token: "{{ env('HUBSPOT_ACCESS_TOKEN') }}"
    base_url: "{{ env('HUBSPOT_BASE_URL', 'https://api.hubapi.com') }}"
    requests_per_10s: 50
"""

LOADS_YAML = f"""\
type: {TYPE}
attributes:
{RESOURCE_YAML}  key_prefix: hubspot
  group_name: crm
  op:
    pool: portal_a
    tags: {{team: crm}}
  retry_policy: {{max_retries: 2, delay: 1}}
  translation:
    owners: ["team:crm"]
    tags: {{load: "{{{{ load.name }}}}"}}
  loads:
    - name: companies
      source: account_rows
      object_type: companies
      key_column: account_id
    - name: contacts
      source: customer_rows
      object_type: contacts
      key_column: customer_id
      preflight: quarantine
      properties:
        email: email
        first_name: firstname
      associations:
        - column: account_id
          to_object_type: companies
          keys_from: hubspot/companies
"""


@contextmanager
def defs_folder(
    defs_yaml: str | None = None, **scaffold_params: str
) -> Iterator[tuple[DefsFolderSandbox, Path]]:
    """A defs folder with the upstream rows assets and the component scaffolded (then ``defs_yaml``)."""
    with create_defs_folder_sandbox() as sandbox:
        (sandbox.defs_folder_path / "rows.py").write_text(ROWS_MODULE)
        path = sandbox.scaffold_component(
            component_cls=HubSpotLoadCollectionComponent,
            defs_path="loads",
            scaffold_params=scaffold_params or None,
        )
        if defs_yaml is not None:
            (path / "defs.yaml").write_text(defs_yaml)
        yield sandbox, path


def _materialize(defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.resolve_asset_graph().assets_defs), instance=dg.DagsterInstance.ephemeral()
    )


def test_the_scaffold_reads_the_resource_from_the_environment_and_lists_every_field() -> None:
    with defs_folder() as (_, path):
        text = (path / "defs.yaml").read_text()
    assert "access_token: \"{{ env('HUBSPOT_ACCESS_TOKEN') }}\"" in text
    assert "base_url: \"{{ env('HUBSPOT_BASE_URL', 'https://api.hubapi.com') }}\"" in text
    document = yaml.safe_load(text)
    assert document["type"].endswith("HubSpotLoadCollectionComponent")
    [load] = document["attributes"]["loads"]
    assert load["object_type"] == "contacts" and load["source"] == "contacts_rows"
    comments = " ".join(line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line)
    for field, doc in field_docs().items():  # every spec field is set or explained, in the spec's words
        assert field in load or f"{field}: {doc}" in comments, field


def test_scaffolded_loads_materialize_against_the_sandbox(hubspot_env: SandboxHandle) -> None:
    params = {"object_type": "companies", "source": "account_rows", "key_column": "account_id"}
    with defs_folder(**params) as (sandbox, _), sandbox.build_all_defs() as defs:
        assert _materialize(defs).success
    assert sorted(o["properties"]["name"] for o in hubspot_env.objects("companies")) == ["Acme", "Globex"]


def test_loads_with_associations_translation_and_op_options(hubspot_env: SandboxHandle) -> None:
    with (
        defs_folder(LOADS_YAML) as (sandbox, path),
        sandbox.load_component_and_build_defs(path) as (component, _),
    ):
        assert isinstance(component, HubSpotLoadCollectionComponent)
        assert isinstance(component.resource, HubSpotResource) and component.resource.requests_per_10s == 50
        with sandbox.build_all_defs() as defs:
            contacts = defs.resolve_assets_def(dg.AssetKey(["hubspot", "contacts"]))
            result = _materialize(defs)
    assert result.success
    spec = contacts.specs_by_key[dg.AssetKey(["hubspot", "contacts"])]
    assert spec.group_name == "crm" and spec.owners == ["team:crm"]
    assert spec.tags["load"] == "contacts" and spec.tags["hubspot/object_type"] == "contacts"
    assert contacts.op.pool == "portal_a" and contacts.op.tags["team"] == "crm"
    assert contacts.op.retry_policy == dg.RetryPolicy(max_retries=2, delay=1)
    assert not contacts.required_resource_keys & {"hubspot"}  # the component's own resource
    assert linked_companies(hubspot_env) == {
        "ann@acme.example": {"Acme"},
        "bo@globex.example": {"Globex"},
        "cy@example.com": set(),
    }


def test_without_resource_settings_the_loads_use_the_projects_resource(hubspot_env: SandboxHandle) -> None:
    document = LOADS_YAML.replace(RESOURCE_YAML, "")
    assert "resource:" not in document
    with defs_folder(document) as (sandbox, _):
        (sandbox.defs_folder_path / "resources.py").write_text(
            "import dagster as dg\nfrom hubspot_loader import HubSpotResource\n\n"
            "defs = dg.Definitions(resources={'hubspot': HubSpotResource()})\n"
        )
        with sandbox.build_all_defs() as defs:
            contacts = defs.resolve_assets_def(dg.AssetKey(["hubspot", "contacts"]))
            assert "hubspot" in contacts.required_resource_keys
            assert _materialize(defs).success
    assert len(hubspot_env.objects("contacts")) == 3


def _messages(error: BaseException | None) -> str:
    """The messages of ``error`` and the errors it was raised from (what ``dg check defs`` prints)."""
    found = []
    while error is not None:
        found.append(str(error))
        error = error.__cause__ or error.__context__
    return "\n".join(found)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        ("preflight: quarantine", "preflight: blok",
         "load spec: preflight must be one of off, block, quarantine, offline, offline_block (got 'blok')"),
        ("key_column: customer_id", "key_column: customer_id\n      batch_size: 500",
         "load spec: batch_size must be an integer from 1 to 100 (got 500)"),
        ("keys_from: hubspot/companies", "keys_from: hubspot/companies\n          type_id: many",
         "load spec: associations[0].type_id must be an integer (got 'many')"),
        ("key_column: customer_id", "key_column: customer_id\n      schema: no_such_module:SCHEMA",
         "load spec: schema cannot be imported (ModuleNotFoundError"),
        ("key_column: customer_id", "key_column: customer_id\n      read_source: no_such_module:read",
         "'no_such_module:read' cannot be imported"),
        ("key_column: customer_id", "key_column: customer_id\n      naive_timezone: Mars/Olympus",
         "load spec: naive_timezone is not an IANA time zone"),
        ("requests_per_10s: 50", "requests_per_10s: 0", "requests_per_10s: Input should be greater than"),
    ],
)  # fmt: skip
def test_a_bad_value_fails_with_the_file_line_and_the_reason(
    hubspot_env: SandboxHandle, before: str, after: str, message: str
) -> None:
    document = LOADS_YAML.replace(before, after, 1)
    bad_line = _line_of(document, after.splitlines()[-1].strip())
    with (
        defs_folder(document) as (sandbox, path),
        pytest.raises(Exception) as raised,
        sandbox.load_component_and_build_defs(path),
    ):
        pass
    text = _messages(raised.value)
    assert message in text
    assert f"defs.yaml:{bad_line} " in text, text


def test_the_yaml_fields_of_a_load_are_the_spec_fields_with_their_descriptions() -> None:
    properties = LOAD_MODEL.model_json_schema(by_alias=True)["properties"]
    docs = field_docs()
    for f in dataclasses.fields(HubSpotLoadSpec):
        assert properties[f.name]["description"] == docs[f.name]
    assert set(properties) == {*docs, "name", "source", "read_source", "description", "table_rows"}
    resource = RESOURCE_MODEL.model_json_schema()["properties"]
    assert set(resource) == set(HubSpotResource.model_fields)
    assert resource["base_url"]["description"] == HubSpotResource.model_fields["base_url"].description


def test_the_token_written_in_yaml_stays_out_of_the_repository_snapshot(
    monkeypatch: pytest.MonkeyPatch, hubspot_env: SandboxHandle
) -> None:
    from dagster._core.remote_representation.external_data import RepositorySnap

    secret = "pat-na1-12121212-3434-5656-7878-909090909090"
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", secret)
    with defs_folder(LOADS_YAML) as (sandbox, _), sandbox.build_all_defs() as defs:
        snapshot = str(RepositorySnap.from_def(defs.get_repository_def()))
    assert "hubspot__contacts" in snapshot and secret not in snapshot


def test_templates_give_any_field_its_value() -> None:
    text = textwrap.dedent(f"""\
        type: {TYPE}
        attributes:
          resource: {{}}
          loads:
            - name: accounts
              source: "{{{{ 'account' ~ '_rows' }}}}"
              object_type: companies
              batch_size: "{{{{ 5 * 2 }}}}"
              table_rows: "7"
    """)
    with defs_folder(text) as (sandbox, path), sandbox.build_component_tree() as tree:
        component = tree.load_component(path)
        defs = tree.build_defs()
        assert isinstance(component, HubSpotLoadCollectionComponent)
        [load] = component.loads
        assert load.source_key == dg.AssetKey(["account_rows"]) and load.spec.batch_size == 10
        assert load.table_rows == 7
        assert isinstance(component.resource, HubSpotResource)  # `resource: {}`: from the environment
        assert defs.resolve_assets_def(dg.AssetKey(["accounts"])).op.pool == "hubspot"
