"""The YAML side of the Component: schemas derived from the load spec and the resource, and their resolvers.

Nothing here lists a load's options by hand. A load item's fields are

- ``name``, ``source``, ``read_source``, ``description``, ``table_rows``: the fields of
  :class:`~hubspot_loader.dagster.translator.HubSpotLoad` (described in its docstring), and
- every field of :class:`~hubspot_loader.core.spec.HubSpotLoadSpec`, with the description of
  :func:`~hubspot_loader.core.spec.field_docs`; an association column's keys are the fields of
  :class:`~hubspot_loader.core.model.AssociationColumn`.

The ``resource:`` settings are the fields of :class:`~hubspot_loader.dagster.resource.HubSpotResource`, with
its descriptions. Values are checked where the spec and the resource check them
(:meth:`HubSpotLoadSpec.from_mapping`, the resource's pydantic model), and a bad value fails
``dg check defs`` with ``defs.yaml:<line>``, the field and :class:`~hubspot_loader.errors.InvalidSpecError`'s
one-line reason.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import dagster as dg
import pydantic
from dagster.components.resolved.errors import ResolutionException
from pydantic import BaseModel, Field

from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.spec import HubSpotLoadSpec, field_docs
from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.dagster.translator import HubSpotLoad
from hubspot_loader.errors import InvalidSpecError, LoadUsageError
from hubspot_loader.load_request import imported, resolved_schema

SPEC_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(HubSpotLoadSpec))
"""The load spec's fields, in order: the YAML keys of a load besides the load's own."""

LOAD_FIELDS: tuple[str, ...] = ("name", "source", "read_source", "description", "table_rows")
"""The :class:`HubSpotLoad` fields a YAML load item has (``spec`` is flattened into the item)."""

_REQUIRED = ("name", "source", "object_type")


def arg_docs(docstring: str | None) -> dict[str, str]:
    """Return the ``Args:`` of a Google-style docstring: argument name → its description on one line."""
    lines = inspect.cleandoc(docstring or "").splitlines()
    found: dict[str, str] = {}
    if "Args:" not in lines:
        return found
    current = None
    for line in lines[lines.index("Args:") + 1 :]:
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            current = match.group(1)
            found[current] = match.group(2).strip()
        elif current is not None and line.startswith("        "):
            found[current] += " " + line.strip()
        else:
            break
    return found


def _yaml_type(annotation: Any) -> Any:
    """Return the YAML form of a field type: association columns as mappings, schemas as import paths."""
    if annotation is AssociationColumn:
        return ASSOCIATION_MODEL
    if annotation is Any:
        return str | None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal or not args:
        return annotation
    converted = tuple(_yaml_type(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        return typing.Union[converted]  # noqa: UP007  (a runtime-built union)
    if origin in (Sequence, list, tuple):
        return list[converted[0]]  # type: ignore[valid-type]
    if origin in (Mapping, dict):
        return dict[converted[0], converted[1]]  # type: ignore[valid-type]
    return annotation


def _templatable(annotation: Any) -> Any:
    """``annotation`` or a template string (``"{{ env('X') }}"``), as Dagster's own models allow."""
    return annotation if annotation is str else annotation | str


def _model(name: str, fields: Mapping[str, tuple[Any, Any]], doc: str) -> type[BaseModel]:
    model = pydantic.create_model(name, __base__=dg.Model, __doc__=doc, **fields)  # type: ignore[call-overload]
    return typing.cast(type[BaseModel], model)


def _association_model() -> type[BaseModel]:
    docs = arg_docs(AssociationColumn.__doc__)
    hints = typing.get_type_hints(AssociationColumn)
    fields = {}
    for f in dataclasses.fields(AssociationColumn):
        default = ... if f.default is dataclasses.MISSING else f.default
        fields[f.name] = (_templatable(hints[f.name]), Field(default=default, description=docs.get(f.name)))
    return _model("HubSpotAssociationModel", fields, "An association column of a load.")


ASSOCIATION_MODEL = _association_model()


