"""Helpers for client integration tests against the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import requests

from hubspot_loader.core.model import BatchOutcome, PreparedInput, RowOutcome
from hubspot_loader.http.retry import RetryPolicy

_serial = itertools.count()

#: Retries fast enough for tests (tiny backoff), still bounded.
FAST_RETRY = RetryPolicy(max_attempts=6, backoff_base_s=0.01, backoff_max_s=0.05, max_elapsed_s=30)


def contact(position: int, email: str | None = None, **props: str) -> PreparedInput:
    """A contact input with a unique trace id."""
    properties = dict(props)
    if email is not None:
        properties["email"] = email
    return PreparedInput(
        position=position,
        key=f"k{position}",
        trace_id=f"tr-{next(_serial)}-{position}",
        properties=properties,
    )


def contacts(n: int, tag: str, *, start: int = 0) -> list[PreparedInput]:
    return [contact(i, f"{tag}-{i}@example.com", firstname=f"F{i}") for i in range(start, start + n)]


def rows_of(outcomes: list[BatchOutcome]) -> list[RowOutcome]:
    return sorted((r for o in outcomes for r in o.rows), key=lambda r: r.position)


def stored_emails(sandbox: Any) -> Counter[str]:
    """How many stored contacts carry each email (to prove 'exactly once')."""
    return Counter(str(o["properties"].get("email", "")).lower() for o in sandbox.objects("contacts"))


def stored_by_id(sandbox: Any, object_type: str = "contacts") -> dict[str, dict[str, Any]]:
    return {str(o["id"]): o for o in sandbox.objects(object_type)}


class RecordingSession(requests.Session):
    """A real session that also remembers the method, URL and headers of each request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append((str(method), str(url), dict(kwargs.get("headers") or {})))
        return super().request(method, url, *args, **kwargs)
