"""Reading ``hubspot-loader load --spec FILE``: a YAML, TOML or JSON file whose mapping is a load spec.

The file holds the fields of :class:`~hubspot_loader.core.spec.HubSpotLoadSpec` (``object_type``,
``key_column``, ``properties``, ``associations`` ...); this module only parses it into a mapping and
turns every problem into one :class:`~hubspot_loader.cli.exits.UsageError` line naming the file, where
(line and column, or the field) and why. The spec itself checks the values
(:meth:`~hubspot_loader.core.spec.HubSpotLoadSpec.from_mapping`): see :mod:`hubspot_loader.cli.settle`.

YAML is read with PyYAML's safe loader and two changes that spare the usual surprises:

- only ``true``/``false`` are booleans (YAML 1.2's rule), so ``preflight: off`` is the text ``off``,
  not ``False`` as YAML 1.1 would have it;
- a key given twice in one mapping is an error (YAML 1.1 loaders quietly keep the last one).

TOML is read with the standard library's ``tomllib`` (Python 3.11+) or ``tomli`` (a dependency on 3.10).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from hubspot_loader.cli.exits import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

YAML_SUFFIXES = (".yaml", ".yml")
TOML_SUFFIXES = (".toml",)
JSON_SUFFIXES = (".json",)
SPEC_EXAMPLE = "object_type: contacts, key_column: id, properties: {mail: email} ..."


class _SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans and no repeated keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)  # merge keys (<<) first, as the safe loader does
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice", key_node.start_mark
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def spec_format(path: Path) -> str:
    """``"yaml"``, ``"toml"`` or ``"json"`` from the file name; :class:`UsageError` for anything else."""
    suffix = path.suffix.lower()
    for kind, suffixes in (("yaml", YAML_SUFFIXES), ("toml", TOML_SUFFIXES), ("json", JSON_SUFFIXES)):
        if suffix in suffixes:
            return kind
    raise UsageError(
        f"--spec {path}: unsupported spec file type {suffix or '(none)'}; give a .yaml (or .yml), .toml or "
        ".json file"
    )


def read_spec_file(path: Path) -> dict[str, Any]:
    """Parse the spec file at ``path`` into its top-level mapping (the spec's fields, not yet checked).

    Raises:
        UsageError: the file is missing, unreadable, not UTF-8, not valid YAML/TOML/JSON (with the line
            and column), empty, not a mapping, or gives a key twice.

    """
    kind = spec_format(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"cannot read the spec file {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"cannot read the spec file {path}: it is a directory") from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read the spec file {path}: it is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read the spec file {path}: {exc.strerror or exc}") from None
    data = _parse(path, kind, text)
    if data is None or data == {}:
        raise UsageError(f"{path} is empty; a spec file is a mapping of load spec fields ({SPEC_EXAMPLE})")
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}: the file must be a mapping of load spec fields ({SPEC_EXAMPLE}), not a "
            f"{type(data).__name__}"
        )
    return {str(key): value for key, value in data.items()}


def _parse(path: Path, kind: str, text: str) -> Any:
    if kind == "toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: not valid TOML: {_one_line(str(exc))}") from None
    if kind == "json":
        try:
            return json.loads(text, object_pairs_hook=lambda pairs: _json_object(path, pairs))
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
    try:
        return yaml.load(text, Loader=_SpecLoader)  # a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise UsageError(f"{path}: not valid YAML{where}: {_one_line(exc.problem or str(exc))}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {_one_line(str(exc))}") from None


def _json_object(path: Path, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise UsageError(f"{path}: not valid as a spec: {key!r} is given twice")
        result[key] = value
    return result


def _one_line(text: str) -> str:
    return " ".join(text.split())
