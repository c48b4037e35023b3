"""Which property a load reconciles lost answers by: one choice, shared by ``load_dataframe`` and the CLI.

:func:`hubspot_loader.preflight_step.unique_property_for` picks a sent property HubSpot keeps unique
(``hasUniqueValue``, ``email`` first), else ``email`` for contacts in any spelling the package accepts.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from hubspot_loader.core.model import RECONCILED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, load_dataframe
from hubspot_loader.preflight_step import unique_property_for
from hubspot_loader.sandbox import FaultConfig, SandboxHandle

DEFINITIONS = [
    {"name": "email", "hasUniqueValue": False},
    {"name": "external_id", "hasUniqueValue": True},
    {"name": "name", "hasUniqueValue": False},
]


@pytest.mark.parametrize("spelling", ["contacts", "contact", "Contacts", "CONTACT", " contacts ", "0-1"])
def test_contacts_in_any_spelling_fall_back_to_email(spelling: str) -> None:
    assert unique_property_for(spelling, ["firstname", "email"], None) == "email"
    assert unique_property_for(spelling, ["firstname", "email"], DEFINITIONS[:1]) == "email"
    assert unique_property_for(spelling, ["firstname"], None) is None


@pytest.mark.parametrize("object_type", ["companies", "deals", "p_vendor", "2-123"])
def test_other_types_need_a_property_hubspot_keeps_unique(object_type: str) -> None:
    assert unique_property_for(object_type, ["email", "name"], None) is None
    assert unique_property_for(object_type, ["email", "name"], DEFINITIONS) is None
    assert unique_property_for(object_type, ["name", "external_id"], DEFINITIONS) == "external_id"


def test_email_comes_first_among_unique_properties() -> None:
    both = [{"name": "email", "hasUniqueValue": True}, {"name": "external_id", "hasUniqueValue": True}]
    assert unique_property_for("contacts", ["external_id", "email"], both) == "email"
    assert unique_property_for("contacts", ["external_id"], both) == "external_id"


def test_a_capitalised_contacts_load_reconciles_a_lost_answer_by_email(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    # every batch is committed and its answer lost: only a lookup by email can settle the rows
    hub = sandbox_factory(faults=FaultConfig(drop_after_commit_rate=1.0))
    frame = pd.DataFrame({"key": ["K1", "K2", "K3"], "email": [f"p{i}@example.com" for i in range(3)]})
    with HubSpotClient(hub.token, base_url=hub.base_url) as client:
        spec = HubSpotLoadSpec(object_type="Contacts", key_column="key", preflight="off")
        result = load_dataframe(frame, spec, client=client)
    assert [r.status for r in result.rows] == [RECONCILED] * 3
    assert not any("no unique property" in w for w in result.warnings)
    assert hub.counts()["contacts"] == 3
