"""Update and mirror modes over real HTTP: no-match rows, archiving and every mirror safety rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubspot_loader.core.model import ARCHIVED, NO_MATCH, PLANNED, LoadResult, PreparedInput
from hubspot_loader.errors import ArchiveLimitError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger

from .conftest import CONTACTS, PORTAL, by_email, contacts_frame, route_counts, writes_since

Sync = Callable[..., LoadResult]
UPDATE = CONTACTS.replace(write_mode="update")
MIRROR = CONTACTS.replace(write_mode="mirror")


def test_update_mode_updates_matched_rows_and_creates_nothing(
    sandbox: SandboxHandle, client: HubSpotClient, sync: Sync
) -> None:
    sync(contacts_frame(3))  # c0..c2 synced (upsert)
    list(client.batch_create("contacts", [PreparedInput(0, "x", "x", {"email": "c3@example.com"})]))
    frame = contacts_frame(6)  # c3 exists in HubSpot only; c4, c5 exist nowhere
    frame["firstname"] = "Changed"

    result = sync(frame, UPDATE)

    assert result.rows_updated == 4 and result.rows_adopted == 1  # c0..c2 by the ledger, c3 by email
    assert result.rows_no_match == 2 and result.rows_created == 0
    assert [r.key for r in result.rows if r.status == NO_MATCH] == ["c4", "c5"]
    assert all(r.hubspot_id is None for r in result.rows if r.status == NO_MATCH)
    stored = by_email(sandbox)
    assert set(stored) == {f"c{i}@example.com" for i in range(4)}
    assert {stored[e]["properties"]["firstname"] for e in stored} == {"Changed"}


def test_mirror_archives_the_records_whose_keys_left_the_source(
    sandbox: SandboxHandle, ledger: SQLiteLedger, sync: Sync
) -> None:
    frame = contacts_frame(20)
    sync(frame, MIRROR)
    stored = by_email(sandbox)

    result = sync(frame[frame["contact_key"] != "c4"], MIRROR)

    assert result.rows_archived == 1 and result.rows_unchanged == 19
    assert [(r.key, r.status, r.hubspot_id) for r in result.archived] == [
        ("c4", ARCHIVED, stored["c4@example.com"]["id"])
    ]
    assert "c4@example.com" not in by_email(sandbox)
    assert "c4@example.com" in by_email(sandbox, archived=True)
    assert "c4" not in ledger.id_map(PORTAL, "contacts")
    assert [b.endpoint for b in result.batches] == ["archive"]

    again = sync(frame[frame["contact_key"] != "c4"], MIRROR)
    assert again.rows_archived == 0 and again.batches == []


def test_mirror_stops_before_sending_when_too_much_would_vanish(sandbox: SandboxHandle, sync: Sync) -> None:
    frame = contacts_frame(20)
    sync(frame, MIRROR)
    before = route_counts(sandbox)
    shrunk = frame.iloc[:17]  # 3 of 20 = 15 % > the default 10 %

    with pytest.raises(
        ArchiveLimitError, match=r"would archive 3 of the 20 records .*archive_limit=0.1"
    ) as caught:
        sync(shrunk, MIRROR)

    assert (caught.value.would_archive, caught.value.synced) == (3, 20)
    assert not {k for k in writes_since(before, sandbox) if k.startswith("POST")}  # nothing sent
    assert len(by_email(sandbox)) == 20

    allowed = sync(shrunk, MIRROR.replace(archive_limit=0.2))
    assert allowed.rows_archived == 3 and len(by_email(sandbox)) == 17


def test_mirror_of_an_empty_source_archives_nothing(sandbox: SandboxHandle, sync: Sync) -> None:
    frame = contacts_frame(5)
    sync(frame, MIRROR)
    result = sync(frame.iloc[:0], MIRROR.replace(archive_limit=1))
    assert result.archived == [] and len(by_email(sandbox)) == 5


def test_a_mirror_dry_run_shows_what_would_be_archived_and_sends_nothing(
    sandbox: SandboxHandle, sync: Sync
) -> None:
    frame = contacts_frame(20)
    sync(frame, MIRROR)
    before = route_counts(sandbox)
    result = sync(frame.iloc[1:], MIRROR, dry_run=True)
    assert [(r.key, r.status) for r in result.archived] == [("c0", PLANNED)]
    assert not {k for k in writes_since(before, sandbox) if k.startswith("POST")}
    assert len(by_email(sandbox)) == 20
