"""Transport-neutral request and response values passed between the HTTP server and the handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

JSON_CONTENT_TYPE = "application/json;charset=utf-8"

#: How the server must end a connection instead of (or after) answering.
ABORT_RESET = "reset"
ABORT_DROP = "drop"
ABORT_HANG = "hang"


@dataclass
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    parsed: Any = field(default=None, repr=False, compare=False)
    """The body's JSON once the gateway parsed it (to count its inputs); ``None``: not parsed yet."""

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        """Split ``target`` into path and query; header names are lower-cased."""
        path, _, query = target.partition("?")
        return cls(
            method,
            path,
            parse_qs(query, keep_blank_values=True),
            {k.lower(): v for k, v in headers.items()},
            body,
        )

    def param(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def flag(self, name: str) -> bool:
        """Read a boolean query parameter: ``true`` in any case (the official client sends ``True``)."""
        return (self.param(name) or "").lower() == "true"

    def param_list(self, name: str) -> list[str]:
        """All values of a repeated or comma-separated query parameter."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v)
        return out


@dataclass
class Response:
    """A response: JSON ``body`` (or ``raw`` bytes), headers and an optional connection abort."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = JSON_CONTENT_TYPE
    abort: str | None = None
    hang_seconds: float = 0.0

    def payload(self) -> bytes:
        """Serialise the body (empty for ``None`` bodies such as 204)."""
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")
