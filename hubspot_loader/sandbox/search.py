"""The CRM search API (``POST …/{objectType}/search``): filter groups, sorting and paging.

Filters inside a group are ANDed, groups are ORed. String comparisons are case-insensitive.
Supported operators: EQ, NEQ, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY, GT, GTE, LT, LTE,
CONTAINS_TOKEN, NOT_CONTAINS_TOKEN.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.store import StoredObject

MAX_LIMIT = 200
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "GT",
        "GTE",
        "LT",
        "LTE",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)


def _norm(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def _compare(actual: str, expected: str) -> int:
    try:
        a, b = float(actual), float(expected)
    except ValueError:
        return (actual > expected) - (actual < expected)
    return (a > b) - (a < b)


def _matches(stored: StoredObject, flt: dict[str, Any]) -> bool:
    name = flt.get("propertyName")
    op = flt.get("operator", "EQ")
    if not isinstance(name, str) or op not in OPERATORS:
        raise errors.validation(f"Invalid filter: {flt}")
    raw = stored.properties.get(name)
    if name == "hs_object_id" or name == "id":
        raw = str(stored.id)
    has = raw not in (None, "")
    if op == "HAS_PROPERTY":
        return has
    if op == "NOT_HAS_PROPERTY":
        return not has
    actual = _norm(raw) if has else ""
    if op in ("IN", "NOT_IN"):
        values = {_norm(v) for v in flt.get("values") or []}
        return (actual in values) == (op == "IN") if has else op == "NOT_IN"
    expected = _norm(flt.get("value", ""))
    if op == "EQ":
        return has and actual == expected
    if op == "NEQ":
        return actual != expected
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = expected if "*" in expected else f"*{expected}*"
        return fnmatch.fnmatchcase(actual, pattern) == (op == "CONTAINS_TOKEN")
    if not has:
        return False
    cmp = _compare(actual, expected)
    return {"GT": cmp > 0, "GTE": cmp >= 0, "LT": cmp < 0, "LTE": cmp <= 0}[op]


def run_search(
    objects: list[StoredObject],
    body: dict[str, Any],
    render: Callable[[StoredObject, list[str]], dict[str, Any]],
) -> dict[str, Any]:
    """Filter, sort and page ``objects``; returns ``CollectionResponseWithTotalSimplePublicObject``."""
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise errors.bad_input("Cannot deserialize `filterGroups`: expected an array")
    if groups:
        objects = [
            o for o in objects if any(all(_matches(o, f) for f in (g.get("filters") or [])) for g in groups)
        ]
    for sort in reversed(body.get("sorts") or []):
        if isinstance(sort, dict):
            prop = str(sort.get("propertyName", "hs_object_id"))
            descending = sort.get("direction", "ASCENDING") == "DESCENDING"
        else:
            prop, descending = str(sort), False

        def key(o: StoredObject, prop: str = prop) -> tuple[int, float, str]:
            value = str(o.id) if prop == "hs_object_id" else o.properties.get(prop, "")
            try:
                return (0, float(value), "")
            except ValueError:
                return (1, 0.0, value.lower())

        objects = sorted(objects, key=key, reverse=descending)
    try:
        limit = min(max(int(body.get("limit", 10)), 1), MAX_LIMIT)
        after = int(body.get("after", 0) or 0)
    except (TypeError, ValueError):
        raise errors.bad_input("limit and after must be integers") from None
    properties = [p for p in body.get("properties") or [] if isinstance(p, str)]
    page = objects[after : after + limit]
    result: dict[str, Any] = {"total": len(objects), "results": [render(o, properties) for o in page]}
    if after + limit < len(objects):
        result["paging"] = {"next": {"after": str(after + limit)}}
    return result
