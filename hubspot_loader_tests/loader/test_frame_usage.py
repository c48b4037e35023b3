"""Issue #11: frames whose shape is hostile (column names, keys, cells the converter does not expect),
through ``load_dataframe`` into a sandbox over HTTP.

- duplicate column names are a named usage error raised before any request;
- non-``str`` column names are addressed as text, mapped, as key column and as association column;
- nothing but the documented exceptions escapes, and a row problem stays a row problem.
"""

from __future__ import annotations

import tempfile
from collections.abc import Hashable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hubspot_loader.core.model import CREATED, FAILED, AssociationColumn
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.errors import (
    DuplicateColumnsError,
    InvalidKeysError,
    LoadUsageError,
    MissingColumnsError,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import DataValidationError, HubSpotLoadSpec, PreflightMode, load_dataframe
from hubspot_loader.sandbox import SandboxHandle, start_sandbox
from hubspot_loader.state.ledger import SQLiteLedger
from hubspot_loader_tests.loader.conftest import loader_config

DOCUMENTED = (LoadUsageError, DataValidationError, PreflightError)
"""What ``load_dataframe`` may raise for a frame against a healthy sandbox (LoadAborted only on a stop)."""


class Unprintable:
    """A cell whose ``str()`` raises: no formatter rule expects it."""

    def __str__(self) -> str:
        raise RuntimeError("this object cannot be printed")

    __repr__ = __str__


class UnhashableDecimal(Decimal):
    """A ``Decimal`` whose hash raises (the formatter's vectorized path for decimals hashes them)."""

    def __hash__(self) -> int:
        raise RuntimeError("no hash for this decimal")


@pytest.fixture(scope="module")
def shared_hub() -> Iterator[SandboxHandle]:
    handle = start_sandbox(loader_config(host="127.0.0.1", port=0, rate_limit_per_10s=100_000))
    yield handle
    handle.stop()


@pytest.fixture
def hub(shared_hub: SandboxHandle) -> SandboxHandle:
    shared_hub.reset()
    return shared_hub


def _load(
    hub: SandboxHandle,
    frame: pd.DataFrame,
    *,
    object_type: str = "contacts",
    preflight: PreflightMode = "off",
    ledger: SQLiteLedger | None = None,
    id_maps: dict[str, dict[str, Any]] | None = None,
    dry_run: bool = False,
    **spec_options: Any,
) -> Any:
    """Load ``frame`` into ``hub``: ``spec_options`` are the other :class:`HubSpotLoadSpec` fields."""
    spec = HubSpotLoadSpec(object_type=object_type, preflight=preflight, **spec_options)
    unpaced = ClientSettings(requests_per_10s=100_000)
    with HubSpotClient(hub.token, base_url=hub.base_url, settings=unpaced) as client:
        return load_dataframe(frame, spec, client=client, ledger=ledger, id_maps=id_maps, dry_run=dry_run)


def _frame(columns: list[Hashable], rows: int = 2) -> pd.DataFrame:
    data = [[f"v{i}-{j}" for j in range(len(columns))] for i in range(rows)]
    frame = pd.DataFrame(data)
    frame.columns = pd.Index(columns, dtype=object)
    return frame


# ------------------------------------------------------------------ duplicate column names


@pytest.mark.parametrize("preflight", ["off", "quarantine", "block"])
@pytest.mark.parametrize(
    ("columns", "repeated"),
    [
        (["key", "email", "key"], "key"),  # the key column twice
        (["key", "email", "email"], "email"),  # a sent property twice
        (["key", "email", "note", "note"], "note"),  # a column the load does not even send
        (["key", "email", 0, "0"], "0"),  # different labels, the same name as text
    ],
)
def test_duplicate_column_names_are_refused_before_any_request(
    hub: SandboxHandle, preflight: str, columns: list[Hashable], repeated: str
) -> None:
    frame = _frame(columns)
    before = hub.counters()["requests"]
    with pytest.raises(DuplicateColumnsError) as caught:
        _load(hub, frame, key_column="key", properties={"email": "email"}, preflight=preflight)
    assert isinstance(caught.value, LoadUsageError) and isinstance(caught.value, ValueError)
    assert caught.value.columns == [repeated]
    assert f"{repeated!r} at column positions" in str(caught.value) and "\n" not in str(caught.value)
    assert hub.counters()["requests"] == before  # not even a properties read


NAMES = st.sampled_from(["key", "email", "firstname", 0, "0", 1, 1.5, "1.5", ("a", "b")])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, min_size=1, max_size=6), dry_run=st.booleans())
def test_any_repeated_name_as_text_is_refused_and_no_other_is(
    hub: SandboxHandle, names: list[Hashable], dry_run: bool
) -> None:
    frame = _frame(["key", *names], rows=1)
    texts = [str(n) for n in frame.columns]
    try:
        _load(hub, frame, key_column="key", dry_run=dry_run, properties={})
    except DuplicateColumnsError as exc:
        assert exc.columns == sorted({t for t in texts if texts.count(t) > 1}, key=texts.index)
    else:
        assert len(set(texts)) == len(texts)


