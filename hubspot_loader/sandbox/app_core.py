"""Shared state and helpers of the sandbox's CRM API: request parsing, rendering, batch bodies.

:class:`AppCore` holds one sandbox's state (catalog, store, counters, limits, faults) and the helpers
every endpoint uses; the batch endpoints (:mod:`hubspot_loader.sandbox.batch_endpoints`) and the
routing, pipeline and other endpoints (:class:`hubspot_loader.sandbox.handlers.SandboxApp`) build on it.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.catalog import Catalog, ObjectType
from hubspot_loader.sandbox.config import FaultConfig, SandboxConfig, TokenConfig
from hubspot_loader.sandbox.counters import Counters
from hubspot_loader.sandbox.errors import HubSpotError, PropertyError
from hubspot_loader.sandbox.faults import FaultInjector
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.persistence import SqlitePersistence
from hubspot_loader.sandbox.ratelimit import RateLimiter
from hubspot_loader.sandbox.statuses import StatusInjector
from hubspot_loader.sandbox.store import (
    AssociationInput,
    ItemFailure,
    Store,
    StoredObject,
    WriteInput,
    now_ms,
)
from hubspot_loader.sandbox.store_core import unique_key
from hubspot_loader.sandbox.validation import format_ms, validate_properties

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
        "associations/batch/create",
        "associations/batch/associate/default",
        "associations/batch/archive",
        "associations/batch/labels/archive",
    }
)
ASSOCIATION_CATEGORIES = frozenset({"HUBSPOT_DEFINED", "INTEGRATOR_DEFINED", "USER_DEFINED", "WORK"})


def association_type_ids(specs: list[Any]) -> list[int]:
    """Read the ``types`` of an association input: each ``associationTypeId``, in order.

    Raises:
        HubSpotError: a spec without an integer ``associationTypeId``, or with an unknown category (400,
            in HubSpot's words).

    """
    out: list[int] = []
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("associationTypeId"), int):
            raise errors.bad_input("Missing required creator property 'associationTypeId'")
        category = spec.get("associationCategory")
        if category is not None and category not in ASSOCIATION_CATEGORIES:
            raise errors.bad_input(
                f'Cannot deserialize value of type `AssociationCategory` from String "{category}"'
            )
        out.append(spec["associationTypeId"])
    return out


ALWAYS_RETURNED = ("hs_object_id", "createdate")


def refuse_duplicate_ids(targets: list[tuple[str, str]]) -> None:
    """400 ``Duplicate IDs found in batch input`` when two inputs name the same ``(idProperty, id)``.

    Whole batch, with or without trace ids (Rudder fixtures; a third-party live probe). Emails compare
    case-insensitively; the message lists each duplicated id once, as first sent.
    """
    seen: dict[tuple[str, str], str] = {}
    duplicates: dict[tuple[str, str], str] = {}
    for id_property, value in targets:
        key = (id_property, unique_key(id_property, value))
        if key in seen:
            duplicates.setdefault(key, seen[key])
        else:
            seen[key] = value
    if duplicates:
        raise errors.duplicate_ids(list(duplicates.values()))


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
    prefix: str = ""
    """The literal head of the matched path template (``/crm/v3/properties``): says which family."""

    @property
    def write(self) -> bool:
        """Whether the route writes (counted in ``write_requests``)."""
        return self.family in WRITE_ROUTES


class AppCore:
    """State of one sandbox (shared by all server threads) and the helpers its endpoints share."""

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
        self.statuses = StatusInjector(config.faults)
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
        self.statuses.set(self.config.faults)
        self.catalog = Catalog(self.config)
        self.store.set_catalog(self.catalog)

    def close(self) -> None:
        """Persist counters and close the database."""
        self.shutdown_event.set()
        self.store.save_counters(self.counters.snapshot())
        if self.store.persistence is not None:
            self.store.persistence.close()

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault settings at runtime."""
        self.faults.set(faults)
        self.statuses.set(faults)

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
        if req.parsed is not None:
            return req.parsed
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
            type_ids = association_type_ids(types)
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
        """Render a ``SimplePublicObject``: all properties, or ``properties`` plus always-returned ones.

        Requested names the object type does not define are left out: HubSpot ignores them ("If any of the
        specified properties are not present on the requested object(s), they will be ignored", Spec repo
        ``Objects/…/objects.json``, parameter ``properties``). Defined properties without a value are
        ``null``, as in HubSpot's answers (hubspot-api-nodejs#323), although the spec types values as strings.
        """
        props: dict[str, str | None]
        if properties is None:
            props = dict(stored.properties)
        else:
            names = [*ALWAYS_RETURNED, obj.modified_property, *(properties or obj.default_properties)]
            props = {n: stored.properties.get(n) for n in names if n in obj.properties}
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
            f"https://{self.config.ui_domain}/contacts/{self.config.portal_id}/record/{obj.type_id}/{stored.id}"
        )
        return data

    def _batch_body(
        self,
        results: list[dict[str, Any]],
        error_items: list[dict[str, Any]],
        started: int,
        success_status: int,
        *,
        status: str = "COMPLETE",
        completed_at: bool = True,
    ) -> Response:
        body: dict[str, Any] = {"status": status, "results": self._shuffled(results)}
        if error_items:
            body["numErrors"] = len(error_items)
            body["errors"] = error_items
        if self.config.include_requested_at:
            body["requestedAt"] = format_ms(started)
        body["startedAt"] = format_ms(started)
        if completed_at:
            body["completedAt"] = format_ms(max(now_ms(), started))
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

    def _attach_associations(
        self, body: dict[str, Any], obj: ObjectType, stored: StoredObject, wanted: list[str]
    ) -> None:
        """Add ``associations`` for the object types in ``wanted``; unknown types are ignored.

        Spec repo ``Objects/…/objects.json``, parameter ``associations``: "If any of the specified
        associations do not exist, they will be ignored."
        """
        if not wanted:
            return
        targets = [t for t in (self.catalog.resolve(ref) for ref in wanted) if t is not None]
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
            **({} if self.store.pending.visible(stored.type_id, stored.id) else {"pending": True}),
        }
