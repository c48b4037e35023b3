"""A Dagster resource that loads into an embedded sandbox instead of HubSpot (offline development, demo).

It is a :class:`~hubspot_loader.dagster.resource.HubSpotResource` whose client talks to a sandbox started for
the run on a free 127.0.0.1 port and stopped after it. With ``db_path`` set, the sandbox's objects and
associations persist in that SQLite file across runs, so a scheduled or repeated demo builds on what
earlier runs created, and ``hubspot-loader sandbox --db PATH`` shows them afterwards.

The loader never imports this module: only tests, the demo and users who choose it do.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.http.base_url import check_base_url
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.sandbox.config import DEFAULT_TOKEN, PropertyConfig, SandboxConfig
from hubspot_loader.sandbox.runner import SandboxHandle, start_sandbox
from hubspot_loader.state.ledger import SQLiteLedger

SANDBOX_URL_PLACEHOLDER = "embedded-sandbox"
"""The ``base_url`` field's value: the real URL is only known once the sandbox has started."""


class SandboxHubSpotResource(HubSpotResource):
    """A :class:`HubSpotResource` backed by an embedded local sandbox, started per run.

    ``extra_properties`` declares custom properties the sandbox should know, as a portal admin would
    create them in HubSpot: ``{"contacts": {"signed_up_at": "datetime", "is_vip": "bool"}}``.
    """

    access_token: str = Field(default=DEFAULT_TOKEN, description="The sandbox's token (not a secret).")
    base_url: str = Field(default=SANDBOX_URL_PLACEHOLDER, description="Set when the sandbox starts.")
    db_path: str | None = Field(
        default=None, description="SQLite file the sandbox persists to; in memory when unset."
    )
    include_requested_at: bool = Field(
        default=True, description="Add requestedAt to batch responses (HubSpot's spec allows it)."
    )
    extra_properties: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Custom properties per object type: {type: {name: hubspot type}}."
    )

    state_path: str | None = Field(
        default=None,
        description=(
            "Sync-state ledger; default: beside db_path (<db>.state.sqlite), none for an in-memory sandbox "
            "(its objects vanish with the run, so remembering them would be wrong)."
        ),
    )
    url: str | None = Field(
        default=None,
        description="Use the sandbox running at this URL (e.g. `make dev`'s) instead of starting one.",
    )

    _handle: SandboxHandle | None = PrivateAttr(default=None)

    def sandbox_config(self) -> SandboxConfig:
        """Return the configuration the embedded sandbox starts with."""
        extras = tuple(
            (object_type, tuple(PropertyConfig(name, kind) for name, kind in props.items()))
            for object_type, props in self.extra_properties.items()
        )
        db = str(Path(self.db_path).expanduser().resolve()) if self.db_path else None
        if db is not None:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        return SandboxConfig(
            host="127.0.0.1",
            port=0,
            db_path=db,
            include_requested_at=self.include_requested_at,
            extra_properties=extras,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Start the sandbox for this run (unless ``url`` names a running one) and say so in the run log."""
        if self.url:
            message = (
                f"Loading into the local HubSpot sandbox at {self.url}, "
                "NOT into a real HubSpot portal."
            )
        else:
            config = self.sandbox_config()
            self._handle = start_sandbox(config)
            where = f"persisted in {config.db_path}" if config.db_path else "in memory only"
            message = (
                "Loading into the embedded HubSpot sandbox at "
                f"{self._handle.base_url} ({where}), NOT into a real HubSpot portal."
            )
        if context.log is not None:
            context.log.info(message)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Stop the sandbox."""
        if self._handle is not None:
            self._handle.stop()
            self._handle = None

    @property
    def sandbox_url(self) -> str:
        """The URL of the sandbox in use (only during a run, unless ``url`` is set)."""
        if self.url:
            return self.url.rstrip("/")
        if self._handle is None:
            raise RuntimeError("the embedded sandbox runs only while the resource is set up for a run")
        return self._handle.base_url

    def get_client(self) -> HubSpotClient:
        """Return a client for the sandbox."""
        return self.client_for(self.sandbox_url)

    def get_ledger(self) -> SQLiteLedger | None:
        """Open the ledger: ``state_path``, else beside the sandbox's SQLite file, else none."""
        if self.state_path:
            return SQLiteLedger(Path(self.state_path).expanduser())
        if self.db_path:
            db = Path(self.db_path).expanduser().resolve()
            return SQLiteLedger(db.with_name(db.stem + ".state.sqlite"))
        return None

    def portal_for(self, client: HubSpotClient) -> str:
        """Return the portal identity: ``portal``, else the sandbox's file (stable across ports) or URL."""
        return self._sandbox_portal(client.base_url)

    def ledger_portal(self) -> str:
        """Return the portal identity without a client (outside runs too, unless the sandbox is in memory)."""
        return self._sandbox_portal(None)

    def _sandbox_portal(self, base_url: str | None) -> str:
        if self.portal:
            return self.portal
        if self.db_path:
            return f"sandbox:{Path(self.db_path).expanduser().resolve()}"
        return f"sandbox:{base_url or check_base_url(self.sandbox_url).url}"

    def __repr__(self) -> str:
        return f"SandboxHubSpotResource(db_path={self.db_path!r})"

    __str__ = __repr__
