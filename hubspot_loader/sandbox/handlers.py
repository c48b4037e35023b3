"""The CRM API's request pipeline: routing, authentication, rate limiting and fault injection.

:class:`SandboxApp` is transport-neutral: it turns a :class:`Request` into a :class:`Response`
(the HTTP server in :mod:`hubspot_loader.sandbox.server` does the socket work). The served paths are the
table in :mod:`~hubspot_loader.sandbox.routing`; state and shared helpers are in
:mod:`~hubspot_loader.sandbox.app_core`; the endpoints are in :mod:`~hubspot_loader.sandbox.batch_endpoints`,
:mod:`~hubspot_loader.sandbox.object_endpoints`, :mod:`~hubspot_loader.sandbox.property_endpoints` and
:mod:`~hubspot_loader.sandbox.batch_sync_endpoints`, :mod:`~hubspot_loader.sandbox.association_endpoints` and
:mod:`~hubspot_loader.sandbox.association_batch`. Their names stay importable from here.
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
from hubspot_loader.sandbox.association_batch import AssociationBatchEndpoints
from hubspot_loader.sandbox.association_endpoints import AssociationEndpoints
from hubspot_loader.sandbox.batch_endpoints import BatchEndpoints
from hubspot_loader.sandbox.batch_sync_endpoints import BatchSyncEndpoints
from hubspot_loader.sandbox.config import TokenConfig
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
from hubspot_loader.sandbox.object_endpoints import ObjectEndpoints
from hubspot_loader.sandbox.property_endpoints import PropertyEndpoints
from hubspot_loader.sandbox.ratelimit import Decision
from hubspot_loader.sandbox.routing import (
    ASSOCIATION_READ_PREFIXES,
    LABEL_PREFIXES,
    OBJECT_PREFIXES,
    PROPERTY_PREFIXES,
    match_route,
)

#: An admitted request: its route, token and rate-limit decision (see ``SandboxApp._gateway``).
Admitted = tuple[Route, TokenConfig, Decision]
#: the old name of :data:`~hubspot_loader.sandbox.routing.ASSOCIATION_READ_PREFIXES`
V4_OBJECT_PREFIXES = ASSOCIATION_READ_PREFIXES


class SandboxApp(
    BatchEndpoints,
    BatchSyncEndpoints,
    ObjectEndpoints,
    PropertyEndpoints,
    AssociationEndpoints,
    AssociationBatchEndpoints,
):
    """State and behaviour of one sandbox (shared by all server threads)."""

    # ------------------------------------------------------------------ routing
    def route(self, req: Request) -> Route | None:
        """Match a served path (:data:`~hubspot_loader.sandbox.routing.ROUTES`) and bind its handler."""
        matched = match_route(req.method, req.path)
        if matched is None:
            return None
        params, spec = matched.params, matched.spec
        return Route(
            spec.family,
            getattr(self, spec.endpoint),
            params.get("objectType") or params.get("fromObjectType"),
            params.get("objectId"),
            op=params.get("propertyName"),
            to_ref=params.get("toObjectType"),
            search=spec.search,
            prefix=matched.prefix,
        )

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
            req.parsed = parsed
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
        """Admit the request, wait its injected latency, then answer it.

        The gateway's decisions (route, injected fault, token, rate limit) are taken when the request
        arrives, before the latency, or after it with ``rate_count_at="completion"`` (see
        :mod:`hubspot_loader.sandbox.ratelimit`). Either way the answer comes after the latency.
        """
        gate = self._gateway(req, route, plan) if self.config.rate_count_at == "arrival" else None
        if plan.latency_s > 0:
            self.shutdown_event.wait(plan.latency_s)
        if gate is None:
            gate = self._gateway(req, route, plan)
        if isinstance(gate, HubSpotError):
            raise gate
        if isinstance(gate, Response):
            return gate
        route, token, decision = gate
        try:
            response = route.handler(req, route, token)
        except HubSpotError as exc:
            if not route.search:
                exc.headers.update(self._limit_headers(decision, token))
            raise
        if not route.search:
            response.headers.update(self._limit_headers(decision, token))
        return response

    def _gateway(
        self, req: Request, route: Route | None, plan: FaultPlan
    ) -> Admitted | Response | HubSpotError:
        """Decide what becomes of a request before it is processed: its token and rate-limit decision.

        Returns the refusal instead (an error to raise, or a connection reset). Only an admitted
        request consumes budget; the injected faults and a 429 consume none.
        """
        if route is None:
            return errors.route_not_found(req.method, req.path)
        if plan.kind == RESET_BEFORE:
            return Response(0, abort=ABORT_RESET)
        if plan.kind == ERROR:
            self.counters.fault(f"status_{plan.status}")
            return errors.server_error(plan.status)
        try:
            token = self._authenticate(req)
        except HubSpotError as exc:
            return exc
        if plan.kind == RATE_LIMIT:
            self.counters.fault("rate_limit_burst")
            return self._rate_limited(self.limiter.burst_decision(token.token), token)
        decision = self.limiter.admit(token.token, search=route.search)
        if not decision.allowed:
            return self._rate_limited(decision, token)
        return route, token, decision

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