def _spec_field(f: dataclasses.Field[Any], annotation: Any, doc: str) -> tuple[Any, Any]:
    if f.default is not dataclasses.MISSING and isinstance(f.default, str | int | float | bool | type(None)):
        default = f.default
    elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
        default = ...
    else:
        default = None  # a collection default: the spec's own applies when the key is left out
    # a name pydantic models already use (``schema``) is the YAML key of a field named ``<name>_``
    alias = f.name if hasattr(BaseModel, f.name) else None
    return _templatable(_yaml_type(annotation)), Field(default=default, description=doc, alias=alias)


def _field_name(name: str) -> str:
    return f"{name}_" if hasattr(BaseModel, name) else name


def _load_model() -> type[BaseModel]:
    load_docs = arg_docs(HubSpotLoad.__doc__)
    fields: dict[str, tuple[Any, Any]] = {
        "name": (str, Field(description=load_docs["name"])),
        "source": (str, Field(description=load_docs["source"] + " As 'a/b' for a key with a prefix.")),
    }
    hints, docs = typing.get_type_hints(HubSpotLoadSpec), field_docs()
    for f in dataclasses.fields(HubSpotLoadSpec):
        fields[_field_name(f.name)] = _spec_field(f, hints[f.name], docs[f.name])
    fields["read_source"] = (
        str | None,
        Field(
            default=None,
            description=load_docs["read_source"]
            + " An import path 'package.module:function' (called with the asset's context), or a template "
            "that gives the function.",
        ),
    )
    fields["description"] = (str | None, Field(default=None, description=load_docs["description"]))
    fields["table_rows"] = (int | str, Field(default=50, description=load_docs["table_rows"]))
    return _model("HubSpotLoadModel", fields, "One load: the rows of an upstream asset sent to HubSpot.")


LOAD_MODEL = _load_model()
"""The schema of one item of ``loads:``."""


def _resource_model() -> type[BaseModel]:
    fields = {}
    for name, info in HubSpotResource.model_fields.items():
        fields[name] = (
            _templatable(info.annotation),
            Field(default=info.default, description=info.description),
        )
    return _model(
        "HubSpotResourceSettingsModel", fields, "The HubSpotResource the loads use (its fields and defaults)."
    )


RESOURCE_MODEL = _resource_model()
"""The schema of ``resource:``: the fields of :class:`HubSpotResource`."""


def located_error(
    context: dg.ResolutionContext, path: Sequence[str | int], message: str
) -> ResolutionException:
    """Return an error naming the defs.yaml file and line of the value at ``path`` (below ``context``)."""
    full_path = [*context.path, *path]
    tree = context.source_position_tree
    if tree is None:
        return ResolutionException(f"{'.'.join(str(p) for p in full_path)}: {message}")
    source = tree.source_error(yaml_path=full_path, inline_error_message=message, value_error=True)
    return ResolutionException(
        f"{source.file_name}:{source.start_line_no} - {source.location}: {message}\n{source.snippet}\n"
    )


def _field_path(field: str) -> list[str | int]:
    """``"associations[1].type_id"`` → ``["associations", 1, "type_id"]``."""
    return [int(index) if index else name for name, index in re.findall(r"(\w+)|\[(\d+)\]", field)]


def resolve_loads(context: dg.ResolutionContext, items: Any) -> list[HubSpotLoad]:
    """Resolve ``loads:`` into loads: each item's templates, then its spec, checked as the spec checks."""
    if isinstance(items, str):
        items = context.resolve_value(items)
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise located_error(context, [], f"must be a list of loads, got {type(items).__name__}")
    loads: list[HubSpotLoad] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        item_context = context.at_path(i)
        raw = item.model_dump(exclude_unset=True, by_alias=True) if isinstance(item, BaseModel) else item
        load = _load(item_context, item_context.resolve_value(raw))
        if load.name in names:
            raise located_error(item_context, ["name"], f"two loads are named {load.name!r}")
        names.add(load.name)
        loads.append(load)
    return loads


