"""The CRM API: routing, authentication, rate limiting, fault injection and the endpoint handlers.

:class:`SandboxApp` is transport-neutral: it turns a :class:`Request` into a :class:`Response`
(the HTTP server in :mod:`hubspot_loader.sandbox.server` does the socket work). Its state and shared
helpers are in :mod:`~hubspot_loader.sandbox.app_core`, the batch endpoints in
:mod:`~hubspot_loader.sandbox.batch_endpoints`; their names stay importable from here.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import (
    ALWAYS_RETURNED,
    ASSOCIATION_CATEGORIES,
    WRITE_ROUTES,
    AppCore,
    Route,
)
from hubspot_loader.sandbox.batch_endpoints import BatchEndpoints
from hubspot_loader.sandbox.catalog import ObjectType, PropertyDef, property_from_config
from hubspot_loader.sandbox.config import PropertyConfig, TokenConfig
from hubspot_loader.sandbox.errors import HubSpotError
from hubspot_loader.sandbox.faults import (
    DROP_AFTER_COMMIT,
    ERROR,
    HANG_AFTER_COMMIT,
    RATE_LIMIT,
    RESET_BEFORE,
    FaultPlan,
)
from hubspot_loader.sandbox.http_types import ABORT_DROP, ABORT_HANG, ABORT_RESET, Request, Response
from hubspot_loader.sandbox.ratelimit import Decision
from hubspot_loader.sandbox.search import run_search
from hubspot_loader.sandbox.store import StoredObject

OBJECT_PREFIXES = ("/crm/v3/objects/", "/crm/objects/2026-03/")
PROPERTY_PREFIXES = ("/crm/v3/properties/", "/crm/properties/2026-03/")
LABEL_PREFIXES = ("/crm/v4/associations/", "/crm/associations/v4/", "/crm/associations/2026-03/")
V4_OBJECT_PREFIXES = ("/crm/v4/objects/", "/crm/associations/2026-03/objects/")


class SandboxApp(BatchEndpoints):
    """State and behaviour of one sandbox (shared by all server threads)."""

    # ------------------------------------------------------------------ routing
    def route(self, req: Request) -> Route | None:
        """Match a CRM API path (both the v3 and the 2026-03 families)."""
        path, method = req.path.rstrip("/"), req.method
        for prefix in OBJECT_PREFIXES:
            if path.startswith(prefix):
                return self._object_route(method, path[len(prefix) :].split("/"))
        for prefix in PROPERTY_PREFIXES:
            if path.startswith(prefix):
                parts = path[len(prefix) :].split("/")
                if len(parts) == 1 and method == "GET":
                    return Route("properties/list", self.h_properties, parts[0])
                if len(parts) == 1 and method == "POST":
                    return Route("properties/create", self.h_property_create, parts[0])
                if len(parts) == 2 and method == "GET":
                    return Route("properties/get", self.h_property_get, parts[0], op=parts[1])
                return None
        for prefix in V4_OBJECT_PREFIXES:
            if path.startswith(prefix):
                parts = path[len(prefix) :].split("/")
                if len(parts) == 4 and parts[2] == "associations" and method == "GET":
                    return Route(
                        "associations/read", self.h_v4_associations, parts[0], parts[1], to_ref=parts[3]
                    )
                return None
        for prefix in LABEL_PREFIXES:
            if path.startswith(prefix):
                parts = path[len(prefix) :].split("/")
                if len(parts) == 3 and parts[2] == "labels" and method == "GET":
                    return Route("labels", self.h_labels, parts[0], to_ref=parts[1])
                return None
        return None

    def _object_route(self, method: str, parts: list[str]) -> Route | None:
        if not parts or not parts[0]:
            return None
        ref = parts[0]
        if len(parts) == 1:
            if method == "GET":
                return Route("object/list", self.h_list, ref)
            if method == "POST":
                return Route("object/create", self.h_create_one, ref)
        elif len(parts) == 2 and parts[1] == "search" and method == "POST":
            return Route("search", self.h_search, ref, search=True)
        elif len(parts) == 2:
            handlers = {
                "GET": ("object/get", self.h_get),
                "PATCH": ("object/update", self.h_update_one),
                "DELETE": ("object/archive", self.h_archive_one),
            }
            if method in handlers:
                family, fn = handlers[method]
                return Route(family, fn, ref, parts[1])
        elif len(parts) == 3 and parts[1] == "batch" and method == "POST":
            ops = {
                "create": self.h_batch_create,
                "read": self.h_batch_read,
                "upsert": self.h_batch_upsert,
                "update": self.h_batch_update,
                "archive": self.h_batch_archive,
            }
            if parts[2] in ops:
                return Route(f"batch/{parts[2]}", ops[parts[2]], ref, op=parts[2])
        return None

    # ------------------------------------------------------------------ the request pipeline
    def handle(self, req: Request) -> Response:
        """Answer one CRM API request (everything outside ``/__sandbox__/`` and ``/``)."""
        correlation_id = str(uuid.uuid4())
        self.store.pending.tick()
        route = self.route(req)
        parsed: Any = None
        inputs = 0
        if route is not None and req.body and req.method == "POST":
            try:
                parsed = json.loads(req.body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and isinstance(parsed.get("inputs"), list):
                inputs = len(parsed["inputs"])
        obj = self.catalog.resolve(route.object_ref) if route and route.object_ref else None
        self.counters.request(
            f"{req.method} {route.family if route else 'unknown'}",
            obj.name if obj else None,
            bool(route and route.write),
            inputs,
        )
        plan = self.faults.plan(bool(route and route.write), inputs) if route else FaultPlan()
        try:
            response = self._process(req, route, plan)
        except HubSpotError as exc:
            response = Response(exc.status, exc.body, dict(exc.headers))
        if isinstance(response.body, dict) and response.body.get("status") == "error":
            response.body["correlationId"] = correlation_id
        response.headers["X-HubSpot-Correlation-Id"] = correlation_id
        if plan.kind == DROP_AFTER_COMMIT and response.abort is None:
            response.abort = ABORT_DROP
        elif plan.kind == HANG_AFTER_COMMIT and response.abort is None:
            response.abort = ABORT_HANG
            response.hang_seconds = self.faults.config.hang_seconds
        if response.abort is not None:
            self.counters.fault(response.abort)
        else:
            self.counters.status(response.status)
        return response

    def _process(self, req: Request, route: Route | None, plan: FaultPlan) -> Response:
        if plan.latency_s > 0:
            self.shutdown_event.wait(plan.latency_s)
        if route is None:
            raise errors.route_not_found(req.method, req.path)
        if plan.kind == RESET_BEFORE:
            return Response(0, abort=ABORT_RESET)
        if plan.kind == ERROR:
            self.counters.fault(f"status_{plan.status}")
            raise errors.server_error(plan.status)
        token = self._authenticate(req)
        if plan.kind == RATE_LIMIT:
            self.counters.fault("rate_limit_burst")
            decision = self.limiter.burst_decision(token.token)
            raise self._rate_limited(decision, token)
        decision = self.limiter.admit(token.token, search=route.search)
        if not decision.allowed:
            raise self._rate_limited(decision, token)
        try:
            response = route.handler(req, route, token)
        except HubSpotError as exc:
            if not route.search:
                exc.headers.update(self._limit_headers(decision, token))
            raise
        if not route.search:
            response.headers.update(self._limit_headers(decision, token))
        return response

    def _authenticate(self, req: Request) -> TokenConfig:
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise errors.unauthorized()
        return token

    def _limit_headers(self, decision: Decision, token: TokenConfig) -> dict[str, str]:
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(decision.window_ms),
            "X-HubSpot-RateLimit-Max": str(decision.limit),
            "X-HubSpot-RateLimit-Remaining": str(decision.remaining),
            "X-HubSpot-RateLimit-Secondly": str(max(decision.limit // 10, 1)),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(decision.limit // 10, 1)),
        }
        if token.kind != "oauth":
            headers["X-HubSpot-RateLimit-Daily"] = str(decision.daily_limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(decision.daily_remaining)
        return headers

    def _rate_limited(self, decision: Decision, token: TokenConfig) -> HubSpotError:
        exc = errors.rate_limited(decision.policy or "TEN_SECONDLY_ROLLING", self.config.retry_after_seconds)
        exc.body["requestId"] = str(uuid.uuid4())
        if decision.policy != "SECONDLY":
            exc.headers.update(self._limit_headers(decision, token))
        return exc

    # ------------------------------------------------------------------ single-object endpoints
    def h_create_one(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/{objectType}``: 201 ``SimplePublicObject`` with a ``Location`` header."""
        obj = self._object_type(route, token, write=True)
        data = self._json(req)
        if not isinstance(data, dict):
            raise errors.bad_input("Expected an object")
        valid, _items = self._validate_inputs(obj, [data], False, creating=True)
        outcome = self.store.create(
            obj,
            valid,
            source=self._source(token),
            conflicts_per_item=False,
            associations_per_item=False,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        _i, stored, _new = outcome.results[0]
        self.counters.writes(
            obj.name, created=1, associations=sum(len(a.type_ids) for a in valid[0].associations)
        )
        location = f"https://api.hubapi.com/crm/objects/v3/{obj.name}/{stored.id}"
        return Response(201, self.render(obj, stored), {"Location": location})

    def _lookup(self, req: Request, route: Route, obj: ObjectType) -> StoredObject:
        id_property = req.param("idProperty") or "hs_object_id"
        if id_property != "hs_object_id":
            prop = obj.properties.get(id_property)
            if prop is None or not prop.unique:
                raise errors.validation(f"Property {id_property} is not a unique identifier property")
        value = route.object_id or ""
        if req.param("archived", "false") == "true":
            stored = self.store.get(obj, int(value) if value.isdigit() else None, archived=True)
        else:
            stored = self.store.find(obj, id_property, value)
        if stored is None:
            raise HubSpotError(
                404,
                errors.error_body(
                    "Object not found.  objectId are usually numeric.",
                    "OBJECT_NOT_FOUND",
                    context={"id": [value]},
                ),
            )
        return stored

    def h_get(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET …/{objectType}/{id}`` with ``properties``, ``associations``, ``idProperty``, ``archived``."""
        obj = self._object_type(route, token, write=False)
        stored = self._lookup(req, route, obj)
        body = self.render(obj, stored, properties=req.param_list("properties"))
        self._attach_associations(body, obj, stored, req.param_list("associations"))
        return Response(200, body)

    def h_list(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET …/{objectType}``: paged list (``limit`` ≤ 100, ``after`` cursor)."""
        obj = self._object_type(route, token, write=False)
        try:
            limit = min(max(int(req.param("limit", "10") or 10), 1), 100)
            after = int(req.param("after", "0") or 0)
        except ValueError:
            raise errors.validation("limit and after must be integers") from None
        archived = req.param("archived", "false") == "true"
        items = [o for o in self.store.all(obj, archived=archived) if o.id > after]
        page = items[:limit]
        results = []
        for stored in page:
            item = self.render(obj, stored, properties=req.param_list("properties"))
            self._attach_associations(item, obj, stored, req.param_list("associations"))
            results.append(item)
        body: dict[str, Any] = {"results": results}
        if len(items) > limit:
            body["paging"] = {"next": {"after": str(page[-1].id), "link": f"{req.path}?after={page[-1].id}"}}
        return Response(200, body)

    def h_update_one(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``PATCH …/{objectType}/{id}``: 200 ``SimplePublicObject``."""
        obj = self._object_type(route, token, write=True)
        data = self._json(req)
        stored = self._lookup(req, route, obj)
        valid, _items = self._validate_inputs(
            obj, [data if isinstance(data, dict) else {}], False, creating=False
        )
        valid[0].id_value = str(stored.id)
        outcome = self.store.upsert(
            obj,
            "hs_object_id",
            valid,
            source={},
            allow_create=False,
            conflicts_per_item=False,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        self.counters.writes(obj.name, updated=1)
        return Response(200, self.render(obj, outcome.results[0][1]))

    def h_archive_one(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``DELETE …/{objectType}/{id}``: 204."""
        obj = self._object_type(route, token, write=True)
        value = route.object_id or ""
        archived = self.store.archive(obj, [int(value)] if value.isdigit() else [], self._counter_snapshot())
        self.counters.writes(obj.name, archived=archived)
        return Response(204)

    def h_search(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/search``: filters EQ/NEQ/IN/NOT_IN/HAS_PROPERTY/…; no rate-limit headers."""
        obj = self._object_type(route, token, write=False)
        data = self._json(req)
        if not isinstance(data, dict):
            raise errors.bad_input("Expected an object")
        body = run_search(self.store.all(obj), data, lambda s, props: self.render(obj, s, properties=props))
        return Response(200, body)

    # ------------------------------------------------------------------ properties and associations
    def _schema_object(self, route: Route, token: TokenConfig, write: bool) -> ObjectType:
        obj = self.catalog.resolve(route.object_ref or "")
        if obj is None:
            raise errors.unknown_object_type(route.object_ref or "")
        kind = "custom" if obj.custom else obj.name
        scopes = (
            (f"crm.schemas.{kind}.write",)
            if write
            else (f"crm.schemas.{kind}.read", *obj.read_scopes, *obj.write_scopes)
        )
        if not token.has_any_scope(scopes):
            raise errors.missing_scopes(scopes[:1])
        return obj

    def h_properties(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET /crm/v3/properties/{objectType}``: ``{"results": [Property]}``."""
        obj = self._schema_object(route, token, write=False)
        results = [p.to_api(i) for i, p in enumerate(obj.properties.values())]
        return Response(200, {"results": results})

    def h_property_get(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET /crm/v3/properties/{objectType}/{name}``."""
        obj = self._schema_object(route, token, write=False)
        props = list(obj.properties.values())
        for index, prop in enumerate(props):
            if prop.name == route.op:
                return Response(200, prop.to_api(index))
        raise errors.not_found(f"Unable to find property {route.op} for object type {obj.type_id}")

    def h_property_create(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST /crm/v3/properties/{objectType}``: define a custom property (201; 409 if it exists)."""
        obj = self._schema_object(route, token, write=True)
        data = self._json(req)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise errors.bad_input("Missing required creator property 'name'")
        kind = data.get("type", "string")
        if kind not in ("string", "number", "bool", "date", "datetime", "enumeration", "phone_number"):
            raise errors.validation(f"Invalid property type {kind}")
        options = tuple(str(o.get("value")) for o in data.get("options") or [] if isinstance(o, dict))
        config = PropertyConfig(
            name=data["name"],
            type=kind,
            label=str(data.get("label", "")),
            field_type=str(data.get("fieldType", "")),
            options=options,
            unique=bool(data.get("hasUniqueValue", False)),
        )
        with self._catalog_lock:
            if config.name in obj.properties:
                raise HubSpotError(
                    409,
                    errors.error_body(
                        f"Property named '{config.name}' already exists.", "OBJECT_ALREADY_EXISTS"
                    ),
                )
            prop: PropertyDef = property_from_config(config)
            obj.properties[config.name] = prop
        return Response(201, prop.to_api(len(obj.properties) - 1))

    def h_labels(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET …/associations/{from}/{to}/labels``."""
        from_type = self.catalog.resolve(route.object_ref or "")
        to_type = self.catalog.resolve(route.to_ref or "")
        if from_type is None or to_type is None:
            raise errors.unknown_object_type((route.object_ref if from_type is None else route.to_ref) or "")
        return Response(200, {"results": self.catalog.labels(from_type, to_type)})

    def h_v4_associations(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET /crm/v4/objects/{from}/{id}/associations/{to}``: numeric ids and association types."""
        obj = self._object_type(route, token, write=False)
        target = self._object_type(route, token, write=False, ref=route.to_ref)
        value = route.object_id or ""
        stored = self.store.get(obj, int(value) if value.isdigit() else None)
        if stored is None:
            raise errors.not_found(f"No {obj.singular} with id {value}")
        results = []
        for to_t, to_id, tids in self.store.associations(obj.type_id, stored.id):
            if to_t == target.type_id:
                results.append(
                    {
                        "toObjectId": to_id,
                        "associationTypes": [self.catalog.associations[t].to_label() for t in tids],
                    }
                )
        return Response(200, {"results": results})


def wait_interruptibly(event: threading.Event, seconds: float) -> None:
    """Sleep up to ``seconds`` unless ``event`` is set (used for hangs and latency)."""
    deadline = time.monotonic() + seconds
    while not event.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        event.wait(min(remaining, 0.5))


__all__ = [
    "ALWAYS_RETURNED",
    "ASSOCIATION_CATEGORIES",
    "LABEL_PREFIXES",
    "OBJECT_PREFIXES",
    "PROPERTY_PREFIXES",
    "V4_OBJECT_PREFIXES",
    "WRITE_ROUTES",
    "AppCore",
    "BatchEndpoints",
    "Route",
    "SandboxApp",
    "wait_interruptibly",
]
