"""The load spec checks itself when made: each wrong field is named with the reason (issue #12)."""

from __future__ import annotations

from typing import Any

import pytest

from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.spec import HubSpotLoadSpec, field_docs
from hubspot_loader.errors import HubSpotLoaderError, InvalidSpecError, LoadUsageError


def test_a_spec_normalises_lists_and_association_mappings() -> None:
    spec = HubSpotLoadSpec(
        object_type="contacts",
        key_column="contact_key",
        properties=["email", "firstname"],
        associations=[{"column": "company_key", "to_object_type": "companies", "keys_from": "companies"}],
    )
    assert spec.properties == ("email", "firstname")
    assert spec.associations == (AssociationColumn("company_key", "companies", keys_from="companies"),)
    assert spec.preflight == "quarantine"
    assert spec.replace(batch_size=10).batch_size == 10


def test_column_labels_are_compared_as_text() -> None:
    spec = HubSpotLoadSpec(
        object_type="contacts",
        key_column=3,
        properties={0: "email"},  # type: ignore[arg-type,dict-item]
        associations=[AssociationColumn(7, "companies")],  # type: ignore[arg-type]
    )
    assert spec.key_column == "3"
    assert spec.properties == {"0": "email"}
    assert spec.associations[0].column == "7"


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"object_type": ""}, "object_type", "non-empty string"),
        ({"object_type": "deals", "batch_size": 101}, "batch_size", "from 1 to 100"),
        ({"object_type": "deals", "batch_size": True}, "batch_size", "from 1 to 100"),
        ({"object_type": "deals", "preflight": "strict"}, "preflight", "one of off, block, quarantine"),
        ({"object_type": "deals", "naive_timezone": "Mars/Olympus"}, "naive_timezone", "IANA time zone"),
        ({"object_type": "deals", "failure_threshold": -1}, "failure_threshold", "count"),
        ({"object_type": "deals", "failure_threshold": float("nan")}, "failure_threshold", "count"),
        ({"object_type": "deals", "properties": "email"}, "properties", "list of columns"),
        ({"object_type": "deals", "properties": {"a": 1}}, "properties", "not a property name"),
        ({"object_type": "deals", "associations": [{"column": "x"}]}, "associations[0]", "to_object_type"),
        (
            {
                "object_type": "deals",
                "associations": [{"column": "x", "to_object_type": "companies", "type_id": "279"}],
            },
            "associations[0].type_id",
            "integer",
        ),
        ({"object_type": "deals", "schema": "no_colon"}, "schema", "package.module:NAME"),
    ],
)
def test_each_wrong_field_is_named_with_its_reason(fields: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        HubSpotLoadSpec(**fields)
    assert caught.value.field == field
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, LoadUsageError) and isinstance(caught.value, HubSpotLoaderError)


def test_from_mapping_refuses_unknown_keys_and_needs_the_object_type() -> None:
    with pytest.raises(InvalidSpecError, match="bacth_size is not a spec field"):
        HubSpotLoadSpec.from_mapping({"object_type": "deals", "bacth_size": 5})
    with pytest.raises(InvalidSpecError, match="object_type is required"):
        HubSpotLoadSpec.from_mapping({"key_column": "k"})
    spec = HubSpotLoadSpec.from_mapping({"object_type": "deals", "key_column": "deal_key", "batch_size": 50})
    assert (spec.object_type, spec.key_column, spec.batch_size) == ("deals", "deal_key", 50)


def test_threshold_is_a_count_or_a_fraction() -> None:
    count = HubSpotLoadSpec(object_type="deals", failure_threshold=2)
    fraction = HubSpotLoadSpec(object_type="deals", failure_threshold=0.1)
    assert not count.threshold_exceeded(2, 100) and count.threshold_exceeded(3, 100)
    assert not fraction.threshold_exceeded(10, 100) and fraction.threshold_exceeded(11, 100)
    assert not HubSpotLoadSpec(object_type="deals").threshold_exceeded(100, 100)


def test_every_field_has_a_description() -> None:
    docs = field_docs()
    assert next(iter(docs)) == "object_type"
    assert all(text.strip() for text in docs.values())