def _load(context: dg.ResolutionContext, values: Any) -> HubSpotLoad:
    if not isinstance(values, Mapping):
        raise located_error(context, [], "a load must be a mapping of its fields")
    unknown = [k for k in values if k not in LOAD_FIELDS and k not in SPEC_FIELDS]
    if unknown:
        known = ", ".join((*LOAD_FIELDS, *SPEC_FIELDS))
        raise located_error(
            context, [unknown[0]], f"{unknown[0]!r} is not a field of a load (the fields: {known})"
        )
    missing = [k for k in _REQUIRED if values.get(k) is None]
    if missing:
        raise located_error(context, [], f"a load needs {missing[0]!r}")
    try:
        spec = HubSpotLoadSpec.from_mapping({k: v for k, v in values.items() if k in SPEC_FIELDS})
        if isinstance(spec.schema, str):
            resolved_schema(spec.schema)  # a bad import path fails `dg check defs`, not the first run
    except InvalidSpecError as exc:
        raise located_error(context, _field_path(exc.field), str(exc)) from None
    loaded = {k: values[k] for k in LOAD_FIELDS if values.get(k) is not None}
    if "read_source" in loaded:
        loaded["read_source"] = _reader(context, loaded["read_source"])
    if "table_rows" in loaded:
        loaded["table_rows"] = _count(context, loaded["table_rows"])
    try:
        return HubSpotLoad(spec=spec, **loaded)
    except LoadUsageError as exc:
        raise located_error(context, [], str(exc)) from None


def _count(context: dg.ResolutionContext, value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value  # HubSpotLoad refuses anything but a count


def _reader(context: dg.ResolutionContext, value: Any) -> Any:
    """Return a ``read_source`` value's function: itself (from a template), or the one it imports."""
    if callable(value):
        return value
    if not isinstance(value, str) or ":" not in value:
        raise located_error(
            context, ["read_source"], f"must be an import path 'package.module:function', got {value!r}"
        )
    try:
        reader = imported(value)
    except (ImportError, AttributeError, ValueError) as exc:
        message = f"{value!r} cannot be imported ({type(exc).__name__}: {exc})"
        raise located_error(context, ["read_source"], message) from None
    if not callable(reader):
        raise located_error(context, ["read_source"], f"{value!r} is not a function")
    return reader


def resolve_resource(context: dg.ResolutionContext, model: Any) -> HubSpotResource | None:
    """Resolve ``resource:`` into a :class:`HubSpotResource`, its checks failing with the line."""
    if model is None:
        return None
    raw = model.model_dump(exclude_unset=True) if isinstance(model, BaseModel) else model
    values = context.resolve_value(raw)
    if not isinstance(values, Mapping):
        raise located_error(context, [], "must be a mapping of HubSpotResource fields")
    try:
        return HubSpotResource(**values)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        path = [p for p in first["loc"] if isinstance(p, str | int)]
        raise located_error(context, path[:1], f"{'.'.join(map(str, path))}: {first['msg']}") from None


class RetryPolicyModel(dg.Resolvable, dg.Model):
    """Step retries of the load assets (``dg.RetryPolicy``)."""

    max_retries: int = Field(default=1, description="Retries after the first attempt.")
    delay: float | None = Field(default=None, description="Seconds to wait before a retry.")
    backoff: Literal["LINEAR", "EXPONENTIAL"] | None = Field(default=None, description="How the delay grows.")
    jitter: Literal["FULL", "PLUS_MINUS"] | None = Field(
        default=None, description="Random jitter of the delay."
    )


def resolve_retry_policy(context: dg.ResolutionContext, model: Any) -> dg.RetryPolicy | None:
    """Resolve ``retry_policy:`` into a ``dg.RetryPolicy``."""
    if model is None:
        return None
    values = context.resolve_value(model.model_dump() if isinstance(model, BaseModel) else model)
    return dg.RetryPolicy(
        max_retries=int(values.get("max_retries", 1)),
        delay=values.get("delay"),
        backoff=dg.Backoff[values["backoff"]] if values.get("backoff") else None,
        jitter=dg.Jitter[values["jitter"]] if values.get("jitter") else None,
    )
