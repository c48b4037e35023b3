"""A faithful local HubSpot CRM API server for tests, demos and offline development.

>>> from hubspot_loader.sandbox import SandboxConfig, FaultConfig, run_sandbox
>>> with run_sandbox(SandboxConfig()) as sb:  # doctest: +SKIP
...     print(sb.base_url, sb.token, sb.counters()["requests"])

See ``docs/sandbox.md`` for the behaviour, the options and the choices made on open questions.
"""

from hubspot_loader.sandbox.config import (
    CustomAssociationConfig,
    CustomObjectConfig,
    FaultConfig,
    PropertyConfig,
    SandboxConfig,
    TokenConfig,
)
from hubspot_loader.sandbox.handlers import SandboxApp
from hubspot_loader.sandbox.runner import SandboxHandle, run_sandbox, start_sandbox, start_sandbox_process

__all__ = [
    "CustomAssociationConfig",
    "CustomObjectConfig",
    "FaultConfig",
    "PropertyConfig",
    "SandboxApp",
    "SandboxConfig",
    "SandboxHandle",
    "TokenConfig",
    "run_sandbox",
    "start_sandbox",
    "start_sandbox_process",
]
