"""The inspection API under ``/__sandbox__/`` (no authentication, not counted, no faults, no limits).

=========================================  ===============================================================
``GET /__sandbox__/health``                ``{"status": "ok"}``
``GET /__sandbox__/counts``                live objects per type name
``GET /__sandbox__/counters``              request counters (see :class:`~.counters.Counters`), and
                                           ``pending_objects``: objects a PENDING/PROCESSING answer
                                           created that reads do not see yet
``GET /__sandbox__/objects/{type}``        ``{"objectType", "total", "results"}`` (``limit``, ``archived``);
                                           not-yet-revealed objects included, marked ``"pending": true``
``GET /__sandbox__/objects/{type}/{id}``   one object with properties and associations
``POST /__sandbox__/reset``                back to the initial state
``GET|PUT|POST /__sandbox__/faults``       read or replace the fault settings (JSON of ``FaultConfig``)
``GET /__sandbox__/config``                the running configuration
``GET /``                                  read-only HTML overview
=========================================  ===============================================================
"""

from __future__ import annotations

import json
from typing import Any

from hubspot_loader.sandbox import errors
from hubspot_loader.sandbox.config import FaultConfig
from hubspot_loader.sandbox.errors import HubSpotError
from hubspot_loader.sandbox.handlers import SandboxApp
from hubspot_loader.sandbox.http_types import Request, Response
from hubspot_loader.sandbox.page import render_page

PREFIX = "/__sandbox__/"


def _objects(app: SandboxApp, req: Request, parts: list[str]) -> Response:
    obj = app.catalog.resolve(parts[0])
    if obj is None:
        raise errors.unknown_object_type(parts[0])
    archived = req.param("archived", "false") == "true"
    if len(parts) == 2:
        oid = int(parts[1]) if parts[1].isdigit() else None
        stored = app.store.get(obj, oid, archived=archived, include_pending=True)
        if stored is None:
            raise errors.not_found(f"No {obj.singular} with id {parts[1]}")
        return Response(200, app.inspect_object(obj, stored))
    items = app.store.all(obj, archived=archived, include_pending=True)
    total = len(items)
    limit_text = req.param("limit")
    if limit_text:
        if not limit_text.isdigit() or int(limit_text) < 1:
            raise errors.validation(f"limit must be a positive integer, got {limit_text!r}")
        items = items[-int(limit_text) :]
    return Response(
        200,
        {"objectType": obj.name, "total": total, "results": [app.inspect_object(obj, s) for s in items]},
    )


def _faults(app: SandboxApp, req: Request) -> Response:
    if req.method in ("PUT", "POST"):
        try:
            data = json.loads(req.body or b"{}")
            app.set_faults(FaultConfig.from_dict(data))
        except (ValueError, TypeError) as exc:
            raise errors.validation(f"Invalid fault settings: {exc}") from None
    return Response(200, app.faults.config.to_dict())


def handle_inspection(app: SandboxApp, req: Request) -> Response:
    """Answer a request for ``/`` or ``/__sandbox__/…``."""
    try:
        if req.path in ("/", "/index.html") and req.method == "GET":
            return Response(
                200, raw=render_page(app).encode("utf-8"), content_type="text/html; charset=utf-8"
            )
        parts = [p for p in req.path[len(PREFIX) :].split("/") if p]
        head = parts[0] if parts else ""
        body: Any
        if head == "health" and req.method == "GET":
            body = {"status": "ok"}
        elif head == "counts" and req.method == "GET":
            body = app.store.counts()
        elif head == "counters" and req.method == "GET":
            body = {**app.counters.snapshot(), "pending_objects": app.store.pending.count()}
        elif head == "config" and req.method == "GET":
            body = app.config.to_dict()
        elif head == "objects" and len(parts) in (2, 3) and req.method == "GET":
            return _objects(app, req, parts[1:])
        elif head == "reset" and req.method == "POST":
            app.reset()
            body = {"status": "reset"}
        elif head == "faults" and req.method in ("GET", "PUT", "POST"):
            return _faults(app, req)
        else:
            raise errors.route_not_found(req.method, req.path)
        return Response(200, body)
    except HubSpotError as exc:
        return Response(exc.status, exc.body, dict(exc.headers))
