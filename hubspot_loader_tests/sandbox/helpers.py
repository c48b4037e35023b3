"""Small HTTP helpers for sandbox tests (real sockets on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import requests

from hubspot_loader.sandbox import SandboxHandle

Factory = Callable[..., SandboxHandle]
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Api:
    """A requests session bound to a sandbox with its default token."""

    def __init__(self, sb: SandboxHandle, token: str | None = None, prefix: str = "/crm/v3/objects") -> None:
        self.sb = sb
        self.prefix = prefix
        self.session = requests.Session()
        tok = sb.token if token is None else token
        if tok:
            self.session.headers["Authorization"] = f"Bearer {tok}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.sb.base_url + path, **kwargs)

    def create(self, object_type: str, inputs: list[dict[str, Any]], **kwargs: Any) -> requests.Response:
        return self.request(
            "POST", f"{self.prefix}/{object_type}/batch/create", json={"inputs": inputs}, **kwargs
        )

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)


def contact(email: str, trace: str | None = None, **props: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"properties": {"email": email, **props}}
    if trace is not None:
        item["objectWriteTraceId"] = trace
    return item


def embedded_items(message: str) -> list[dict[str, Any]]:
    """Decode the JSON array embedded after ``Property values were not valid: ``."""
    prefix = "Property values were not valid: "
    assert message.startswith(prefix), message
    return list(json.loads(message[len(prefix) :]))
