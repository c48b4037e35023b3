"""Shared fixtures: a fresh in-memory HubSpot sandbox per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hubspot_loader.sandbox import SandboxConfig, SandboxHandle, start_sandbox


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxHandle]]:
    """Start sandboxes with config overrides: ``sandbox_factory(rate_limit_per_10s=5)``.

    Each call starts a fresh in-memory sandbox on a free 127.0.0.1 port; all are stopped at teardown.
    A ``config=SandboxConfig(...)`` keyword replaces the base configuration.
    """
    handles: list[SandboxHandle] = []

    def factory(config: SandboxConfig | None = None, **overrides: Any) -> SandboxHandle:
        base = config or SandboxConfig()
        handle = start_sandbox(base.replace(host="127.0.0.1", port=0, **overrides))
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxHandle]) -> SandboxHandle:
    """A fresh in-memory sandbox with default settings (``sb.base_url``, ``sb.token``)."""
    return sandbox_factory()
