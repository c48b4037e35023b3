"""Association changes of synced rows over real HTTP: added ones created, removed ones only in mirror."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from hubspot_loader.core.model import AssociationColumn, LoadResult
from hubspot_loader.load import HubSpotLoadSpec
from hubspot_loader.sandbox import SandboxHandle

from .conftest import CONTACTS, by_email

Sync = Callable[..., LoadResult]
COMPANIES = HubSpotLoadSpec(object_type="companies", key_column="company_key", preflight="off")


def _companies(sandbox: SandboxHandle, record_id: str) -> set[str]:
    stored = sandbox.get_object("contacts", record_id)
    assert stored is not None
    return {str(a["toObjectId"]) for a in stored["associations"] if a["toObjectType"] == "companies"}


@pytest.mark.parametrize("mode", ["upsert", "mirror"])
def test_a_contact_moved_to_another_company(sandbox: SandboxHandle, sync: Sync, mode: str) -> None:
    companies = sync(pd.DataFrame({"company_key": ["co0", "co1"], "name": ["Zero", "One"]}), COMPANIES)
    ids = companies.id_map
    spec = CONTACTS.replace(
        write_mode=mode,
        associations=[AssociationColumn("company_key", "companies", keys_from="companies")],
    )
    frame = pd.DataFrame(
        {
            "contact_key": ["c0", "c1"],
            "email": ["c0@example.com", "c1@example.com"],
            "firstname": ["A", "B"],
            "company_key": ["co0", "co0"],
        }
    )

    def load(f: pd.DataFrame) -> LoadResult:
        return sync(f, spec, id_maps={"companies": ids})

    load(frame)
    contact = by_email(sandbox)["c1@example.com"]["id"]
    assert _companies(sandbox, contact) == {ids["co0"]}

    moved = frame.copy()
    moved.loc[1, "company_key"] = "co1"
    result = load(moved)

    assert result.rows_updated == 1 and result.rows_unchanged == 1 and result.rows_failed == 0
    expected = {ids["co1"]} if mode == "mirror" else {ids["co0"], ids["co1"]}
    assert _companies(sandbox, contact) == expected
    assert _companies(sandbox, by_email(sandbox)["c0@example.com"]["id"]) == {ids["co0"]}
