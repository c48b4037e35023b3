"""The Component: HubSpot loads written in a ``defs.yaml``, for ``dg`` projects.

``dg scaffold defs hubspot_loader.dagster.HubSpotLoadCollectionComponent my_loads`` writes a working
``defs.yaml``; ``dg check defs`` validates it (a bad value fails with ``defs.yaml:<line>`` and the
reason); ``dg list components`` shows the component (the package registers ``hubspot_loader.dagster``
under the ``dagster_dg_cli.registry_modules`` entry point)::

    type: hubspot_loader.dagster.HubSpotLoadCollectionComponent
    attributes:
      resource:                              # omitted: the loads use the project's `hubspot` resource
        access_token: "{{ env('HUBSPOT_ACCESS_TOKEN') }}"
        base_url: "{{ env('HUBSPOT_BASE_URL', 'https://api.hubapi.com') }}"
      key_prefix: hubspot
      loads:
        - name: companies
          source: account_rows
          object_type: companies
          key_column: account_id
        - name: contacts
          source: customer_rows
          object_type: contacts
          key_column: customer_id
          properties: {email: email, first_name: firstname}
          associations:
            - {column: account_id, to_object_type: companies, keys_from: hubspot/companies}

A load's fields are the load spec's (:class:`~hubspot_loader.core.spec.HubSpotLoadSpec`) plus ``name``,
``source``, ``read_source``, ``description`` and ``table_rows``
(:mod:`hubspot_loader.dagster.component_model`).
The assets are built by the same code as :func:`~hubspot_loader.dagster.assets.build_hubspot_load_assets`.
"""

# No ``from __future__ import annotations``: Dagster reads the dataclass fields' types at runtime.

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import dagster as dg
from dagster.components.resolved.core_models import (
    DailyPartitionsDefinitionModel,
    HourlyPartitionsDefinitionModel,
    OpSpec,
    StaticPartitionsDefinitionModel,
    TimeWindowPartitionsDefinitionModel,
    WeeklyPartitionsDefinitionModel,
    resolve_partitions_def,
)
from dagster.components.utils.translation import TranslationFn, TranslationFnResolver
from pydantic import BaseModel, Field

from hubspot_loader.core.spec import field_docs
from hubspot_loader.dagster.assets import AssetSettings, check_loads, make_load_asset
from hubspot_loader.dagster.component_model import (
    LOAD_MODEL,
    RESOURCE_MODEL,
    RetryPolicyModel,
    resolve_loads,
    resolve_resource,
    resolve_retry_policy,
)
from hubspot_loader.dagster.resource import BASE_URL_ENV, TOKEN_ENV, HubSpotResource
from hubspot_loader.dagster.translator import DagsterHubSpotTranslator, HubSpotLoad
from hubspot_loader.http.base_url import DEFAULT_BASE_URL

if TYPE_CHECKING:
    _ResourceField = HubSpotResource | None
else:  # Dagster refuses a pydantic field type with constrained ints (the resource); the resolver decides
    _ResourceField = Any

_PARTITIONS_MODELS = (
    HourlyPartitionsDefinitionModel
    | DailyPartitionsDefinitionModel
    | WeeklyPartitionsDefinitionModel
    | TimeWindowPartitionsDefinitionModel
    | StaticPartitionsDefinitionModel
)


class HubSpotLoadScaffoldParams(BaseModel):
    """``dg scaffold defs ... --object-type deals --source deal_rows --key-column deal_id``."""

    object_type: str = Field(default="contacts", description="The HubSpot object type of the first load.")
    source: str | None = Field(default=None, description="Its upstream asset (default: <object type>_rows).")
    key_column: str | None = Field(default=None, description="The rows' warehouse key column.")


class HubSpotLoadScaffolder(dg.Scaffolder[HubSpotLoadScaffoldParams]):
    """Writes a commented ``defs.yaml`` with one load, the resource read from the environment."""

    @classmethod
    def get_scaffold_params(cls) -> type[HubSpotLoadScaffoldParams]:
        """Return the options of ``dg scaffold defs``."""
        return HubSpotLoadScaffoldParams

    def scaffold(self, request: dg.ScaffoldRequest[HubSpotLoadScaffoldParams]) -> None:
        """Write ``defs.yaml`` (or, with ``--format python``, Dagster's Python stub)."""
        if request.scaffold_format == "python":
            dg.scaffold_component(request)
            return
        request.target_path.mkdir(parents=True, exist_ok=True)
        path = request.target_path / "defs.yaml"
        mode = "a" if request.append and path.exists() else "w"
        with path.open(mode, encoding="utf-8") as out:
            if mode == "a":
                out.write("---\n")
            out.write(scaffold_text(request.type_name, request.params))


