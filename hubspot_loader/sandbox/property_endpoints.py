"""The properties API: list, read and create property definitions (``/crm/{v3|2026-03}/properties/…``)."""

from __future__ import annotations

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.app_core import AppCore, Route
from hubspot_loader.sandbox.catalog import ObjectType
from hubspot_loader.sandbox.config import TokenConfig
from hubspot_loader.sandbox.errors import HubSpotError
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.property_create import DATA_SENSITIVITIES, parse_property_create
from hubspot_loader.sandbox.store import now_ms
from hubspot_loader.sandbox.validation import format_ms

API_HOST = "https://api.hubapi.com"


class PropertyEndpoints(AppCore):
    """Handlers of the properties API (reference §10.1, §16.6)."""

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
        """``GET …/properties/{objectType}``: ``{"results": [Property]}``.

        Only non-sensitive properties unless ``dataSensitivity`` asks for others (Properties guide);
        ``archived=true`` lists archived properties only, and the sandbox archives none.
        """
        obj = self._schema_object(route, token, write=False)
        sensitivity = req.param("dataSensitivity") or "non_sensitive"
        if sensitivity not in DATA_SENSITIVITIES:
            raise errors.bad_input(
                f'Cannot deserialize value of type `DataSensitivity` from String "{sensitivity}"'
            )
        if req.flag("archived"):
            return Response(200, {"results": []})
        results = [
            p.to_api(i) for i, p in enumerate(obj.properties.values()) if p.data_sensitivity == sensitivity
        ]
        return Response(200, {"results": results})

    def h_property_get(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``GET …/properties/{objectType}/{propertyName}``: one ``Property``, or 404."""
        obj = self._schema_object(route, token, write=False)
        if not req.flag("archived"):
            for index, prop in enumerate(obj.properties.values()):
                if prop.name == route.op:
                    return Response(200, prop.to_api(index))
        raise errors.not_found(f"Unable to find property {route.op} for object type {obj.type_id}")

    def h_property_create(self, req: Request, route: Route, token: TokenConfig) -> Response:
        """``POST …/properties/{objectType}``: 201 with the property as stored and a ``Location`` header.

        The spec declares the ``Location`` header on this 201 in both families and describes the call as
        "Create and return a copy of a new property" (Spec repo ``Properties/…/properties.json``, v3 and
        2026-03).
        A name that exists already gets 409.
        """
        obj = self._schema_object(route, token, write=True)
        data = self._json(req)
        prop = parse_property_create(
            data,
            obj,
            date_versioned=not route.prefix.startswith("/crm/v3/"),
            created_at=format_ms(now_ms()),
        )
        with self._catalog_lock:
            if prop.name in obj.properties:
                raise HubSpotError(
                    409,
                    errors.error_body(
                        f"Property named '{prop.name}' already exists.", "OBJECT_ALREADY_EXISTS"
                    ),
                )
            obj.properties[prop.name] = prop
            position = len(obj.properties) - 1
        location = f"{API_HOST}{route.prefix}/{route.object_ref}/{prop.name}"
        return Response(201, prop.to_api(position), {"Location": location})
