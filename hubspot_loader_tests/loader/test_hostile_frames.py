"""Acceptance property test (issue #11): hostile DataFrames through ``load_dataframe`` into a sandbox.

Each example is a small frame of hostile columns (see ``hostile_values.SPEC`` for every value class and
what it requires) loaded into a custom object whose properties fit each column's type. For every example:

- no exception other than the documented ones escapes, and those only where ``FRAME_SPEC`` allows them;
- every row is either created exactly once with exactly the value in the frame (read back from the
  sandbox's inspection API, compared with texts computed independently of the loader), or reported
  failed with its key and position, the column at fault and a reason; never both, never neither, and the
  sandbox holds no object that is not one created row.

One sandbox serves the module; it is reset before every example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from hubspot_loader import (
    ClientSettings,
    DataValidationError,
    HubSpotClient,
    HubSpotLoadSpec,
    LoadAborted,
    LoadResult,
    RowError,
    RowOutcome,
    load_dataframe,
)
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.errors import LoadUsageError
from hubspot_loader.sandbox import CustomObjectConfig, SandboxConfig, SandboxHandle, start_sandbox
from hubspot_loader_tests.loader.hostile_frames import KNOWN_CASES, Case, hostile_cases
from hubspot_loader_tests.loader.hostile_frames import short as _short
from hubspot_loader_tests.loader.hostile_values import OBJECT_TYPE, PROPERTIES, PROPERTY_TYPES, Expect

BLAMABLE = (Expect.REJECT, Expect.EITHER)
USAGE_ERRORS = (LoadUsageError, DataValidationError)
"""How a usage error (FRAME_SPEC) is refused, before anything is sent."""


@pytest.fixture(scope="module")
def hostile_hub() -> Iterator[SandboxHandle]:
    """One sandbox for the module, with the custom object ``p_hostile`` and generous rate limits."""
    hostile = CustomObjectConfig(name="hostile", type_id="2-7011", properties=PROPERTIES)
    config = SandboxConfig(
        host="127.0.0.1", port=0, custom_objects=(hostile,), rate_limit_per_10s=100_000, daily_limit=10**9
    )
    handle = start_sandbox(config)
    yield handle
    handle.stop()


def _same(prop: str, stored: str, expected: str) -> bool:
    if PROPERTY_TYPES[prop] != "number":
        return stored == expected
    try:
        return Decimal(stored) == Decimal(expected)
    except InvalidOperation:
        return False


def _error_text(error: RowError | None) -> str:
    if error is None:
        return "no error"
    return f"{error.category}/{error.code} on {error.property!r}: {_short(error.message)}"


def _stored_problems(case: Case, position: int, obj: dict[str, Any]) -> list[str]:
    """Differences between one stored object and what its row must hold."""
    problems = []
    if position in case.keys.bad and case.keys.problem != "duplicate key":
        problems.append(f"row {position}: its key is a {case.keys.problem}, but it was created")
    properties = obj.get("properties") or {}
    for column, cell in case.row_cells(position):
        stored = properties.get(column.prop) or None  # "" is no value
        where = f"row {position} column {column.name!r} ({cell.kind} {_short(cell.value)})"
        if cell.expect is Expect.REJECT:
            problems.append(f"{where}: must be rejected, but the row was created with {_short(stored)}")
        elif cell.expect is Expect.OMIT and stored is not None:
            problems.append(f"{where}: must be omitted, HubSpot holds {_short(stored)}")
        elif cell.text is not None and (stored is None or not _same(column.prop, stored, cell.text)):
            problems.append(f"{where}: HubSpot holds {_short(stored)}, the frame says {_short(cell.text)}")
    return problems


def _failure_problems(case: Case, position: int, row: RowOutcome) -> list[str]:
    """Whether a failed row was allowed to fail, and whether its report names the column and a reason."""
    blamable = [c for c, cell in case.row_cells(position) if cell.expect in BLAMABLE]
    names = {str(c.name) for c in blamable} | {c.prop for c in blamable}
    if position in case.keys.bad:
        names.add(str(case.key_column))
    where = f"row {position} (key {case.keys.texts[position]!r})"
    if row.error is None or not str(row.error.message).strip():
        return [f"{where}: failed without a reason ({_error_text(row.error)})"]
    if not names:
        cells = ", ".join(f"{c.name!r}={cell.kind}" for c, cell in case.row_cells(position)[1:])
        return [f"{where}: every cell is acceptable ({cells}) but it failed: {_error_text(row.error)}"]
    if row.error.property not in names:
        named = f"the failure names {row.error.property!r}, not one of {sorted(names)}"
        return [f"{where}: {named}: {_error_text(row.error)}"]
    return []


def _row_problems(case: Case, row: RowOutcome, by_tag: dict[str, dict[str, Any]]) -> list[str]:
    position = row.position
    problems = []
    expected_key = case.keys.texts[position]
    if expected_key is not None and row.key != expected_key:
        problems.append(f"row {position}: reported with key {row.key!r}, not {expected_key!r}")
    obj = by_tag.get(f"t{position}")
    if row.status in ("created", "reconciled"):
        if obj is None or str(obj.get("id")) != str(row.hubspot_id):
            return [
                *problems,
                f"row {position}: reported created as {row.hubspot_id}, HubSpot has {_short(obj)}",
            ]
        return problems + _stored_problems(case, position, obj)
    if row.status != "failed":
        return [*problems, f"row {position}: status {row.status!r}, neither created nor failed"]
    if obj is not None:
        problems.append(f"row {position}: reported failed, but HubSpot holds it")
    return problems + _failure_problems(case, position, row)


def check_result(case: Case, result: LoadResult, stored: list[dict[str, Any]]) -> None:
    """Every row created exactly once with its values, or failed with a column and reason; nothing else."""
    rows = len(case.frame)
    problems = []
    if case.usage_error is not None:
        problems.append(f"{case.usage_error}: expected LoadUsageError, the load returned a result")
    outcomes = list(result.rows)
    if sorted(r.position for r in outcomes) != list(range(rows)):
        problems.append(
            f"positions {sorted(r.position for r in outcomes)}: not one outcome per row 0..{rows - 1}"
        )
    by_tag: dict[str, dict[str, Any]] = {}
    for obj in stored:
        tag = str((obj.get("properties") or {}).get("h_tag"))
        if tag in by_tag:
            problems.append(f"HubSpot holds two objects of row {tag}: duplicates")
        by_tag[tag] = obj
    created = [r for r in outcomes if r.status in ("created", "reconciled")]
    if len(stored) != len(created):
        problems.append(f"HubSpot holds {len(stored)} objects, {len(created)} rows were reported created")
    if len([r for r in created if r.position in case.keys.bad]) > 1:
        problems.append(f"two rows with the {case.keys.problem} {case.keys.texts} were both created")
    for row in outcomes:
        if 0 <= row.position < rows:
            problems.extend(_row_problems(case, row, by_tag))
    assert not problems, "\n".join(problems)


def check_refusal(case: Case, exc: Exception, stored: list[dict[str, Any]]) -> None:
    """A refusal is allowed only as FRAME_SPEC says, names its cause, and nothing was sent."""
    kind = type(exc).__name__
    message = " | ".join(str(exc).splitlines())
    problems = [f"{kind} but {len(stored)} object(s) were created"] if stored else []
    blamable = any(cell.expect in BLAMABLE for c in case.columns for cell in c.cells)
    if case.usage_error is not None:
        if not isinstance(exc, USAGE_ERRORS):
            problems.append(f"{case.usage_error}: expected LoadUsageError, got {kind}: {message:.300}")
        elif case.named is not None and case.named not in message:
            problems.append(
                f"{case.usage_error}: the {kind} message does not name {case.named!r}: {message:.300}"
            )
    elif isinstance(exc, USAGE_ERRORS):
        names = [str(c.name) for c in case.columns if not isinstance(c.name, str)]
        if case.keys.problem is not None:
            if "key" not in message:
                problems.append(
                    f"{case.keys.problem}: the {kind} does not name the key column: {message:.300}"
                )
        elif not any(n in message for n in names):
            problems.append(f"{kind} on a frame without a usage error: {message:.300}")
    elif case.preflight != "block":
        problems.append(
            f"preflight={case.preflight!r} must not raise for row problems: {kind}: {message:.300}"
        )
    elif not blamable and case.keys.problem is None:
        problems.append(f"preflight blocked a frame every cell of which HubSpot takes: {message:.300}")
    assert not problems, "\n".join(problems)


def _with_known_cases(test: Callable[..., None]) -> Callable[..., None]:
    """Run every KNOWN_CASES frame as an explicit example, before the generated ones."""
    for _defect, case in reversed(KNOWN_CASES):
        test = example(case=case)(test)
    return test


@settings(
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@_with_known_cases
@given(case=hostile_cases())
def test_hostile_frames_are_created_exactly_or_reported(hostile_hub: SandboxHandle, case: Case) -> None:
    hostile_hub.reset()
    unpaced = ClientSettings(requests_per_10s=100_000)
    with HubSpotClient(hostile_hub.token, base_url=hostile_hub.base_url, settings=unpaced) as client:
        try:
            spec = HubSpotLoadSpec(
                object_type=OBJECT_TYPE,
                properties=case.mapping,
                key_column=case.key_column,
                naive_timezone=case.naive_timezone,
                batch_size=case.batch_size,
                preflight=case.preflight,  # type: ignore[arg-type]
            )
            result = load_dataframe(case.frame, spec, client=client)
        except (*USAGE_ERRORS, PreflightError) as exc:
            check_refusal(case, exc, hostile_hub.objects(OBJECT_TYPE))
            return
        except LoadAborted as exc:
            cause = exc.__cause__
            pytest.fail(
                f"a healthy sandbox, yet the load stopped: {exc} (cause {type(cause).__name__}: {cause})"
            )
    check_result(case, result, hostile_hub.objects(OBJECT_TYPE))
