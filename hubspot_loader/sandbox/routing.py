"""Which HubSpot paths the sandbox serves, and matching a request's method and path to one of them.

The table is the single list of served endpoints: the handlers (:mod:`~hubspot_loader.sandbox.handlers`)
bind each entry's ``endpoint`` to a method, and the contract test checks that it covers every entry. Path
templates are HubSpot's (Spec repo, reference §2.2, §2.4, §11.3, §16.5, §16.7); ``{name}`` matches one
non-empty path segment.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the objects API's two path families (reference §2.2)
OBJECT_PREFIXES = ("/crm/v3/objects", "/crm/objects/2026-03")
#: the properties API's two path families (reference §2.4)
PROPERTY_PREFIXES = ("/crm/v3/properties", "/crm/properties/2026-03")
#: where the association labels are read (reference §11.3)
LABEL_PREFIXES = ("/crm/v4/associations", "/crm/associations/v4", "/crm/associations/2026-03")
#: the associations API's batch endpoints (reference §16.5; ``/crm/associations/v4`` is the schema API's)
ASSOCIATION_BATCH_PREFIXES = ("/crm/v4/associations", "/crm/associations/2026-03")
#: batch operation path → handler suffix
ASSOCIATION_BATCH_OPERATIONS = (
    ("create", "create"),
    ("associate/default", "default"),
    ("archive", "archive"),
    ("labels/archive", "labels_archive"),
    ("read", "read"),
)
#: where one record's associations to an object type are read (reference §16.5)
ASSOCIATION_READ_PREFIXES = ("/crm/v4/objects", "/crm/objects/2026-03")
#: the account information API (reference §16.7)
ACCOUNT_INFO_PATHS = ("/account-info/v3/details", "/account-info/2026-03/details")
BATCH_OPERATIONS = ("create", "read", "upsert", "update", "archive")


@dataclass(frozen=True)
class RouteSpec:
    """One served endpoint: method, path template, counter family and the handler's name."""

    method: str
    template: str
    family: str
    endpoint: str
    search: bool = False

    @property
    def segments(self) -> tuple[str, ...]:
        """The template's path segments."""
        return tuple(self.template.strip("/").split("/"))


@dataclass(frozen=True)
class RouteMatch:
    """A request matched to a :class:`RouteSpec`, with the values of its ``{placeholders}``."""

    spec: RouteSpec
    params: dict[str, str]
    prefix: str


def _object_routes(prefix: str) -> list[RouteSpec]:
    base = f"{prefix}/{{objectType}}"
    routes = [
        RouteSpec("POST", f"{base}/batch/{op}", f"batch/{op}", f"h_batch_{op}") for op in BATCH_OPERATIONS
    ]
    routes += [
        RouteSpec("POST", f"{base}/search", "search", "h_search", search=True),
        RouteSpec("GET", base, "object/list", "h_list"),
        RouteSpec("POST", base, "object/create", "h_create_one"),
        RouteSpec("GET", f"{base}/{{objectId}}", "object/get", "h_get"),
        RouteSpec("PATCH", f"{base}/{{objectId}}", "object/update", "h_update_one"),
        RouteSpec("DELETE", f"{base}/{{objectId}}", "object/archive", "h_archive_one"),
    ]
    return routes


def _build_table() -> tuple[RouteSpec, ...]:
    routes: list[RouteSpec] = []
    for prefix in OBJECT_PREFIXES:
        routes += _object_routes(prefix)
    for prefix in PROPERTY_PREFIXES:
        routes += [
            RouteSpec("GET", f"{prefix}/{{objectType}}", "properties/list", "h_properties"),
            RouteSpec("POST", f"{prefix}/{{objectType}}", "properties/create", "h_property_create"),
            RouteSpec("GET", f"{prefix}/{{objectType}}/{{propertyName}}", "properties/get", "h_property_get"),
        ]
    for prefix in LABEL_PREFIXES:
        routes.append(
            RouteSpec("GET", f"{prefix}/{{fromObjectType}}/{{toObjectType}}/labels", "labels", "h_labels")
        )
    for prefix in ASSOCIATION_BATCH_PREFIXES:
        base = f"{prefix}/{{fromObjectType}}/{{toObjectType}}/batch"
        for op, handler in ASSOCIATION_BATCH_OPERATIONS:
            routes.append(
                RouteSpec(
                    "POST", f"{base}/{op}", f"associations/batch/{op}", f"h_association_batch_{handler}"
                )
            )
    for prefix in ASSOCIATION_READ_PREFIXES:
        template = f"{prefix}/{{objectType}}/{{objectId}}/associations/{{toObjectType}}"
        routes.append(RouteSpec("GET", template, "associations/read", "h_associations_read"))
    for path in ACCOUNT_INFO_PATHS:
        routes.append(RouteSpec("GET", path, "account-info/details", "h_account_details"))
    return tuple(routes)


#: every endpoint the sandbox's CRM API serves (the inspection API under ``/__sandbox__/`` aside)
ROUTES: tuple[RouteSpec, ...] = _build_table()


def _by_method() -> dict[str, list[RouteSpec]]:
    table: dict[str, list[RouteSpec]] = {}
    for spec in ROUTES:
        table.setdefault(spec.method, []).append(spec)
    for specs in table.values():
        # more literal segments first: ``…/batch/read`` is tried before ``…/{objectId}``
        specs.sort(key=lambda r: -sum(1 for s in r.segments if not s.startswith("{")))
    return table


_ROUTES_BY_METHOD = _by_method()


def _match_segments(template: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    if len(template) != len(parts):
        return None
    params: dict[str, str] = {}
    for want, got in zip(template, parts, strict=True):
        if want.startswith("{") and want.endswith("}"):
            if not got:
                return None
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def match_route(method: str, path: str) -> RouteMatch | None:
    """Find the served endpoint for ``method`` and ``path`` (a trailing ``/`` is ignored).

    Templates with more literal segments win (``…/batch/read`` before ``…/{objectId}``).
    """
    parts = path.strip("/").split("/")
    for spec in _ROUTES_BY_METHOD.get(method, []):
        params = _match_segments(spec.segments, parts)
        if params is not None:
            literal_head = spec.template.split("/{", 1)[0]
            return RouteMatch(spec, params, literal_head)
    return None
