"""Where the example's loads go, chosen by the environment with no code change (``load_target.py``).

- by default → an embedded HubSpot sandbox started for each run, persisted in ``.demo/sandbox.sqlite``, or
  the sandbox already running at ``HUBSPOT_SANDBOX_URL`` (``make dev`` starts one), even when
  ``HUBSPOT_ACCESS_TOKEN`` is set; the run log says so;
- ``HUBSPOT_TARGET=hubspot`` → real HubSpot with ``HUBSPOT_ACCESS_TOKEN`` (``HUBSPOT_BASE_URL`` overrides
  ``https://api.hubapi.com``).
"""

import os
from pathlib import Path

import dagster as dg

from hubspot_example.load_target import HUBSPOT, PROJECT_ROOT, choose_target
from hubspot_loader import HubSpotResource

DEMO_DIR = Path(os.environ.get("HUBSPOT_LOADER_DEMO_DIR", PROJECT_ROOT / ".demo"))
"""Where the embedded sandbox keeps its SQLite file (``$HUBSPOT_LOADER_DEMO_DIR`` or ``.demo/``)."""

SANDBOX_DB = DEMO_DIR / "sandbox.sqlite"

#: Custom properties the example loads need in HubSpot; create them in a real portal first (README).
CUSTOM_PROPERTIES = {"contacts": {"signed_up_at": "datetime", "is_vip": "bool"}}


def hubspot_target() -> HubSpotResource:
    """The sandbox, unless ``HUBSPOT_TARGET=hubspot`` opts in to real HubSpot (``load_target.py``)."""
    chosen = choose_target()
    if chosen.kind == HUBSPOT:
        return HubSpotResource(
            access_token=dg.EnvVar("HUBSPOT_ACCESS_TOKEN"),
            base_url=chosen.base_url or "https://api.hubapi.com",
        )
    from hubspot_loader.dagster.sandbox_resource import SandboxHubSpotResource

    return SandboxHubSpotResource(
        db_path=str(SANDBOX_DB),
        extra_properties=CUSTOM_PROPERTIES,
        url=chosen.sandbox_url,
    )
