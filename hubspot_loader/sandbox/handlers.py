"""The CRM API: routing, authentication, rate limiting, fault injection and the endpoint handlers.

:class:`SandboxApp` is transport-neutral: it turns a :class:`Request` into a :class:`Response`
(the HTTP server in :mod:`hubspot_loader.sandbox.server` does the socket work).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.catalog import Catalog, ObjectType, PropertyDef, property_from_config
from hubspot_loader.sandbox.config import FaultConfig, PropertyConfig, SandboxConfig, TokenConfig
from hubspot_loader.sandbox.counters import Counters
from hubspot_loader.sandbox.errors import HubSpotError, PropertyError
from hubspot_loader.sandbox.faults import (
    DROP_AFTER_COMMIT,
    ERROR,
    HANG_AFTER_COMMIT,
    RATE_LIMIT,
    RESET_BEFORE,
    FaultInjector,
    FaultPlan,
)
from hubspot_loader.sandbox.http_types import ABORT_DROP, ABORT_HANG, ABORT_RESET, Request, Response
from hubspot_loader.sandbox.persistence import SqlitePersistence
from hubspot_loader.sandbox.ratelimit import Decision, RateLimiter
from hubspot_loader.sandbox.search import run_search
from hubspot_loader.sandbox.store import (
    AssociationInput,
    ItemFailure,
    Store,
    StoredObject,
    WriteInput,
    now_ms,
)
from hubspot_loader.sandbox.validation import format_ms, validate_properties

OBJECT_PREFIXES = ("/crm/v3/objects/", "/crm/objects/2026-03/")
PROPERTY_PREFIXES = ("/crm/v3/properties/", "/crm/properties/2026-03/")
LABEL_PREFIXES = ("/crm/v4/associations/", "/crm/associations/v4/", "/crm/associations/2026-03/")
V4_OBJECT_PREFIXES = ("/crm/v4/objects/", "/crm/associations/2026-03/objects/")
WRITE_ROUTES = frozenset(
    {
        "batch/create",
        "batch/upsert",
        "batch/update",
        "batch/archive",
        "object/create",
        "object/update",
        "object/archive",
        "properties/create",
    }
)
ASSOCIATION_CATEGORIES = frozenset({"HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK"})
ALWAYS_RETURNED = ("hs_object_id", "createdate")


@dataclass
class Route:
    """A matched CRM API route."""

    family: str
    handler: Callable[[Request, Route, TokenConfig], Response]
    object_ref: str | None = None
    object_id: str | None = None
    op: str | None = None
    to_ref: str | None = None
    search: bool = False

    @property
    def write(self) -> bool:
        """Whether the route writes (counted in ``write_requests``)."""
        return self.family in WRITE_ROUTES


class SandboxApp:
    """State and behaviour of one sandbox (shared by all server threads)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.catalog = Catalog(config)
        self._catalog_lock = threading.Lock()
        persistence = SqlitePersistence(config.db_path) if config.db_path else None
        self.store = Store(self.catalog, persistence)
        self.counters = Counters(self.store.loaded_counters)
        self.limiter = RateLimiter(
            config.rate_limit_per_10s,
            config.rate_limit_window_ms,
            config.daily_limit,
            config.search_limit_per_second,
        )
        self.faults = FaultInjector(config.faults)
        self.tokens = {t.token: t for t in config.tokens}
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        self.shutdown_event = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        """Back to the initial state: no objects, zero counters, fresh limits, configured faults."""
        self.store.reset()
        self.counters.reset()
        self.limiter.reset()
        self.faults.set(self.config.faults)
        self.catalog = Catalog(self.config)
        self.store.catalog = self.catalog

    def close(self) -> None:
        """Persist counters and close the database."""
        self.shutdown_event.set()
        self.store.save_counters(self.counters.snapshot())
        if self.store.persistence is not None:
            self.store.persistence.close()

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault settings at runtime."""
        self.faults.set(faults)

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

    # ------------------------------------------------------------------ shared helpers
    def _object_type(
        self, route: Route, token: TokenConfig, *, write: bool, ref: str | None = None
    ) -> ObjectType:
        name = ref if ref is not None else route.object_ref or ""
        obj = self.catalog.resolve(name)
        if obj is None:
            raise errors.unknown_object_type(name)
        scopes = obj.write_scopes if write else obj.read_scopes + obj.write_scopes
        if not token.has_any_scope(scopes):
            raise errors.missing_scopes(obj.write_scopes if write else obj.read_scopes)
        return obj

    @staticmethod
    def _json(req: Request) -> Any:
        if not req.body or not req.body.strip():
            raise errors.missing_body()
        try:
            return json.loads(req.body)
        except json.JSONDecodeError as exc:
            raise errors.malformed_json(exc) from None
        except UnicodeDecodeError:
            raise errors.bad_input("Invalid UTF-8 in request body") from None

    def _inputs(self, req: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        data = self._json(req)
        if not isinstance(data, dict) or not isinstance(data.get("inputs"), list):
            raise errors.bad_input("Missing required creator property 'inputs'")
        inputs = data["inputs"]
        if len(inputs) > self.config.max_batch_inputs:
            raise errors.validation(
                self.config.too_many_inputs_message.format(
                    max=self.config.max_batch_inputs, count=len(inputs)
                )
            )
        if not all(isinstance(i, dict) for i in inputs):
            raise errors.bad_input("Cannot deserialize batch input: each input must be an object")
        return data, inputs

    @staticmethod
    def _trace_mode(inputs: list[dict[str, Any]]) -> bool:
        """Multi-status is on only if every input has a unique, non-empty ``objectWriteTraceId``."""
        ids = [i.get("objectWriteTraceId") for i in inputs]
        return bool(ids) and all(isinstance(t, str) and t for t in ids) and len(set(ids)) == len(ids)

    def _source(self, token: TokenConfig) -> dict[str, str]:
        if token.kind == "oauth":
            return {
                "hs_object_source": "INTEGRATION",
                "hs_object_source_label": "INTEGRATION",
                "hs_object_source_id": str(self.config.portal_id),
            }
        return {"hs_object_source": "API", "hs_object_source_label": "INTERNAL_PROCESSING"}

    def _shuffled(self, items: list[Any]) -> list[Any]:
        if self.config.shuffle_results and len(items) > 1:
            with self._rng_lock:
                self._rng.shuffle(items)
        return items

    def _parse_associations(self, raw: Any) -> list[AssociationInput]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise errors.bad_input("Cannot deserialize `associations`: expected an array")
        out: list[AssociationInput] = []
        for item in raw:
            to = item.get("to") if isinstance(item, dict) else None
            types = item.get("types") if isinstance(item, dict) else None
            if not isinstance(to, dict) or "id" not in to or not isinstance(types, list):
                raise errors.bad_input("Missing required creator property 'to' or 'types' in association")
            raw_id = str(to["id"])
            type_ids: list[int] = []
            for spec in types:
                if not isinstance(spec, dict) or not isinstance(spec.get("associationTypeId"), int):
                    raise errors.bad_input("Missing required creator property 'associationTypeId'")
                category = spec.get("associationCategory")
                if category is not None and category not in ASSOCIATION_CATEGORIES:
                    raise errors.bad_input(
                        f'Cannot deserialize value of type `AssociationCategory` from String "{category}"'
                    )
                type_ids.append(spec["associationTypeId"])
            out.append(AssociationInput(raw_id, int(raw_id) if raw_id.isdigit() else None, type_ids))
        return out

    def render(
        self,
        obj: ObjectType,
        stored: StoredObject,
        *,
        properties: list[str] | None = None,
        trace_id: str | None = None,
        new: bool | None = None,
    ) -> dict[str, Any]:
        """Render a ``SimplePublicObject``: all properties, or ``properties`` plus always-returned ones."""
        props: dict[str, str | None]
        if properties is None:
            props = dict(stored.properties)
        else:
            names = [*ALWAYS_RETURNED, obj.modified_property, *(properties or obj.default_properties)]
            props = {n: stored.properties.get(n) for n in names}
        data: dict[str, Any] = {
            "id": str(stored.id),
            "properties": props,
            "createdAt": format_ms(stored.created_ms),
            "updatedAt": format_ms(stored.updated_ms),
            "archived": stored.archived,
        }
        if stored.archived:
            data["archivedAt"] = format_ms(stored.updated_ms)
        if new is not None:
            data["new"] = new
        if trace_id is not None and self.config.echo_trace_ids:
            data["objectWriteTraceId"] = trace_id
        data["url"] = (
            f"https://app.hubspot.com/contacts/{self.config.portal_id}/record/{obj.type_id}/{stored.id}"
        )
        return data

    def _batch_body(
        self,
        results: list[dict[str, Any]],
        error_items: list[dict[str, Any]],
        started: int,
        success_status: int,
    ) -> Response:
        body: dict[str, Any] = {"status": "COMPLETE", "results": self._shuffled(results)}
        if error_items:
            body["numErrors"] = len(error_items)
            body["errors"] = error_items
        if self.config.include_requested_at:
            body["requestedAt"] = format_ms(started)
        body["startedAt"] = format_ms(started)
        body["completedAt"] = format_ms(now_ms())
        return Response(207 if error_items else success_status, body)

    @staticmethod
    def _failure_item(failure: ItemFailure, trace_id: str | None) -> dict[str, Any]:
        context = dict(failure.context)
        if trace_id is not None:
            context["objectWriteTraceId"] = [trace_id]
        return {
            "status": "error",
            "category": failure.category,
            "message": failure.message,
            "context": context,
        }

    def _whole(self, failure: ItemFailure) -> HubSpotError:
        extra: dict[str, Any] = {"context": failure.context} if failure.context else {}
        return HubSpotError(failure.status, errors.error_body(failure.message, failure.category, **extra))

    def _validate_inputs(
        self,
        obj: ObjectType,
        inputs: list[dict[str, Any]],
        trace_mode: bool,
        *,
        creating: bool,
        id_property: str | None = None,
    ) -> tuple[list[WriteInput], list[dict[str, Any]]]:
        """Validate every input; invalid ones become 207 items, or a whole-batch 400 without trace ids."""
        valid: list[WriteInput] = []
        error_items: list[dict[str, Any]] = []
        for index, raw in enumerate(inputs):
            trace = raw.get("objectWriteTraceId") if trace_mode else None
            props_raw = raw.get("properties")
            id_value: str | None = None
            if id_property is not None:
                id_value = str(raw.get("id", ""))
                props_raw = {**(props_raw if isinstance(props_raw, dict) else {}), id_property: id_value}
            props, prop_errors = validate_properties(
                obj,
                props_raw,
                creating=creating,
                require_contact_identity=self.config.require_contact_identity,
            )
            associations = self._parse_associations(raw.get("associations")) if creating else []
            if prop_errors:
                if not trace_mode:
                    raise HubSpotError(400, errors.property_errors_body(prop_errors, self.config.portal_id))
                error_items.append(self._property_failure(prop_errors, trace))
                continue
            if id_value is not None and id_property == "email":
                id_value = props.get("email", id_value)
            valid.append(WriteInput(index, props, associations, trace, id_value))
        return valid, error_items

    def _property_failure(self, prop_errors: list[PropertyError], trace: str | None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": errors.property_errors_message(prop_errors, self.config.portal_id),
            "context": {"objectWriteTraceId": [trace]} if trace is not None else {},
        }
        return item

    # ------------------------------------------------------------------ batch endpoints
    def h_batch_create(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/create``: 201, 207 with trace ids, whole-batch 400/409 otherwise."""
        started = now_ms()
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        trace_mode = self._trace_mode(inputs)
        valid, error_items = self._validate_inputs(obj, inputs, trace_mode, creating=True)
        outcome = self.store.create(
            obj,
            valid,
            source=self._source(token),
            conflicts_per_item=trace_mode and self.config.conflicts_as_207,
            associations_per_item=trace_mode and self.config.invalid_associations_as_207,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        traces = {w.index: w.trace_id for w in valid}
        n_assoc = sum(len(a.type_ids) for w in valid for a in w.associations)
        self.counters.writes(obj.name, created=len(outcome.results), associations=n_assoc)
        results = [self.render(obj, s, trace_id=traces.get(i)) for i, s, _new in outcome.results]
        error_items += [self._failure_item(f, traces.get(f.index)) for f in outcome.failures]
        return self._batch_body(results, error_items, started, 201)

    def _counter_snapshot(self) -> dict[str, Any] | None:
        return self.counters.snapshot() if self.store.persistence is not None else None

    def _id_property(self, obj: ObjectType, name: str | None) -> str:
        prop = obj.properties.get(name or "hs_object_id")
        if prop is None or not prop.unique or prop.read_only:
            raise errors.validation(
                f"Unable to perform update/upsert by non-unique {obj.type_id} property "
                f"{name or 'hs_object_id'} in portal ID {self.config.portal_id}"
            )
        return prop.name

    def h_batch_upsert(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/upsert``: ``idProperty`` in each input; 200 with ``new`` on results."""
        started = now_ms()
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        names = {i.get("idProperty") or req.param("idProperty") for i in inputs}
        if len(names) > 1:
            raise errors.validation("All inputs of a batch upsert must use the same idProperty")
        id_property = self._id_property(obj, names.pop() if names else None)
        ids = [str(i.get("id", "")) for i in inputs]
        keys = [v.lower() if id_property == "email" else v for v in ids]
        duplicates = sorted({v for v in keys if keys.count(v) > 1})
        if duplicates:
            raise errors.validation(f"Duplicate IDs found in batch input: {duplicates}")
        trace_mode = self._trace_mode(inputs)
        valid, error_items = self._validate_inputs(
            obj, inputs, trace_mode, creating=False, id_property=id_property
        )
        outcome = self.store.upsert(
            obj,
            id_property,
            valid,
            source=self._source(token),
            allow_create=True,
            conflicts_per_item=trace_mode and self.config.conflicts_as_207,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        created = sum(1 for _i, _s, new in outcome.results if new)
        self.counters.writes(obj.name, created=created, updated=len(outcome.results) - created)
        traces = {w.index: w.trace_id for w in valid}
        results = [self.render(obj, s, trace_id=traces.get(i), new=new) for i, s, new in outcome.results]
        error_items += [self._failure_item(f, traces.get(f.index)) for f in outcome.failures]
        return self._batch_body(results, error_items, started, 200)

    def h_batch_update(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/update``: update by ``hs_object_id`` (default) or a unique ``idProperty``."""
        started = now_ms()
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        names = {i.get("idProperty") for i in inputs} - {None}
        if len(names) > 1:
            raise errors.validation("All inputs of a batch update must use the same idProperty")
        id_property = self._id_property(obj, names.pop()) if names else "hs_object_id"
        trace_mode = self._trace_mode(inputs)
        valid, error_items = self._validate_inputs(obj, inputs, trace_mode, creating=False)
        for w in valid:
            w.id_value = str(inputs[w.index].get("id", ""))
        outcome = self.store.upsert(
            obj,
            id_property,
            valid,
            source=self._source(token),
            allow_create=False,
            conflicts_per_item=trace_mode,
            counters=self._counter_snapshot(),
        )
        if outcome.whole_batch_failure is not None:
            raise self._whole(outcome.whole_batch_failure)
        self.counters.writes(obj.name, updated=len(outcome.results))
        traces = {w.index: w.trace_id for w in valid}
        results = [self.render(obj, s, trace_id=traces.get(i)) for i, s, _n in outcome.results]
        error_items += [self._failure_item(f, traces.get(f.index)) for f in outcome.failures]
        return self._batch_body(results, error_items, started, 200)

    def h_batch_archive(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/archive``: 204, unknown ids ignored."""
        obj = self._object_type(route, token, write=True)
        _data, inputs = self._inputs(req)
        ids = [int(str(i.get("id"))) for i in inputs if str(i.get("id", "")).isdigit()]
        archived = self.store.archive(obj, ids, counters=self._counter_snapshot())
        self.counters.writes(obj.name, archived=archived)
        return Response(204)

    def h_batch_read(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/batch/read``: by id or a unique ``idProperty``; missing ids → 207 ``OBJECT_NOT_FOUND``."""
        started = now_ms()
        obj = self._object_type(route, token, write=False)
        data, inputs = self._inputs(req)
        id_property = data.get("idProperty") or "hs_object_id"
        prop = obj.properties.get(id_property)
        if prop is None or not prop.unique:
            raise errors.validation(
                f"Unable to perform batch read by non-unique {obj.type_id} property "
                f"{id_property} in portal ID {self.config.portal_id}"
            )
        history = [p for p in data.get("propertiesWithHistory") or [] if isinstance(p, str)]
        if history and len(inputs) > 50:
            raise errors.validation(
                "The maximum number of inputs supported in a batch request for property "
                "histories is 50. Please reduce the number of items and try again"
            )
        properties = [p for p in data.get("properties") or [] if isinstance(p, str)]
        archived = req.param("archived", "false") == "true"
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        for raw in inputs:
            value = str(raw.get("id", ""))
            if archived and id_property == "hs_object_id":
                stored = self.store.get(obj, int(value) if value.isdigit() else None, archived=True)
            else:
                stored = self.store.find(obj, id_property, value)
            if stored is None:
                missing.append(value)
                continue
            item = self.render(obj, stored, properties=properties)
            if history:
                item["propertiesWithHistory"] = {
                    p: (
                        [
                            {
                                "value": stored.properties[p],
                                "timestamp": format_ms(stored.updated_ms),
                                "sourceType": "API",
                            }
                        ]
                        if p in stored.properties
                        else []
                    )
                    for p in history
                }
            results.append(item)
        error_items = []
        if missing:
            error_items.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": f"Could not get some {obj.error_name} objects, they may be deleted or "
                    "not exist. "
                    "Check that ids are valid.",
                    "context": {"ids": missing},
                }
            )
        return self._batch_body(results, error_items, started, 200)

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

    def _attach_associations(
        self, body: dict[str, Any], obj: ObjectType, stored: StoredObject, wanted: list[str]
    ) -> None:
        if not wanted:
            return
        targets: list[ObjectType] = []
        for ref in wanted:
            target = self.catalog.resolve(ref)
            if target is None:
                raise errors.unknown_object_type(ref)
            targets.append(target)
        out: dict[str, Any] = {}
        links = self.store.associations(obj.type_id, stored.id)
        for target in targets:
            results = []
            for to_t, to_id, tids in links:
                if to_t != target.type_id:
                    continue
                for tid in tids:
                    spec = self.catalog.associations.get(tid)
                    if spec is not None:
                        results.append({"id": str(to_id), "type": self.catalog.v3_association_name(spec)})
            if results:
                out[target.name] = {"results": results}
        if out:
            body["associations"] = out

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

    # ------------------------------------------------------------------ inspection support
    def inspect_object(self, obj: ObjectType, stored: StoredObject) -> dict[str, Any]:
        """Render an object with all its properties and associations (inspection API form)."""
        assocs = []
        for to_t, to_id, tids in self.store.associations(obj.type_id, stored.id):
            target = self.catalog.types[to_t]
            assocs.append(
                {
                    "toObjectType": target.name,
                    "toObjectTypeId": to_t,
                    "toObjectId": str(to_id),
                    "associationTypeIds": tids,
                    "types": [self.catalog.associations[t].to_label() for t in tids],
                }
            )
        return {
            "id": str(stored.id),
            "objectType": obj.name,
            "objectTypeId": obj.type_id,
            "properties": dict(stored.properties),
            "createdAt": format_ms(stored.created_ms),
            "updatedAt": format_ms(stored.updated_ms),
            "archived": stored.archived,
            "associations": assocs,
        }


def wait_interruptibly(event: threading.Event, seconds: float) -> None:
    """Sleep up to ``seconds`` unless ``event`` is set (used for hangs and latency)."""
    deadline = time.monotonic() + seconds
    while not event.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        event.wait(min(remaining, 0.5))
