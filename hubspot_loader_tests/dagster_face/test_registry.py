"""The package registers its component for ``dg`` and keeps the registered module cheap to import."""

from __future__ import annotations

import subprocess
import sys

from dagster.components.core.package_entry import discover_entry_point_package_objects

from hubspot_loader.dagster import HubSpotLoadCollectionComponent

KEY = "hubspot_loader.dagster.HubSpotLoadCollectionComponent"


def test_the_entry_point_offers_the_component_and_nothing_else() -> None:
    found = {key.to_typename(): obj for key, obj in discover_entry_point_package_objects().items()}
    assert found[KEY] is HubSpotLoadCollectionComponent
    assert [key for key in found if key.startswith("hubspot_loader.")] == [KEY]


def test_importing_the_registered_module_starts_no_sandbox_and_does_no_io() -> None:
    # every dg project in this environment imports it, so a fresh interpreter must import it cleanly
    code = (
        "import sys, hubspot_loader.dagster\n"
        "bad = ('hubspot_loader.sandbox', 'hubspot_loader.cli')\n"
        "print(sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"