# ------------------------------------------------------------------ non-str column names


@pytest.mark.parametrize("label", [0, 7, 1.5, ("first", "name")])
@pytest.mark.parametrize("as_text", [False, True])
def test_non_str_column_names_work_when_mapped(hub: SandboxHandle, label: Hashable, as_text: bool) -> None:
    frame = pd.DataFrame({"key": ["A", "B"], "email": ["a@example.com", "b@example.com"]})
    frame[label] = ["Ada", "Bo"]  # type: ignore[index]
    mapping = {str(label) if as_text else label: "firstname", "email": "email"}
    result = _load(hub, frame, key_column="key", properties=mapping, preflight="quarantine")
    assert [r.status for r in result.rows] == [CREATED, CREATED]
    stored = {o["properties"]["email"]: o["properties"].get("firstname") for o in hub.objects("contacts")}
    assert stored == {"a@example.com": "Ada", "b@example.com": "Bo"}


def test_non_str_key_and_association_columns(hub: SandboxHandle) -> None:
    companies = _load(
        hub, pd.DataFrame({"ck": ["C1"], "name": ["Acme"]}), object_type="companies", key_column="ck"
    )
    company_id = companies.id_map["C1"]
    frame = pd.DataFrame({"email": ["a@example.com", "b@example.com"]})
    frame[3] = [101, 102]  # the warehouse key, in a column labelled 3
    frame[9] = [company_id, None]  # the company's HubSpot id, in a column labelled 9
    result = _load(
        hub,
        frame,
        key_column=3,  # type: ignore[arg-type]
        properties={"email": "email"},
        associations=[AssociationColumn(9, "companies")],  # type: ignore[arg-type]
        preflight="quarantine",
    )
    assert [(r.key, r.status) for r in result.rows] == [("101", CREATED), ("102", CREATED)]
    first = hub.get_object("contacts", result.id_map["101"])
    assert first is not None
    assert [(a["toObjectType"], a["toObjectId"]) for a in first["associations"]] == [
        ("companies", company_id)
    ]


def test_a_missing_column_is_named_truthfully(hub: SandboxHandle) -> None:
    frame = pd.DataFrame({"key": ["A"], 0: ["x"]})
    with pytest.raises(MissingColumnsError) as caught:
        _load(hub, frame, key_column="key", properties={"zero": "firstname", 0: "lastname"})
    message = str(caught.value)
    assert message == "property column 'zero' is not in the frame; its columns are: 'key', '0'"
    assert isinstance(caught.value, KeyError) and caught.value.columns == ["zero"]
    with pytest.raises(MissingColumnsError, match=r"^key column 'customer_id' is not in the frame"):
        _load(hub, frame, key_column="customer_id", properties={0: "lastname"})


# ------------------------------------------------------------------ the Raises list


