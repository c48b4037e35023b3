"""HubSpot error bodies (reference §5) and the exception that carries them through the handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes "
    "here: https://developers.hubspot.com/scopes."
)


class HubSpotError(Exception):
    """A response that ends request processing with a HubSpot-shaped error body.

    The ``correlationId`` is filled in by the server so that it matches the response header.
    """

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    """Build the standard ``{"status": "error", "message", "category"}`` body (no correlationId yet)."""
    body: dict[str, Any] = {"status": "error", "message": message}
    body.update(extra)
    body["category"] = category
    return body


def validation(message: str, **extra: Any) -> HubSpotError:
    """Build a 400 ``VALIDATION_ERROR``."""
    return HubSpotError(400, error_body(message, "VALIDATION_ERROR", **extra))


def duplicate_ids(ids: list[str]) -> HubSpotError:
    """400 for an update or upsert naming the same record twice (Rudder fixtures; amp-labs fixture).

    Real body: ``{"status":"error","message":"Duplicate IDs found in batch input: [12877907025]. IDs must be
    unique","correlationId":"…","context":{"ids":["12877907025"]},"category":"VALIDATION_ERROR"}``.
    """
    return validation(
        f"Duplicate IDs found in batch input: [{', '.join(ids)}]. IDs must be unique", context={"ids": ids}
    )


def objects_not_found_item(
    error_name: str, ids: list[str], traces: list[str] | None = None
) -> dict[str, Any]:
    """Build the 207 error item of a batch read or update for ids that name no record (reference §16.1).

    ``Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.`` with
    ``context.ids`` (hubspot-api-php#619; amp-labs connectors fixture ``batch/update/contacts``), plus
    ``context.objectWriteTraceId`` when the inputs carry trace ids (Rudder fixtures ``network.ts``).
    """
    context: dict[str, list[str]] = {"ids": ids}
    if traces:
        context["objectWriteTraceId"] = traces
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not get some {error_name} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        "context": context,
    }


def unauthorized() -> HubSpotError:
    """401 for a missing or unknown token, with ``X-HubSpot-Auth-Failure``."""
    return HubSpotError(
        401,
        error_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION"),
        {"X-HubSpot-Auth-Failure": "401 Unauthorized"},
    )


def missing_scopes(required: tuple[str, ...]) -> HubSpotError:
    """403 ``MISSING_SCOPES`` naming the scopes of which one is needed."""
    return HubSpotError(
        403,
        error_body(
            SCOPES_MESSAGE,
            "MISSING_SCOPES",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredScopes": list(required)},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        ),
    )


def unknown_object_type(ref: str) -> HubSpotError:
    """400 for an object type the portal does not have."""
    return validation(f"Unable to infer object type from: {ref}")


def not_found(message: str = "Resource not found") -> HubSpotError:
    """404 ``OBJECT_NOT_FOUND``."""
    return HubSpotError(404, error_body(message, "OBJECT_NOT_FOUND"))


def route_not_found(method: str, path: str) -> HubSpotError:
    """404 for a path the sandbox does not serve (HubSpot answers unknown routes with 404)."""
    return HubSpotError(404, error_body(f"Unable to route {method} request to {path}", "OBJECT_NOT_FOUND"))


def missing_body() -> HubSpotError:
    """400 for a POST without a body (reference §5.5)."""
    return validation("Invalid JSON input: a request body was expected, but none found")


def malformed_json(exc: json.JSONDecodeError) -> HubSpotError:
    """400 for unparseable JSON, in HubSpot's ``Invalid input JSON on line L, column C`` form."""
    return validation(f"Invalid input JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}")


def bad_input(detail: str) -> HubSpotError:
    """400 for JSON that parses but does not match the request schema."""
    return validation(f"Invalid input JSON on line 1, column 1: {detail}")


@dataclass
class PropertyError:
    """One invalid property value of one input (an item of ``Property values were not valid``)."""

    code: str
    name: str
    message: str
    value: str | None = None
    extra_names: list[str] = field(default_factory=list)

    def message_item(self, portal_id: int) -> dict[str, Any]:
        """Return the item embedded (as JSON) in the top-level message."""
        item: dict[str, Any] = {
            "isValid": False,
            "message": self.message,
            "error": self.code,
            "name": self.name,
            "localizedErrorMessage": self.message,
        }
        if self.value is not None:
            item["propertyValue"] = self.value
        item["portalId"] = portal_id
        return item

    def detail(self) -> dict[str, Any]:
        """Return the ``errors[]`` entry with ``code`` and ``context.propertyName``."""
        return {
            "message": self.message,
            "code": self.code,
            "context": {"propertyName": [self.name, *self.extra_names]},
        }


def property_errors_message(errors: list[PropertyError], portal_id: int) -> str:
    """``Property values were not valid: [...]`` with the items as compact JSON."""
    items = [e.message_item(portal_id) for e in errors]
    return "Property values were not valid: " + json.dumps(items, separators=(",", ":"))


def property_errors_body(errors: list[PropertyError], portal_id: int) -> dict[str, Any]:
    """Whole-request 400 body for invalid property values."""
    return error_body(
        property_errors_message(errors, portal_id), "VALIDATION_ERROR", errors=[e.detail() for e in errors]
    )


def rate_limited(policy: str, retry_after: int | None) -> HubSpotError:
    """429 with ``errorType: RATE_LIMIT`` and ``policyName`` (reference §5.8)."""
    messages = {
        "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
        "DAILY": "You have reached your daily limit.",
        "SECONDLY": "You have reached your secondly limit.",
    }
    body: dict[str, Any] = {
        "status": "error",
        "message": messages[policy],
        "errorType": "RATE_LIMIT",
        "policyName": policy,
    }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return HubSpotError(429, body, headers)


def server_error(status: int) -> HubSpotError:
    """Build an injected 5xx (the sandbox never fails on its own)."""
    texts = {500: "internal error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return HubSpotError(status, error_body(texts.get(status, "error"), "INTERNAL_ERROR"))
