"""``hubspot-loader load FILE --spec load.yaml``: a load spec file (YAML, TOML, JSON) and the flags over it.

Precedence (docs/cli.md): a flag overrides the file's value of its field; ``--property`` and
``--associate`` replace the file's ``properties`` and ``associations``; ``--keys-from`` sets one
association's id-map file. A bad file is one ``error:`` line naming the file, the field and the reason,
exit 2, with nothing sent.
"""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import requests

from hubspot_loader.cli.spec_file import read_spec_file
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader_tests.loader.cli_support import CliRun, cli

__all__ = ["cli"]

Cli = Callable[..., CliRun]

CONTACTS_YAML = """\
# the contacts of the CRM export
object_type: contact        # singular works too
key_column: id
properties:
  mail: email
  first: firstname
associations:
  - column: company_id
    to_object_type: companies
    keys_from: ids/companies.ids.csv   # relative to this file
unique_property: email
preflight: off                # YAML 1.1 would read this as false
batch_size: 2
"""

CONTACTS_TOML = """\
object_type = "contact"
key_column = "id"
unique_property = "email"
preflight = "off"
batch_size = 2

[properties]
mail = "email"
first = "firstname"

[[associations]]
column = "company_id"
to_object_type = "companies"
keys_from = "ids/companies.ids.csv"
"""

CONTACTS_JSON = json.dumps(
    {
        "object_type": "contact",
        "key_column": "id",
        "properties": {"mail": "email", "first": "firstname"},
        "associations": [
            {"column": "company_id", "to_object_type": "companies", "keys_from": "ids/companies.ids.csv"}
        ],
        "unique_property": "email",
        "preflight": "off",
        "batch_size": 2,
    }
)