@pytest.mark.parametrize("preflight", ["off", "quarantine"])
@pytest.mark.parametrize("ledger", [False, True])
def test_a_cell_the_converter_does_not_expect_fails_only_its_row(
    hub: SandboxHandle, preflight: str, ledger: bool, tmp_path: Any
) -> None:
    frame = pd.DataFrame(
        {
            "key": ["A", "B", "C"],
            "email": ["a@example.com", "b@example.com", "c@example.com"],
            "firstname": pd.Series(["Ada", Unprintable(), "Cy"], dtype=object),
        }
    )
    state = SQLiteLedger(tmp_path / "state.sqlite") if ledger else None
    result = _load(hub, frame, key_column="key", preflight=preflight, ledger=state)
    assert [r.status for r in result.rows] == [CREATED, FAILED, CREATED]
    error = result.rows[1].error
    assert error is not None and error.property == "firstname" and "cannot be printed" in error.message
    assert hub.counts()["contacts"] == 2


@pytest.mark.parametrize("preflight", ["off", "quarantine"])
@pytest.mark.parametrize("ledger", [False, True])
def test_a_key_that_is_not_valid_unicode_is_a_usage_error(
    hub: SandboxHandle, ledger: bool, preflight: str, tmp_path: Any
) -> None:
    # JSON, HubSpot and the ledger cannot hold a lone surrogate: the formatter refuses such a key, so
    # the key column is refused with the key's position before anything is sent.
    frame = pd.DataFrame(
        {"key": ["A", "B\ud800", "C"], "email": ["a@example.com", "b@example.com", "c@example.com"]}
    )
    state = SQLiteLedger(tmp_path / "state.sqlite") if ledger else None
    with pytest.raises(InvalidKeysError) as caught:
        _load(hub, frame, key_column="key", ledger=state, preflight=preflight)
    assert "key column 'key'" in str(caught.value) and "position 1" in str(caught.value)
    assert "lone surrogate" in str(caught.value)
    assert hub.counters()["requests"] == 0  # not even preflight's reads


@pytest.mark.parametrize("ledger", [False, True])
def test_a_property_name_that_is_not_valid_unicode_is_a_usage_error(
    hub: SandboxHandle, ledger: bool, tmp_path: Any
) -> None:
    frame = pd.DataFrame({"key": ["A", "B"], "email": ["a@example.com", "b@example.com"], "n": ["x", "y"]})
    state = SQLiteLedger(tmp_path / "state.sqlite") if ledger else None
    with pytest.raises(
        LoadUsageError, match=r"column 'n' maps to property 'first\\ud800name'.*lone surrogate"
    ):
        _load(
            hub, frame, key_column="key", properties={"email": "email", "n": "first\ud800name"}, ledger=state
        )
    assert hub.counters()["write_requests"] == 0


@pytest.mark.parametrize("bad_id", ["10\udc802", ["1", "2"], None])
def test_an_id_map_id_that_cannot_be_sent_is_a_usage_error(hub: SandboxHandle, bad_id: Any) -> None:
    frame = pd.DataFrame({"key": ["A", "B"], "email": ["a@example.com", "b@example.com"], "co": ["C1", "C2"]})
    id_map = {"C1": "101", "C2": bad_id}
    with pytest.raises(
        LoadUsageError, match=r"id map 'companies': the HubSpot id of key\(s\) 'C2' is not valid"
    ):
        _load(
            hub,
            frame,
            key_column="key",
            properties={"email": "email"},
            associations=[AssociationColumn("co", "companies", keys_from="companies")],
            id_maps={"companies": id_map},
        )
    assert hub.counters()["write_requests"] == 0


def test_a_missing_column_names_the_closest_column(hub: SandboxHandle) -> None:
    frame = pd.DataFrame({"key": ["A"], "mail": ["a@example.com"], "first": ["Ada"]})
    with pytest.raises(MissingColumnsError) as caught:
        _load(hub, frame, key_column="key", properties={"mial": "email"})
    assert str(caught.value) == (
        "property column 'mial' is not in the frame; its columns are: 'key', 'mail', 'first' "
        "(did you mean 'mail'?)"
    )
    with pytest.raises(MissingColumnsError) as caught:
        _load(hub, frame, key_column="kye", properties={"mial": "email", "frist": "firstname"})
    assert str(caught.value).endswith(
        "(did you mean 'key' for 'kye', 'mail' for 'mial', 'first' for 'frist'?)"
    ), str(caught.value)
    assert caught.value.columns == ["kye", "mial", "frist"]


