"""Running preflight over a frame at once, without reads: :func:`run_preflight`.

The checks themselves are in :mod:`~hubspot_loader.core.preflight.checks`; online preflight runs them in
phases (:class:`~hubspot_loader.core.preflight.checks.PreflightChecks`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from hubspot_loader.core.plan import check_column_names, property_mapping
from hubspot_loader.core.preflight.checks import PreflightChecks, PreflightRequest
from hubspot_loader.core.preflight.report import PreflightReport
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import InvalidSpecError

_DEPRECATED_KEYWORDS = ("object_type", "key_column", "associations", "schema", "naive_timezone")
"""The old keyword form's settings that the load spec now carries."""


def run_preflight(
    df: pd.DataFrame,
    spec: HubSpotLoadSpec | None = None,
    *,
    definitions: Sequence[Mapping[str, Any]],
    mapping: Mapping[Any, str] | None = None,
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
    **deprecated: Any,
) -> PreflightReport:
    """Predict which rows of ``df`` HubSpot would reject, and what blocks the load as configured.

    Args:
        df: the rows to load. Its column names must be unique; they need not be strings.
        spec: the load (:class:`~hubspot_loader.core.spec.HubSpotLoadSpec`); preflight uses its
            ``object_type`` (in messages and for the contact identity rule), ``key_column`` (non-null,
            unique; without one a row's key is its position), ``associations``, ``schema`` (the user's
            own, merged with the generated one, :func:`merge_schemas`; its failures are reported per row
            too, with the check's name as the code; it must be the schema object, not an import path),
            ``naive_timezone`` and, when ``mapping`` is not given, ``properties``. The spec names columns
            by their text (``3`` is ``"3"``), as the frame's labels are compared.
        definitions: the properties API ``results`` for the object type.
        mapping: column → property for the columns the load sends; ``None``: what the load settles from
            the spec (:func:`hubspot_loader.core.plan.property_mapping`, which raises the load's usage
            errors, e.g. a named column not in the frame). A column is the frame's label (``0``) or its
            ``str`` (``"0"``); problems name it by its ``str``.
        labels: ``to_object_type`` (as written in the association column) → the labels API ``results``
            for the object type → that type, or ``None`` when the labels API did not know the type.
            Targets not in the mapping (or ``labels=None``) are checked only against HubSpot's default
            type ids.
        id_maps: named warehouse-key → HubSpot-id maps, for association columns with ``keys_from``.
        **deprecated: the old keyword form, ``run_preflight(df, object_type=..., definitions=...,
            mapping=..., key_column=..., associations=..., schema=..., naive_timezone=...)``: still
            accepted for one release, with a ``DeprecationWarning``.

    Returns:
        the report; nothing is raised for predicted failures, whatever the cells hold.

    Raises:
        hubspot_loader.errors.DuplicateColumnsError: two columns of ``df`` have the same name (as text,
            as for :func:`~hubspot_loader.load.load_dataframe`); nothing was checked.
        hubspot_loader.errors.InvalidSpecError: ``spec.schema`` is an import path (core imports nothing:
            pass ``spec.replace(schema=the_schema_object)``).
        TypeError: neither a spec nor the old keywords, both, or an unknown keyword.

    """
    spec = _spec_of(spec, deprecated)
    if isinstance(spec.schema, str):
        raise InvalidSpecError(
            "schema",
            "is an import path; run_preflight imports nothing: pass the schema object "
            "(spec.replace(schema=...))",
            spec.schema,
        )
    if mapping is None:
        check_column_names(df)  # the documented refusal comes before the mapping is settled
        mapping = property_mapping(
            df, spec.properties, key_column=spec.key_column, associations=spec.associations
        )
    request = PreflightRequest(
        df,
        spec.object_type,
        definitions,
        mapping,
        key_column=spec.key_column,
        associations=spec.associations,
        labels=labels,
        id_maps=id_maps,
        schema=spec.schema,
        naive_timezone=spec.naive_timezone,
    )
    return PreflightChecks(request).report()


def _spec_of(spec: HubSpotLoadSpec | None, deprecated: Mapping[str, Any]) -> HubSpotLoadSpec:
    """Return the spec given, or the one the deprecated keyword form describes (with its warning)."""
    unknown = [k for k in deprecated if k not in _DEPRECATED_KEYWORDS]
    if unknown:
        raise TypeError(f"run_preflight() got an unexpected keyword argument {unknown[0]!r}")
    if spec is not None:
        if deprecated:
            raise TypeError(
                f"run_preflight() got a spec and the deprecated keyword {next(iter(deprecated))!r}; "
                "put it in the spec"
            )
        return spec
    if "object_type" not in deprecated:
        raise TypeError("run_preflight() missing 1 required argument: 'spec' (a HubSpotLoadSpec)")
    warnings.warn(
        "run_preflight(df, object_type=...) is deprecated and goes in the next release; describe the load "
        "once: run_preflight(df, HubSpotLoadSpec(object_type=..., key_column=..., ...), definitions=..., "
        "mapping=...)",
        DeprecationWarning,
        stacklevel=3,
    )
    return HubSpotLoadSpec(**deprecated)
