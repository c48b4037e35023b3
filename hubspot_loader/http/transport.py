"""Small pieces of the HTTP edge shared by the client and its batch writer.

How a request body is encoded (:func:`encode_body`), the value one HTTP answer is read into
(:class:`Answer`), and whether a transport failure may hide a committed write (:func:`is_ambiguous`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from hubspot_loader.errors import ErrorResponse


def encode_body(payload: Any) -> bytes:
    """Encode a request body as compact UTF-8 JSON, as every request of the client sends it (orjson)."""
    return orjson.dumps(payload)


@dataclass
class Answer:
    """One HTTP answer: status, parsed body (JSON when it parses, else text), headers and URL."""

    status: int
    body: Any
    headers: Mapping[str, str]
    url: str

    def error_response(self) -> ErrorResponse:
        """Return the answer as the :class:`~hubspot_loader.errors.ErrorResponse` errors carry."""
        return ErrorResponse(status=self.status, body=self.body, headers=dict(self.headers), url=self.url)


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield the exception, its exception args, ``reason``, causes and contexts (bounded)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a transport failure happened after the request may have reached HubSpot.

    Connect failures (refused, DNS, connect timeout) are not ambiguous; read timeouts, broken bodies
    and connections dropped after sending (``RemoteDisconnected``, ``ProtocolError``, resets) are.
    Unknown cases count as ambiguous, which only costs a reconciliation read.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
        return True
    names = {type(e).__name__ for e in _exception_chain(exc)}
    return not names & {
        "NewConnectionError",
        "ConnectTimeoutError",
        "NameResolutionError",
        "ConnectionRefusedError",
    }


__all__ = ["Answer", "encode_body", "is_ambiguous"]
