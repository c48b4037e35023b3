"""Issue #3 acceptance: a messy 250-row contacts frame loaded over real HTTP into the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from hubspot_loader.core.model import CREATED, FAILED, AssociationColumn, LoadResult, PreparedInput
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import (
    DataValidationError,
    HubSpotLoadSpec,
    LoadAborted,
    LoadRun,
    PreflightMode,
    load_dataframe,
)
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.loader.conftest import RecordingSession, loader_config

ROWS = 250
INVALID_EMAIL_ROWS = {17: "not-an-email", 88: "two@@example.com", 203: "missing-at.example.com"}
DUPLICATE_OF = {121: 120, 161: 160}  # row -> the earlier row whose email it repeats
EXISTING_EMAIL_ROW = 222
EXISTING_EMAIL = "already.here@example.com"
FIRST_NAMES = ["Zoë 🚀", "José", "Łukasz", "山田", "Ana", None]


def _email(i: int) -> str:
    if i in INVALID_EMAIL_ROWS:
        return INVALID_EMAIL_ROWS[i]
    if i in DUPLICATE_OF:
        return _email(DUPLICATE_OF[i])
    if i == EXISTING_EMAIL_ROW:
        return EXISTING_EMAIL
    return f"person{i:03d}@example.com"


def contacts_frame(company_ids: list[str]) -> pd.DataFrame:
    """The acceptance frame: every awkward dtype, nulls in each, an association column with nulls."""
    idx = range(ROWS)
    return pd.DataFrame(
        {
            "contact_key": [f"CT-{i:04d}" for i in idx],
            "email": [_email(i) for i in idx],
            "firstname": [FIRST_NAMES[i % len(FIRST_NAMES)] for i in idx],
            "lastname": [None if i % 9 == 0 else f"Nachname-{i}" for i in idx],
            "employee_number": pd.array([None if i % 5 == 0 else i * 1000 for i in idx], dtype="Int64"),
            "score": [np.nan if i % 4 == 0 else i + 0.25 for i in idx],
            "signed_up_at": pd.to_datetime(
                [
                    None
                    if i % 10 == 3
                    else datetime(2026, 1, 1, 12, tzinfo=timezone.utc) + timedelta(hours=i)
                    for i in idx
                ],
                utc=True,
            ),
            "last_seen_local": pd.to_datetime(
                [None if i % 11 == 0 else datetime(2026, 6, 1, 8, 30) + timedelta(minutes=i) for i in idx]
            ),
            "birthday": [None if i % 6 == 0 else date(1980, 1, 1) + timedelta(days=i * 37) for i in idx],
            "is_vip": [i % 3 == 0 for i in idx],
            "company_id": [None if i % 4 == 1 else company_ids[i % len(company_ids)] for i in idx],
        }
    )


def expected_properties(i: int, row: pd.Series) -> dict[str, str]:
    """The property strings row ``i`` must arrive with, written out independently of the formatter."""
    props = {"email": _email(i).lower(), "is_vip": "true" if i % 3 == 0 else "false"}
    if FIRST_NAMES[i % len(FIRST_NAMES)] is not None:
        props["firstname"] = str(FIRST_NAMES[i % len(FIRST_NAMES)])
    if i % 9:
        props["lastname"] = f"Nachname-{i}"
    if i % 5:
        props["employee_number"] = str(i * 1000)
    if i % 4:
        props["score"] = f"{i}.25"
    if i % 10 != 3:
        at = datetime(2026, 1, 1, 12, tzinfo=timezone.utc) + timedelta(hours=i)
        props["signed_up_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if i % 11:
        seen = datetime(2026, 6, 1, 8, 30) + timedelta(minutes=i)  # naive, taken as UTC by default
        props["last_seen_local"] = seen.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if i % 6:
        props["birthday"] = (date(1980, 1, 1) + timedelta(days=i * 37)).isoformat()
    return props


@pytest.fixture
def companies(hub: SandboxHandle, client_for: Callable[..., HubSpotClient]) -> list[str]:
    client = client_for(hub)
    inputs = [PreparedInput(i, f"co{i}", f"co{i}", {"name": f"Company {i}"}) for i in range(7)]
    outcomes = list(client.batch_create("companies", inputs))
    ids = {r.key: r.hubspot_id for o in outcomes for r in o.rows}
    return [str(ids[f"co{i}"]) for i in range(7)]


@pytest.fixture
def existing_contact(hub: SandboxHandle, client_for: Callable[..., HubSpotClient]) -> str:
    client = client_for(hub)
    [outcome] = client.batch_create("contacts", [PreparedInput(0, "pre", "pre", {"email": EXISTING_EMAIL})])
    assert outcome.rows[0].status == CREATED
    return str(outcome.rows[0].hubspot_id)


ACCEPTANCE_SPEC = HubSpotLoadSpec(
    object_type="contacts",
    key_column="contact_key",
    associations=[AssociationColumn("company_id", "companies")],
    unique_property="email",
    preflight="off",
)


def _load(
    hub: SandboxHandle,
    client: HubSpotClient,
    frame: pd.DataFrame,
    *,
    dry_run: bool = False,
    run: LoadRun | None = None,
) -> LoadResult:
    return load_dataframe(frame, ACCEPTANCE_SPEC, client=client, run=run, dry_run=dry_run)


def _contacts(key_column: str, *, preflight: PreflightMode = "off", **options: Any) -> HubSpotLoadSpec:
    """A contacts spec keyed by ``key_column``, preflight off unless asked for."""
    return HubSpotLoadSpec(object_type="contacts", key_column=key_column, preflight=preflight, **options)


def _associated_companies(obj: dict[str, Any]) -> set[str]:
    return {
        str(a.get("toObjectId") or a.get("id"))
        for a in obj.get("associations", [])
        if a.get("toObjectType") in ("companies", "0-2", None) or a.get("type") == "contact_to_company"
    }


@pytest.mark.parametrize("api_version", ["2026-03", "v3"])
def test_messy_contacts_frame_every_row_accounted_for(
    hub: SandboxHandle,
    client_for: Callable[..., HubSpotClient],
    companies: list[str],
    existing_contact: str,
    api_version: str,
) -> None:
    frame = contacts_frame(companies)
    client = client_for(hub, api_version=api_version)
    result = _load(hub, client, frame)

    # Every row has exactly one outcome, in order.
    assert [r.position for r in result.rows] == list(range(ROWS))
    assert [r.key for r in result.rows] == frame["contact_key"].tolist()

    # Bad rows: reported with their key and HubSpot's reason.
    failed = {r.position: r for r in result.rows if r.status == FAILED}
    for i, bad in INVALID_EMAIL_ROWS.items():
        error = failed[i].error
        assert error is not None and error.code == "INVALID_EMAIL" and bad in error.message
        assert failed[i].key == f"CT-{i:04d}"
    for dup, first in DUPLICATE_OF.items():
        # Exactly one of the pair is created; the other is a conflict naming the id that was created.
        pair = [result.rows[first], result.rows[dup]]
        assert sorted(r.status for r in pair) == [CREATED, FAILED]
        loser = next(r for r in pair if r.status == FAILED)
        winner = next(r for r in pair if r.status == CREATED)
        assert loser.error is not None and loser.error.category == "CONFLICT"
        assert f"Existing ID: {winner.hubspot_id}" in loser.error.message
    existing = failed[EXISTING_EMAIL_ROW].error
    assert existing is not None and existing.category == "CONFLICT"
    assert f"Existing ID: {existing_contact}" in existing.message
    assert len(failed) == len(INVALID_EMAIL_ROWS) + len(DUPLICATE_OF) + 1

    # Every other row created with exactly the expected property strings and association.
    stored = {o["id"]: o for o in hub.objects("contacts")}
    assert len(stored) == ROWS - len(failed) + 1  # + the pre-existing contact
    emails = [o["properties"].get("email") for o in stored.values()]
    assert len(emails) == len(set(emails)), "an object was created twice"
    for row in result.rows:
        if row.status != CREATED:
            continue
        obj = stored[str(row.hubspot_id)]
        i = row.position
        sent = {k: v for k, v in obj["properties"].items() if k in frame.columns}
        assert sent == expected_properties(i, frame.iloc[i]), f"row {row.key}"
        company = frame.at[i, "company_id"]
        assert _associated_companies(obj) == (set() if company is None else {company}), f"row {row.key}"
    assert result.rows_created == ROWS - len(failed)
    assert result.id_map == {r.key: r.hubspot_id for r in result.rows if r.status == CREATED}


def test_shuffled_results_are_matched_by_trace_id(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient]
) -> None:
    assert hub.config.shuffle_results
    frame = pd.DataFrame(
        {"contact_key": [f"K{i}" for i in range(300)], "email": [f"s{i}@example.com" for i in range(300)]}
    )
    result = load_dataframe(frame, _contacts("contact_key"), client=client_for(hub))
    assert result.rows_created == 300
    for row in result.rows:
        obj = hub.get_object("contacts", str(row.hubspot_id))
        assert obj is not None and obj["properties"]["email"] == f"s{row.position}@example.com"


def test_metadata_timestamps_equal_what_hubspot_returned(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient]
) -> None:
    session = RecordingSession()
    client = client_for(hub, session=session, batch_size=40)
    frame = pd.DataFrame(
        {"contact_key": [f"K{i}" for i in range(100)], "email": [f"t{i}@example.com" for i in range(100)]}
    )
    result = load_dataframe(frame, _contacts("contact_key"), client=client)
    assert len(session.batch_bodies) == 3 == len(result.batches)

    def parsed(key: str) -> list[datetime]:
        return [datetime.fromisoformat(b[key].replace("Z", "+00:00")) for b in session.batch_bodies]

    assert result.hubspot_requested_at == min(parsed("requestedAt"))
    assert result.hubspot_started_at == min(parsed("startedAt"))
    assert result.hubspot_completed_at == max(parsed("completedAt"))
    assert result.hubspot_requested_at <= result.hubspot_started_at <= result.hubspot_completed_at
    assert result.hubspot_status == "COMPLETE"
    per_batch = sorted((b.started_at, b.completed_at) for b in result.batches)
    assert per_batch == sorted(zip(parsed("startedAt"), parsed("completedAt"), strict=True))


def test_schema_failure_sends_nothing_and_names_rows_and_columns(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient]
) -> None:
    schema = pa.DataFrameSchema(
        {
            "contact_key": pa.Column(str, unique=True),
            "email": pa.Column(str, pa.Check.str_matches(r"^[^@\s]+@[^@\s]+\.[a-z]+$")),
            "employee_number": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        }
    )
    frame = pd.DataFrame(
        {
            "contact_key": ["A", "B", "C", "D"],
            "email": ["a@example.com", "broken", "c@example.com", "d@example.com"],
            "employee_number": pd.array([1, 2, -5, None], dtype="Int64"),
        }
    )
    before = hub.counters()["requests"]
    assert before == 0
    with pytest.raises(DataValidationError) as info:
        load_dataframe(frame, _contacts("contact_key", schema=schema), client=client_for(hub))
    text = str(info.value)
    assert "row key 'B' (position 1), column 'email', check str_matches" in text
    assert "row key 'C' (position 2), column 'employee_number', check greater_than_or_equal_to(0)" in text
    assert hub.counters()["requests"] == before
    assert hub.counters()["write_requests"] == 0


def test_dry_run_sends_nothing_and_keeps_payloads(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient], companies: list[str]
) -> None:
    frame = contacts_frame(companies).head(20)
    writes_before = hub.counters()["write_requests"]
    result = _load(hub, client_for(hub), frame, dry_run=True, run=LoadRun(preview_rows=3))
    assert hub.counters()["write_requests"] == writes_before
    assert len(result.payload_preview) == 3
    first = result.payload_preview[0]
    assert first["objectWriteTraceId"] == "CT-0000"
    assert first["properties"]["email"] == "person000@example.com"
    assert {r.status for r in result.rows} == {"planned"}


def test_naive_datetimes_use_the_configured_timezone(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient]
) -> None:
    frame = pd.DataFrame(
        {
            "contact_key": ["A"],
            "email": ["tz@example.com"],
            "last_seen_local": [pd.Timestamp("2026-07-01 09:00")],
        }
    )
    result = load_dataframe(
        frame, _contacts("contact_key", naive_timezone="Europe/Berlin"), client=client_for(hub)
    )
    obj = hub.get_object("contacts", str(result.rows[0].hubspot_id))
    assert obj is not None
    assert obj["properties"]["last_seen_local"] == "2026-07-01T07:00:00.000Z"


def test_property_renames_and_label_association(
    sandbox_factory: Callable[..., SandboxHandle], client_for: Callable[..., HubSpotClient]
) -> None:
    hub = sandbox_factory(config=loader_config(shuffle_results=True))
    client = client_for(hub)
    [co] = client.batch_create("companies", [PreparedInput(0, "c", "c", {"name": "Acme"})])
    company_id = str(co.rows[0].hubspot_id)
    frame = pd.DataFrame(
        {
            "id": [1, 2],
            "mail": ["r1@example.com", "r2@example.com"],
            "given": ["Ada", "Grace"],
            "employer": [company_id, None],
        }
    )
    spec = _contacts(
        "id",
        properties={"mail": "email", "given": "firstname"},
        associations=[AssociationColumn("employer", "companies", label="Primary")],
    )
    result = load_dataframe(frame, spec, client=client)
    assert result.rows_created == 2
    first = hub.get_object("contacts", str(result.id_map["1"]))
    assert first is not None
    assert first["properties"]["email"] == "r1@example.com" and first["properties"]["firstname"] == "Ada"
    assert _associated_companies(first) == {company_id}
    second = hub.get_object("contacts", str(result.id_map["2"]))
    assert second is not None and _associated_companies(second) == set()


def test_unreachable_hubspot_aborts_the_load_with_every_row_reported(
    client_for: Callable[..., HubSpotClient], sandbox_factory: Callable[..., SandboxHandle]
) -> None:
    hub = sandbox_factory()
    url = hub.base_url
    hub.stop()  # nothing listens there any more
    client = HubSpotClient("some-token", base_url=url, settings=ClientSettings(timeout=(0.5, 0.5)))
    frame = pd.DataFrame({"contact_key": ["A", "B"], "email": ["a@example.com", "b@example.com"]})
    with pytest.raises(LoadAborted) as caught:
        load_dataframe(frame, _contacts("contact_key"), client=client)
    client.close()
    assert "never answered" in str(caught.value) and "some-token" not in str(caught.value)
    rows = caught.value.result.rows
    assert [(r.key, r.status) for r in rows] == [("A", FAILED), ("B", FAILED)]
    assert all(r.error is not None and r.error.category == "TRANSPORT_ERROR" for r in rows)


def test_results_without_trace_ids_are_matched_by_content(
    sandbox_factory: Callable[..., SandboxHandle], client_for: Callable[..., HubSpotClient]
) -> None:
    # HubSpot documents objectWriteTraceId on errors only; answers without it must still map every row.
    hub = sandbox_factory(config=loader_config(echo_trace_ids=False))
    frame = pd.DataFrame(
        {
            "k": [f"K{i}" for i in range(150)],
            "name": [f"Company {i % 140}" for i in range(150)],  # 10 names sent twice
            "city": [None if i % 3 else "Oslo" for i in range(150)],
        }
    )
    spec = HubSpotLoadSpec(object_type="companies", key_column="k", preflight="off")
    result = load_dataframe(frame, spec, client=client_for(hub))
    assert result.rows_created == 150 and result.rows_failed == 0
    assert len(set(result.id_map.values())) == 150
    for row in result.rows:
        obj = hub.get_object("companies", str(row.hubspot_id))
        assert obj is not None
        assert obj["properties"]["name"] == frame.at[row.position, "name"]
        assert obj["properties"].get("city") == frame.at[row.position, "city"]


def test_external_id_property_is_found_and_used_to_reconcile_lost_answers(
    sandbox_factory: Callable[..., SandboxHandle], client_for: Callable[..., HubSpotClient]
) -> None:
    from hubspot_loader.sandbox import FaultConfig, PropertyConfig

    hub = sandbox_factory(
        config=loader_config(
            extra_properties=(("companies", (PropertyConfig("external_id", "string", unique=True),)),),
            faults=FaultConfig(drop_after_commit_rate=0.3, seed=7),
        )
    )
    frame = pd.DataFrame(
        {
            "k": [f"K{i}" for i in range(400)],
            "name": [f"Company {i}" for i in range(400)],
            "external_id": [f"ext-{i}" for i in range(400)],
        }
    )
    # No unique_property given: preflight reads the definitions and finds external_id (hasUniqueValue).
    spec = HubSpotLoadSpec(object_type="companies", key_column="k", preflight="quarantine")
    result = load_dataframe(frame, spec, client=client_for(hub, batch_size=20))
    assert sum(b.reconciled for b in result.batches) > 0  # some answers were lost and looked up
    assert result.rows_created == 400 and result.rows_failed == 0
    assert not result.warnings
    stored = hub.objects("companies")
    assert len(stored) == 400  # exactly one object per row
    by_external = {o["properties"]["external_id"]: o["id"] for o in stored}
    assert {r.key: r.hubspot_id for r in result.rows} == {
        f"K{i}": by_external[f"ext-{i}"] for i in range(400)
    }


def test_answers_lost_but_every_row_found_by_lookup_is_not_a_load_that_never_answered(
    sandbox_factory: Callable[..., SandboxHandle], client_for: Callable[..., HubSpotClient]
) -> None:
    from hubspot_loader.sandbox import FaultConfig

    # Every write is committed and its answer dropped; the lookups by email (reads) are answered.
    hub = sandbox_factory(config=loader_config(faults=FaultConfig(drop_after_commit_rate=1.0)))
    frame = pd.DataFrame({"k": ["A", "B", "C"], "email": ["a@example.com", "b@example.com", "c@example.com"]})
    result = load_dataframe(frame, _contacts("k"), client=client_for(hub))
    assert [b.http_status for b in result.batches] == [None]  # no write was ever answered
    assert result.rows_created == 3 and result.rows_failed == 0 and result.stopped is None
    assert sum(b.reconciled for b in result.batches) == 3
    assert {o["properties"]["email"] for o in hub.objects("contacts")} == {r + "@example.com" for r in "abc"}


class CountedKey:
    """A warehouse key that counts how often the loader turns it into text."""

    formatted = 0

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        CountedKey.formatted += 1
        return self.text


@pytest.mark.parametrize("preflight", ["off", "quarantine"])
def test_the_load_formats_the_key_column_once(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient], preflight: PreflightMode
) -> None:
    keys = [CountedKey(f"K{i}") for i in range(5)]
    frame = pd.DataFrame(
        {"k": pd.Series(keys, dtype=object), "email": [f"p{i}@example.com" for i in range(5)]}
    )
    CountedKey.formatted = 0
    result = load_dataframe(frame, _contacts("k", preflight=preflight), client=client_for(hub))
    assert [r.key for r in result.rows] == [f"K{i}" for i in range(5)] and result.rows_created == 5
    # Once by the load (checked before preflight, reused to send); preflight checks its frame itself.
    assert CountedKey.formatted == len(keys) * (1 if preflight == "off" else 2)


@pytest.mark.parametrize("keys", [[10, 11, 12, 13], ["a", "b", "c", "d"], [10, 11, 2**40, 13]])
def test_quarantined_rows_keep_the_keys_checked_before_preflight(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient], keys: list[Any]
) -> None:
    frame = pd.DataFrame(
        {"k": keys, "email": ["a@example.com", "not-an-email", "c@example.com", "d@example.com"]}
    )
    result = load_dataframe(frame, _contacts("k", preflight="quarantine"), client=client_for(hub))
    texts = [str(k) for k in keys]
    assert [(r.key, r.position, r.status) for r in result.rows] == [
        (texts[0], 0, CREATED),
        (texts[1], 1, FAILED),
        (texts[2], 2, CREATED),
        (texts[3], 3, CREATED),
    ]
    stored = {o["properties"]["email"]: o["id"] for o in hub.objects("contacts")}
    assert result.id_map == {
        texts[0]: stored["a@example.com"],
        texts[2]: stored["c@example.com"],
        texts[3]: stored["d@example.com"],
    }