def scaffold_text(type_name: str, params: HubSpotLoadScaffoldParams) -> str:
    """Return the ``defs.yaml`` text ``dg scaffold defs`` writes: one load, the other fields as comments."""
    object_type = params.object_type
    name = re.sub(r"\W", "_", object_type).strip("_") or "rows"
    name = name if name[0].isalpha() else f"objects_{name}"
    contacts = object_type == "contacts"
    source = params.source or f"{name}_rows"
    key_column = params.key_column or ("contact_id" if contacts else "id")
    load = [
        (f"    - name: {name}", f"its asset: hubspot/{name}"),
        (f"      source: {source}", "the upstream asset whose value is the DataFrame"),
        (f"      object_type: {object_type}", "contacts, companies, deals, 0-3, p_vendor ..."),
        (f"      key_column: {key_column}", "unique, non-null"),
    ]
    if contacts:
        load += [
            ("      properties:", "column -> HubSpot property (default: every other column)"),
            ("        email: email", ""),
            ("        first_name: firstname", ""),
            ("      unique_property: email", "looks a contact up after a lost answer"),
        ]
    used = {line.split(":")[0].strip(" -") for line, _ in load}
    others = [(field, doc) for field, doc in field_docs().items() if field not in used]
    others.append(("read_source", "'package.module:function' that reads the rows (`source` is then a dep)."))
    lines = [
        "# HubSpot loads (hubspot_loader): each load sends the rows of an upstream asset to one HubSpot",
        "# object type, one asset per load. `dg check defs` checks every field.",
        f"type: {type_name}",
        "",
        "attributes:",
        f"  # The portal: a private app's token, and the API root (${BASE_URL_ENV}, default",
        f"  # {DEFAULT_BASE_URL}; a sandbox's URL, e.g. `hubspot-loader sandbox --port 8765`, tries the",
        "  # loads locally). Without `resource:` the loads use the project's `hubspot` resource.",
        "  resource:",
        f"    access_token: \"{{{{ env('{TOKEN_ENV}') }}}}\"",
        f"    base_url: \"{{{{ env('{BASE_URL_ENV}', '{DEFAULT_BASE_URL}') }}}}\"",
        "  key_prefix: hubspot",
        "  loads:",
        *(f"{line:<40}# {comment}" if comment else line for line, comment in load),
        "      # The other fields of a load (the load spec, hubspot_loader.HubSpotLoadSpec):",
    ]
    for field, doc in others:
        lines += textwrap.wrap(
            f"{field}: {doc}", width=104, initial_indent="      #   ", subsequent_indent="      #     "
        )
    return "\n".join(lines) + "\n"


@dg.scaffold_with(HubSpotLoadScaffolder)
@dataclass
class HubSpotLoadCollectionComponent(dg.Component, dg.Resolvable):
    """Load upstream DataFrames into HubSpot CRM objects: one asset per load (hubspot_loader).

    Each item of ``loads`` is a load spec (object type, key column, properties, associations, schema,
    preflight ...) plus the upstream asset it reads. ``resource`` holds the HubSpotResource settings
    (the token and base URL from the environment); without it the loads use the project's resource
    ``resource_key``. ``translation`` changes each asset spec (template variable ``load``).
    """

    loads: Annotated[
        Sequence[HubSpotLoad],
        dg.Resolver(
            resolve_loads,
            model_field_type=list[LOAD_MODEL],
            inject_before_resolve=False,
            description="The loads: each the fields of a load spec plus name and source.",
        ),
    ]
    resource: Annotated[
        _ResourceField,
        dg.Resolver(
            resolve_resource,
            model_field_type=RESOURCE_MODEL | None,
            inject_before_resolve=False,
            description=(
                "HubSpotResource settings the loads use "
                "(e.g. access_token: \"{{ env('HUBSPOT_ACCESS_TOKEN') }}\"); "
                "omitted: the project's resource named by resource_key."
            ),
        ),
    ] = None
    resource_key: Annotated[
        str,
        dg.Resolver.default(description="The Definitions resource the loads use when resource is omitted."),
    ] = "hubspot"
    key_prefix: Annotated[
        str | Sequence[str] | None,
        dg.Resolver.default(description="Prefix of the asset keys (e.g. hubspot)."),
    ] = None
    group_name: Annotated[str | None, dg.Resolver.default(description="The assets' group.")] = None
    op: Annotated[
        OpSpec | None,
        dg.Resolver.default(
            description="Op options of every load asset: tags, pool (default hubspot), backfill_policy."
        ),
    ] = None
    retry_policy: Annotated[
        dg.RetryPolicy | None,
        dg.Resolver(resolve_retry_policy, model_field_type=RetryPolicyModel, description="Step retries."),
    ] = None
    partitions_def: Annotated[
        dg.PartitionsDefinition | None,
        dg.Resolver(
            resolve_partitions_def, model_field_type=_PARTITIONS_MODELS, description="The assets' partitions."
        ),
    ] = None
    translation: Annotated[
        TranslationFn[HubSpotLoad] | None,
        TranslationFnResolver[HubSpotLoad](lambda load: {"load": load}),
    ] = None

    def get_asset_spec(self, load: HubSpotLoad) -> dg.AssetSpec:
        """Return the asset spec of ``load`` before ``translation``: override to change every load's spec."""
        return DagsterHubSpotTranslator(
            key_prefix=self.key_prefix, group_name=self.group_name
        ).get_asset_spec(load)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """One asset per load, with the ``hubspot_rows_accepted`` check."""
        check_loads(self.loads)
        assets = [make_load_asset(load, self._spec(load), self._settings()) for load in self.loads]
        return dg.Definitions(assets=assets)

    def _spec(self, load: HubSpotLoad) -> dg.AssetSpec:
        spec = self.get_asset_spec(load)
        return self.translation(spec, load) if self.translation is not None else spec

    def _settings(self) -> AssetSettings:
        op = self.op or OpSpec()
        if op.name is not None or op.description is not None:
            raise ValueError("op.name and op.description are per load: each asset is named after its key")
        return AssetSettings(
            resource_key=self.resource_key,
            resource=self.resource,
            pool=op.pool or "hubspot",
            op_tags=op.tags,
            retry_policy=self.retry_policy,
            backfill_policy=op.backfill_policy,
            partitions_def=self.partitions_def,
        )