@pytest.fixture
def contacts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "mail": ["ann@example.com", "bad-email", "cy@example.com"],
            "first": ["Ann", "Bo", "Cy"],
            "company_id": ["CO-1", "CO-2", "CO-1"],
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture
def company_ids(sandbox: SandboxHandle, tmp_path: Path) -> dict[str, str]:
    """Two companies in the sandbox, and the ``--ids-out`` file of their load under ``specs/ids/``."""
    answer = requests.post(
        f"{sandbox.base_url}/crm/v3/objects/companies/batch/create",
        json={"inputs": [{"properties": {"name": "One"}}, {"properties": {"name": "Two"}}]},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    by_name = {r["properties"]["name"]: r["id"] for r in answer.json()["results"]}
    ids = {"CO-1": by_name["One"], "CO-2": by_name["Two"]}
    path = tmp_path / "specs" / "ids" / "companies.ids.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame({"key": list(ids), "hubspot_id": list(ids.values())}).to_csv(path, index=False)
    return ids


def _spec(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "specs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _load(data: Path, spec: Path, hub: SandboxHandle, *extra: str) -> list[str]:
    return ["load", str(data), "--spec", str(spec), "--base-url", hub.base_url, *extra]


def _one_clean_line(run: CliRun) -> str:
    assert "Traceback" not in run.out + run.err
    assert len(run.error_lines) == 1, run.err
    return run.error_lines[0]


def _companies_of(hub: SandboxHandle) -> dict[str, list[str]]:
    return {
        o["properties"]["email"]: [
            a["toObjectId"] for a in o["associations"] if a["toObjectType"] == "companies"
        ]
        for o in hub.objects("contacts")
    }


@pytest.mark.parametrize(("name", "text"), [("load.yaml", CONTACTS_YAML), ("load.toml", CONTACTS_TOML),
                                           ("load.json", CONTACTS_JSON)])  # fmt: skip
def test_a_spec_file_describes_the_whole_load(
    cli: Cli,
    sandbox: SandboxHandle,
    contacts_csv: Path,
    company_ids: dict[str, str],
    tmp_path: Path,
    name: str,
    text: str,
) -> None:
    spec = _spec(tmp_path, name, text)
    run = cli(_load(contacts_csv, spec, sandbox), token=sandbox.token)
    assert run.code == 1, run.err  # bad-email: with preflight off, HubSpot rejects it
    summary = run.summary()
    assert (summary["object type"], summary["created"], summary["failed"]) == ("contacts", "2", "1")
    assert "held back by preflight" not in summary  # preflight: off, read as the text "off"
    failed = pd.read_csv(tmp_path / "contacts.csv.failed.csv", dtype=str)
    assert list(failed["key"]) == ["2"] and list(failed["category"]) == ["VALIDATION_ERROR"]
    stored = {o["properties"]["email"]: o["properties"].get("firstname") for o in sandbox.objects("contacts")}
    assert stored == {"ann@example.com": "Ann", "cy@example.com": "Cy"}
    assert _companies_of(sandbox) == {
        "ann@example.com": [company_ids["CO-1"]],
        "cy@example.com": [company_ids["CO-1"]],
    }
    assert summary["batches"] == "2"  # batch_size 2 from the file: three rows in two batches


def test_flags_override_the_file_field_by_field(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, company_ids: dict[str, str], tmp_path: Path
) -> None:
    spec = _spec(tmp_path, "load.yaml", CONTACTS_YAML.replace("object_type: contact ", "object_type: deals "))
    run = cli(
        _load(contacts_csv, spec, sandbox, "--object-type", "contacts", "--batch-size", "1",
              "--preflight", "quarantine", "--property", "mail=email"),
        token=sandbox.token,
    )  # fmt: skip
    assert run.code == 1, run.err
    summary = run.summary()
    assert summary["object type"] == "contacts"  # --object-type over the file's deals
    assert (
        summary["batches"] == "2" and summary["held back by preflight"] == "1"
    )  # --batch-size 1, quarantine
    # --property replaced the file's properties: only email is sent; the file's associations still apply
    assert [o["properties"].get("firstname") for o in sandbox.objects("contacts")] == [None, None]
    assert _companies_of(sandbox) == {
        "ann@example.com": [company_ids["CO-1"]],
        "cy@example.com": [company_ids["CO-1"]],
    }


def test_keys_from_flag_overrides_the_files_id_map(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, company_ids: dict[str, str], tmp_path: Path
) -> None:
    other = tmp_path / "swapped.ids.csv"
    pd.DataFrame({"key": ["CO-1", "CO-2"], "hubspot_id": [company_ids["CO-2"], company_ids["CO-1"]]}).to_csv(
        other, index=False
    )
    spec = _spec(tmp_path, "load.yaml", CONTACTS_YAML)
    run = cli(_load(contacts_csv, spec, sandbox, "--keys-from", f"company_id={other}"), token=sandbox.token)
    assert run.code == 1, run.err
    assert _companies_of(sandbox) == {
        "ann@example.com": [company_ids["CO-2"]],
        "cy@example.com": [company_ids["CO-2"]],
    }


def test_failure_threshold_from_the_file_and_the_flag(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, company_ids: dict[str, str], tmp_path: Path
) -> None:
    spec = _spec(tmp_path, "load.yaml", CONTACTS_YAML + "failure_threshold: 1\n")
    writes = sandbox.counters()["write_requests"]
    dry = ["--dry-run", "--preflight", "quarantine"]
    run = cli(_load(contacts_csv, spec, sandbox, *dry), token=sandbox.token)
    assert run.code == 0, run.err  # preflight predicts one rejected row: within the threshold of one
    assert "1 failed row(s) of 3 are within the failure threshold (1): exit 0" in run.out
    run = cli(_load(contacts_csv, spec, sandbox, *dry, "--failure-threshold", "0.1"), token=sandbox.token)
    assert run.code == 1  # a third of the rows is more than 10 %
    run = cli(_load(contacts_csv, spec, sandbox, "--preflight", "quarantine"), token=sandbox.token)
    assert run.code == 0 and run.summary()["failed"] == "1"  # a real run: the same rule
    assert sandbox.counters()["write_requests"] == writes + 1


def test_a_schema_from_the_file_refuses_rows_before_anything_is_sent(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, company_ids: dict[str, str], tmp_path: Path
) -> None:
    module = f"spec_schema_{uuid.uuid4().hex[:8]}"  # imported from the current directory (tmp_path)
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(
            """\
            import pandera.pandas as pa

            SCHEMA = pa.DataFrameSchema({"first": pa.Column(str, pa.Check.str_length(max_value=2))})
            """
        )
    )
    spec = _spec(tmp_path, "load.yaml", CONTACTS_YAML + f"schema: {module}:SCHEMA\n")
    writes = sandbox.counters()["write_requests"]
    run = cli(_load(contacts_csv, spec, sandbox), token=sandbox.token)
    assert run.code == 1
    line = _one_clean_line(run)
    assert "does not pass the schema" in line and "nothing was sent" in line
    failed = pd.read_csv(tmp_path / "contacts.csv.failed.csv", dtype=str)
    assert list(failed["key"]) == ["1"] and list(failed["category"]) == ["SCHEMA"]  # 'Ann' is too long
    assert list(failed["property"]) == ["first"] and "'Ann'" in failed["message"].iloc[0]
    assert sandbox.counters()["write_requests"] == writes


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("load.yaml", "object_typ: contacts\nkey_column: id\n",
         "load.yaml: object_typ is not a spec field (the fields are: archive_limit, associations,"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nbatch_size: 500\n",
         "load.yaml: batch_size must be an integer from 1 to 100 (got 500)"),
        ("load.yaml", "object_type: contacts\nkey_column: id\npreflight: maybe\n",
         "load.yaml: preflight must be one of off, block, quarantine, offline, offline_block (got 'maybe')"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nassociations:\n  - column: company_id\n",
         "load.yaml: associations[0] missing 'to_object_type'"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nnaive_timezone: Mars/Olympus\n",
         "load.yaml: naive_timezone is not an IANA time zone"),
        ("load.yaml", "object_type: contacts\nkey_column: [id\n", "load.yaml: not valid YAML at line 3"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nkey_column: mail\n",
         "load.yaml: not valid YAML at line 3, column 1: 'key_column' is given twice"),
        ("load.yaml", "- object_type: contacts\n",
         "load.yaml: the file must be a mapping of load spec fields"),
        ("load.yaml", "# nothing yet\n", "load.yaml is empty"),
        ("load.yaml", "object_type: contcts\nkey_column: id\n",
         "load.yaml: object_type: unknown object type 'contcts'; did you mean 'contacts'?"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nassociations:\n"
                      "  - {column: company_id, to_object_type: compnies}\n",
         "load.yaml: associations[0].to_object_type: unknown object type 'compnies'; did you mean "
         "'companies'?"),
        ("load.yaml", "object_type: contacts\n",
         "load.yaml: key_column is not set; set it in the file or give --key COLUMN"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nschema: no_such_module_xyz:SCHEMA\n",
         "load.yaml: schema cannot be imported (ModuleNotFoundError"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nschema: json:dumps\n",
         "load.yaml: schema 'json:dumps' is a function, not a pandera DataFrameSchema or DataFrameModel"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nproperties: {mial: email}\n",
         "load.yaml properties column 'mial' (did you mean 'mail'?) is not in the file; its columns are: "
         "id,"),
        ("load.yaml", "object_type: contacts\nkey_column: id\nassociations:\n"
                      "  - {column: company_id, to_object_type: companies, keys_from: gone.ids.csv}\n",
         "load.yaml: associations[0].keys_from: no such file"),
        ("load.toml", 'object_type = "contacts"\nkey_column = \n', "load.toml: not valid TOML: "),
        ("load.json", '{"object_type": "contacts",}', "load.json: not valid JSON at line 1, column 28"),
        ("load.json", '{"object_type": "contacts", "object_type": "deals"}',
         "load.json: not valid as a spec: 'object_type' is given twice"),
    ],
)  # fmt: skip
def test_bad_spec_files_are_one_line_naming_file_field_and_reason(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, tmp_path: Path, name: str, text: str, message: str
) -> None:
    spec = _spec(tmp_path, name, text)
    run = cli(_load(contacts_csv, spec, sandbox), token=sandbox.token)
    assert run.code == 2, run.err
    line = _one_clean_line(run)
    assert message.replace(name, str(spec)) in line, line
    assert sandbox.counters()["requests"] == 0
    assert not (tmp_path / "contacts.csv.failed.csv").exists()


