"""Unit tests of result matching and error parsing (pure functions, HubSpot-shaped bodies)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hubspot_loader.core.batching import match_results, parse_time, row_error
from hubspot_loader.core.model import CREATED, FAILED, PreparedInput


def inputs(n: int) -> list[PreparedInput]:
    return [
        PreparedInput(position=i, key=f"k{i}", trace_id=f"t{i}", properties={"email": f"u{i}@x.com"})
        for i in range(n)
    ]


def test_shuffled_results_are_matched_by_trace_id_not_position() -> None:
    rows = inputs(4)
    body = {"results": [{"id": str(100 + i), "objectWriteTraceId": f"t{i}"} for i in (3, 1, 0, 2)]}
    matched = match_results(rows, body, http_status=201, batch_index=7, unique_property=None)
    assert {t: o.hubspot_id for t, o in matched.outcomes.items()} == {
        "t0": "100",
        "t1": "101",
        "t2": "102",
        "t3": "103",
    }
    assert all(o.status == CREATED and o.batch_index == 7 for o in matched.outcomes.values())
    assert (matched.created, matched.failed) == (4, 0)


def test_207_error_items_fail_their_rows_with_readable_reasons() -> None:
    rows = inputs(2)
    inner = [
        {
            "isValid": False,
            "message": "Email address bad is invalid",
            "error": "INVALID_EMAIL",
            "name": "email",
        }
    ]
    body = {
        "results": [{"id": "5", "objectWriteTraceId": "t0"}],
        "errors": [
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "Property values were not valid: " + json.dumps(inner),
                "context": {"objectWriteTraceId": ["t1"]},
            }
        ],
    }
    matched = match_results(rows, body, http_status=207, batch_index=0, unique_property=None)
    failed = matched.outcomes["t1"]
    assert failed.status == FAILED
    assert failed.error is not None
    assert failed.error.category == "VALIDATION_ERROR"
    assert failed.error.code == "INVALID_EMAIL"
    assert failed.error.property == "email"
    assert failed.error.message == "Email address bad is invalid"
    assert failed.error.http_status == 207
    assert matched.outcomes["t0"].hubspot_id == "5"


def test_results_without_trace_id_fall_back_to_unique_property() -> None:
    rows = inputs(3)
    body = {"results": [{"id": str(10 + i), "properties": {"email": f"U{i}@x.com"}} for i in (2, 0, 1)]}
    matched = match_results(rows, body, http_status=201, batch_index=0, unique_property="email")
    assert {t: o.hubspot_id for t, o in matched.outcomes.items()} == {"t0": "10", "t1": "11", "t2": "12"}


def test_single_unmatched_result_goes_to_the_single_unmatched_input() -> None:
    rows = inputs(2)
    body = {"results": [{"id": "1", "objectWriteTraceId": "t0"}, {"id": "2"}]}
    matched = match_results(rows, body, http_status=201, batch_index=0, unique_property=None)
    assert matched.outcomes["t1"].status == CREATED
    assert matched.outcomes["t1"].hubspot_id == "2"


def test_never_guesses_between_several_unmatched_results() -> None:
    rows = inputs(3)
    body = {"results": [{"id": "1", "objectWriteTraceId": "t0"}, {"id": "2"}, {"id": "3"}]}
    matched = match_results(rows, body, http_status=201, batch_index=0, unique_property=None)
    assert matched.outcomes["t0"].status == CREATED
    for trace in ("t1", "t2"):
        outcome = matched.outcomes[trace]
        assert outcome.status == FAILED
        assert outcome.error is not None
        assert "could not be matched" in outcome.error.message


def test_row_missing_from_answer_fails_with_reason() -> None:
    rows = inputs(2)
    matched = match_results(
        rows,
        {"results": [{"id": "1", "objectWriteTraceId": "t0"}]},
        http_status=201,
        batch_index=0,
        unique_property=None,
    )
    assert matched.outcomes["t1"].status == FAILED
    assert matched.outcomes["t1"].error is not None
    assert "neither a result nor an error" in matched.outcomes["t1"].error.message


def test_row_error_from_errors_array_and_association_context() -> None:
    body = {
        "status": "error",
        "message": "Property values were not valid",
        "category": "VALIDATION_ERROR",
        "errors": [
            {
                "message": "discount was not a valid number",
                "code": "INVALID_INTEGER",
                "context": {"propertyName": ["discount"]},
            }
        ],
    }
    error = row_error(body, http_status=400)
    assert (error.code, error.property, error.http_status) == ("INVALID_INTEGER", "discount", 400)
    assoc = row_error(
        {
            "status": "error",
            "message": "One or more associations are invalid",
            "category": "VALIDATION_ERROR",
            "context": {"INVALID_OBJECT_IDS": ["COMPANY=999 is not valid"]},
        },
        http_status=400,
    )
    assert assoc.message == "One or more associations are invalid: COMPANY=999 is not valid"
    assert row_error("<html>bad gateway</html>", http_status=502).message == "<html>bad gateway</html>"


def test_parse_time() -> None:
    expected = datetime(2026, 6, 24, 19, 4, 33, 409000, tzinfo=timezone.utc)
    assert parse_time("2026-06-24T19:04:33.409Z") == expected
    assert parse_time("2026-06-24T19:04:33") is None  # naive: refuse rather than guess the zone
    assert parse_time(None) is None
    assert parse_time("nonsense") is None
