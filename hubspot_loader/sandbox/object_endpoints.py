"""The single-object endpoints (create, get, list, update, archive) and search of the objects API.

Paths ``…/{objectType}`` and ``…/{objectType}/{objectId}`` in both families (reference §2.2).
"""

from __future__ import annotations

from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import AppCore, Route
from hubspot_loader.sandbox.catalog import ObjectType
from hubspot_loader.sandbox.config import TokenConfig
from hubspot_loader.sandbox.errors import HubSpotError
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.search import run_search
from hubspot_loader.sandbox.store import StoredObject


class ObjectEndpoints(AppCore):
    """Handlers of the objects API's single-record endpoints and of search."""

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
        if req.flag("archived"):
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
        archived = req.flag("archived")
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