def test_a_column_the_vectorized_formatter_fails_on_is_sent_exactly(hub: SandboxHandle) -> None:
    # Deduplicating a decimal column hashes its cells: these cannot be hashed, so the column is
    # formatted cell by cell, and every value arrives as it is.
    frame = pd.DataFrame(
        {
            "key": ["A", "B"],
            "email": ["a@example.com", "b@example.com"],
            "employee_number": pd.Series([UnhashableDecimal("12.50"), UnhashableDecimal("7")], dtype=object),
        }
    )
    result = _load(hub, frame, key_column="key")
    assert [r.status for r in result.rows] == [CREATED, CREATED]
    stored = {o["properties"]["email"]: o["properties"]["employee_number"] for o in hub.objects("contacts")}
    assert stored == {"a@example.com": "12.50", "b@example.com": "7"}


def test_an_unreadable_key_is_a_usage_error(hub: SandboxHandle) -> None:
    frame = pd.DataFrame(
        {"key": pd.Series(["A", Unprintable()], dtype=object), "email": ["a@x.com", "b@x.com"]}
    )
    with pytest.raises(InvalidKeysError, match="key column 'key'"):
        _load(hub, frame, key_column="key")
    assert hub.counters()["write_requests"] == 0


CELLS = st.one_of(
    st.sampled_from(
        [None, float("nan"), float("inf"), 10**400, "ok", "", "\x00", "\udc80", b"\xff", {"a": 1}]
    ),
    st.builds(Unprintable),
    st.text(max_size=5),
)
HOSTILE_KEYS = st.one_of(st.sampled_from([None, "\ud800", 1.0, "k0"]), st.builds(Unprintable))


@st.composite
def key_lists(draw: st.DrawFn) -> list[Any]:
    """Distinct keys, one of them sometimes replaced by a null, a duplicate or an unreadable one."""
    keys: list[Any] = [f"k{i}" for i in range(draw(st.integers(1, 4)))]
    if draw(st.integers(0, 3)) == 0:
        keys[draw(st.integers(0, len(keys) - 1))] = draw(HOSTILE_KEYS)
    return keys


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=key_lists(),
    cells=st.lists(CELLS, min_size=4, max_size=4),
    preflight=st.sampled_from(["off", "quarantine", "block"]),
    dry_run=st.booleans(),
    ledger=st.booleans(),
)
def test_only_documented_exceptions_escape_and_every_row_is_reported(
    hub: SandboxHandle, keys: list[Any], cells: list[Any], preflight: str, dry_run: bool, ledger: bool
) -> None:
    hub.reset()
    with tempfile.TemporaryDirectory() as state_dir:
        state = SQLiteLedger(Path(state_dir) / "state.sqlite") if ledger else None
        try:
            _check_hostile_load(hub, keys, cells, preflight, dry_run, state)
        finally:
            if state is not None:
                state.close()


def _check_hostile_load(
    hub: SandboxHandle,
    keys: list[Any],
    cells: list[Any],
    preflight: str,
    dry_run: bool,
    ledger: SQLiteLedger | None,
) -> None:
    rows = len(keys)
    frame = pd.DataFrame(
        {
            "key": pd.Series(keys, dtype=object),
            "firstname": pd.Series(cells[:rows], dtype=object),
            "email": [f"p{i}@example.com" for i in range(rows)],
        }
    )
    try:
        result = _load(hub, frame, key_column="key", preflight=preflight, dry_run=dry_run, ledger=ledger)
    except DOCUMENTED as exc:
        event(f"refused: {type(exc).__name__}")
        assert hub.counters()["write_requests"] == 0
        return
    event("loaded")
    assert sorted(r.position for r in result.rows) == list(range(rows))
    for row in result.rows:
        if row.status == FAILED:
            assert row.error is not None and row.error.message
    created = [r for r in result.rows if r.status == CREATED]
    assert hub.counts().get("contacts", 0) == len(created)