def test_unsupported_or_missing_spec_file(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, tmp_path: Path
) -> None:
    run = cli(_load(contacts_csv, _spec(tmp_path, "load.ini", "x=1\n"), sandbox), token=sandbox.token)
    assert run.code == 2
    assert "unsupported spec file type .ini; give a .yaml (or .yml), .toml or .json file" in _one_clean_line(
        run
    )
    run = cli(_load(contacts_csv, tmp_path / "absent.yaml", sandbox), token=sandbox.token)
    assert run.code == 2
    assert (
        _one_clean_line(run) == f"error: cannot read the spec file {tmp_path / 'absent.yaml'}: no such file"
    )


def test_a_bad_flag_value_is_named_by_its_flag(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, "load.yaml", "object_type: contacts\nkey_column: id\nnaive_timezone: UTC\n")
    run = cli(_load(contacts_csv, spec, sandbox, "--naive-timezone", "Mars/Olympus"), token=sandbox.token)
    assert run.code == 2
    assert _one_clean_line(run).startswith("error: --naive-timezone is not an IANA time zone")
    run = cli(_load(contacts_csv, spec, sandbox, "--failure-threshold", "-1"), token=sandbox.token)
    assert run.code == 2
    assert _one_clean_line(run).startswith("error: --failure-threshold must be a count")
    assert sandbox.counters()["requests"] == 0


