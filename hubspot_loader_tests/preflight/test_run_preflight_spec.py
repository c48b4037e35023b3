"""``run_preflight(df, spec, *, definitions, mapping=None, ...)``: preflight takes the load spec (issue #12).

The spec supplies the object type, key column, associations, schema and zone; the mapping defaults to
what the load settles. The old keyword form still works for one release, with a ``DeprecationWarning``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest

from hubspot_loader.core.plan import property_mapping
from hubspot_loader.core.preflight import run_preflight
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.errors import DuplicateColumnsError, InvalidSpecError, MissingColumnsError
from hubspot_loader_tests.preflight.conftest import Hub

DEPRECATED = r"^run_preflight\(df, object_type=\.\.\.\) is deprecated"


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["k1", "k2", "k3"],
            "email": ["a@example.com", "not-an-email", "c@example.com"],
            "tier": ["gold", "silver", "platinum"],
        }
    )


def verdicts(report: Any) -> list[tuple[str, str | None, str]]:
    return [(p.key, p.column, p.code) for p in report.problems]


def test_the_spec_supplies_the_settings_and_the_mapping_defaults_to_the_loads(hub: Hub) -> None:
    df = frame()
    definitions = hub.definitions("contacts")
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    report = run_preflight(df, spec, definitions=definitions)
    assert verdicts(report) == [("k2", "email", "INVALID_EMAIL"), ("k3", "tier", "INVALID_OPTION")]
    settled = property_mapping(df, spec.properties, key_column=spec.key_column)
    assert settled == {"email": "email", "tier": "tier"}  # the key column is not sent
    assert verdicts(run_preflight(df, spec, definitions=definitions, mapping=settled)) == verdicts(report)
    # the spec's properties choose the columns when no mapping is given
    only_email = spec.replace(properties=["email"])
    assert verdicts(run_preflight(df, only_email, definitions=definitions)) == [
        ("k2", "email", "INVALID_EMAIL")
    ]


def test_a_spec_naming_a_missing_column_is_refused_as_the_load_refuses_it(hub: Hub) -> None:
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id", properties=["emial"])
    with pytest.raises(MissingColumnsError, match="did you mean 'email'"):
        run_preflight(frame(), spec, definitions=hub.definitions("contacts"))


def test_non_str_labels_work_with_the_spec_s_text_names(hub: Hub) -> None:
    # The spec stores column names as text (key_column 7 is "7"); the frame keeps its own labels.
    df = pd.DataFrame(
        [["k1", "Ann", "gold"], ["k2", "Bo", "platinum"]], columns=pd.Index([7, 0, 1.5], dtype=object)
    )
    definitions = hub.definitions("contacts")
    spec = HubSpotLoadSpec(object_type="contacts", key_column=7, properties={0: "firstname", 1.5: "tier"})
    assert spec.key_column == "7"
    expected = [("k2", "1.5", "tier", "INVALID_OPTION")]
    for report in (
        run_preflight(df, spec, definitions=definitions),
        run_preflight(df, spec, definitions=definitions, mapping={0: "firstname", 1.5: "tier"}),
    ):
        assert report.blocking == []
        assert [(p.key, p.column, p.property, p.code) for p in report.problems] == expected
    # a user schema names the frame's own labels; it still runs on them
    user = pa.DataFrameSchema({0: pa.Column(str, pa.Check.isin(["Ann"]))})
    checked = run_preflight(df, spec.replace(schema=user), definitions=definitions)
    assert ("k2", "0", "isin(['Ann'])") in verdicts(checked)
    # 0 and "0" are one name as text: refused before the mapping is settled
    twice = pd.DataFrame([["k1", "Ann", "Bo"]], columns=pd.Index(["id", 0, "0"], dtype=object))
    with pytest.raises(DuplicateColumnsError):
        run_preflight(
            twice, HubSpotLoadSpec(object_type="contacts", key_column="id"), definitions=definitions
        )


def test_a_schema_import_path_is_refused_naming_the_field(hub: Hub) -> None:
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id", schema="hubspot_loader:CONTACTS_SCHEMA")
    with pytest.raises(InvalidSpecError, match=r"schema is an import path.*pass the schema object") as caught:
        run_preflight(frame(), spec, definitions=hub.definitions("contacts"))
    assert caught.value.field == "schema"


def test_the_old_keyword_form_warns_and_gives_the_same_report(hub: Hub) -> None:
    df = frame()
    definitions = hub.definitions("contacts")
    mapping = {"email": "email", "tier": "tier"}
    user = pa.DataFrameSchema({"tier": pa.Column(str, pa.Check.isin(["gold"]), nullable=True)})
    with pytest.warns(DeprecationWarning, match=DEPRECATED) as caught:
        old = run_preflight(
            df, object_type="contacts", definitions=definitions, mapping=mapping, key_column="id",
            schema=user, naive_timezone="Europe/Berlin",
        )  # fmt: skip
    assert caught[0].filename == __file__  # the warning points at the caller
    spec = HubSpotLoadSpec(
        object_type="contacts", key_column="id", schema=user, naive_timezone="Europe/Berlin"
    )
    new = run_preflight(df, spec, definitions=definitions, mapping=mapping)
    assert verdicts(old) == verdicts(new) != []
    assert [p.message for p in old.problems] == [p.message for p in new.problems]


def test_mixed_or_unknown_arguments_are_refused(hub: Hub) -> None:
    definitions = hub.definitions("contacts")
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id")
    with pytest.raises(TypeError, match="got a spec and the deprecated keyword 'key_column'"):
        run_preflight(frame(), spec, definitions=definitions, key_column="id")
    with pytest.raises(TypeError, match="unexpected keyword argument 'key_colum'"):
        run_preflight(frame(), spec, definitions=definitions, key_colum="id")
    with pytest.raises(TypeError, match="missing 1 required argument: 'spec'"):
        run_preflight(frame(), definitions=definitions)