def test_object_type_and_key_are_required_from_a_flag_or_the_file(cli: Cli, contacts_csv: Path) -> None:
    run = cli(["load", str(contacts_csv), "--key", "id"], token="t")
    assert run.code == 2
    assert _one_clean_line(run) == (
        "error: --object-type TYPE is required (or a --spec FILE with object_type); see hubspot-loader "
        "load --help"
    )
    run = cli(["load", str(contacts_csv), "--object-type", "contacts"], token="t")
    assert run.code == 2 and _one_clean_line(run).startswith("error: --key COLUMN is required")


def test_dry_run_from_a_spec_file_shows_its_payloads(cli: Cli, contacts_csv: Path, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "load.yml", "object_type: contacts\nkey_column: id\nproperties: [mail]\n")
    run = cli(["load", str(contacts_csv), "--spec", str(spec), "--dry-run", "--preview", "1", "--no-state"])
    assert run.code == 0, run.err
    assert json.loads(run.out[run.out.index("[") :]) == [
        {"objectWriteTraceId": "1", "properties": {"mail": "ann@example.com"}}
    ]


def _doc_block(language: str, marker: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    blocks = re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)
    return next(block for block in blocks if marker in block)


def test_the_documented_spec_files_are_valid_and_agree(tmp_path: Path) -> None:
    yaml_file = _spec(tmp_path, "contacts.load.yaml", _doc_block("yaml", "# contacts.load.yaml"))
    toml_file = _spec(tmp_path, "contacts.load.toml", _doc_block("toml", 'object_type = "contacts"'))
    from_yaml = read_spec_file(yaml_file)
    assert from_yaml.pop("schema") == "my_project.schemas:CONTACTS"  # a placeholder module
    yaml_spec = HubSpotLoadSpec.from_mapping(from_yaml)
    toml_spec = HubSpotLoadSpec.from_mapping(read_spec_file(toml_file))
    assert yaml_spec.preflight == "quarantine" and yaml_spec.failure_threshold == 0.05
    for field in ("object_type", "key_column", "properties", "associations", "preflight"):
        assert getattr(yaml_spec, field) == getattr(toml_spec, field), field
