"""``hubspot-loader load`` as a new user makes mistakes: one line saying what to do, the right exit code.

Exit codes: 0 every row created or skipped, 1 some rows rejected, 2 usage or configuration error
(nothing sent), 3 the load stopped (token refused, missing scope, daily limit, HubSpot unreachable).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubspot_loader.cli import main
from hubspot_loader.cli.checks import PROBE_ATTEMPTS
from hubspot_loader.cli.objects import STANDARD_OBJECT_TYPES
from hubspot_loader.sandbox import FaultConfig, SandboxConfig, SandboxHandle, TokenConfig
from hubspot_loader_tests.loader.cli_support import CliRun, cli, closed_port, run_subprocess

__all__ = ["cli"]

Cli = Callable[..., CliRun]


@pytest.fixture
def contacts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "mail": ["ann@example.com", "bad-email", "cy@example.com"],
            "first": ["Ann", "Bo", "Cy"],
        }
    ).to_csv(path, index=False)
    return path


def _load(
    path: Path, sandbox_url: str, *extra: str, object_type: str = "contacts", key: str = "id"
) -> list[str]:
    return ["load", str(path), "--object-type", object_type, "--key", key, "--base-url", sandbox_url, *extra]


def _one_clean_line(run: CliRun) -> str:
    """The run printed exactly one ``error:`` line, no traceback; return it."""
    assert "Traceback" not in run.out + run.err
    assert len(run.error_lines) == 1, run.err
    return run.error_lines[0]


# --- HubSpot refuses or cannot be reached: exit 3, one line, nothing sent ---------------------------


def test_wrong_token_is_one_line_and_exit_3(cli: Cli, sandbox: SandboxHandle, contacts_csv: Path) -> None:
    run = cli(_load(contacts_csv, sandbox.base_url, "--property", "mail=email"), token="pat-na1-wrong")
    assert run.code == 3
    line = _one_clean_line(run)
    assert "HubSpot refused the access token (HTTP 401" in line and "$HUBSPOT_ACCESS_TOKEN" in line
    assert "pat-na1-wrong" not in run.out + run.err
    assert sandbox.counters()["write_requests"] == 0


def test_wrong_token_through_the_console_script(sandbox: SandboxHandle, contacts_csv: Path) -> None:
    proc = run_subprocess(
        _load(contacts_csv, sandbox.base_url, "--property", "mail=email"),
        token="wrong",
        cwd=contacts_csv.parent,
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("error:")] == [
        line for line in proc.stderr.splitlines() if line.strip()
    ]


def test_missing_write_scope_names_the_scope(
    cli: Cli, sandbox_factory: Callable[..., SandboxHandle], contacts_csv: Path
) -> None:
    hub = sandbox_factory(
        config=SandboxConfig(
            tokens=(TokenConfig("read-only", scopes=frozenset({"crm.objects.contacts.read"})),)
        )
    )
    run = cli(
        _load(contacts_csv, hub.base_url, "--property", "mail=email", "--preflight", "off"), token="read-only"
    )
    assert run.code == 3
    line = _one_clean_line(run)
    assert "HTTP 403" in line and "crm.objects.contacts.write" in line
    assert hub.counts()["contacts"] == 0


def test_unreachable_base_url_fails_with_one_line(cli: Cli, contacts_csv: Path) -> None:
    port = closed_port()
    run = cli(_load(contacts_csv, f"http://127.0.0.1:{port}", "--property", "mail=email"), token="t")
    assert run.code == 3
    line = _one_clean_line(run)
    assert f"cannot reach HubSpot at http://127.0.0.1:{port}: the connection was refused" in line
    assert "--base-url" in line


def test_the_first_read_gives_up_after_few_attempts(
    cli: Cli, sandbox_factory: Callable[..., SandboxHandle], contacts_csv: Path
) -> None:
    """A failing target costs PROBE_ATTEMPTS requests, not the load's full retry schedule (5 with backoff)."""
    hub = sandbox_factory(faults=FaultConfig(error_rate=1.0, error_statuses=(503,), writes_only=False))
    run = cli(_load(contacts_csv, hub.base_url, "--property", "mail=email"), token=hub.token)
    assert run.code == 3
    _one_clean_line(run)
    assert hub.counters()["requests"] == PROBE_ATTEMPTS == 2


def test_daily_limit_stops_with_exit_3_and_keeps_what_was_created(
    cli: Cli, sandbox_factory: Callable[..., SandboxHandle], contacts_csv: Path, tmp_path: Path
) -> None:
    hub = sandbox_factory(daily_limit=3)  # the properties read and two batches of one row
    ids = tmp_path / "ids.csv"
    good = contacts_csv.with_name("good.csv")
    pd.read_csv(contacts_csv, dtype=str).assign(
        mail=["a@example.com", "b@example.com", "c@example.com"]
    ).to_csv(good, index=False)
    run = cli(
        _load(good, hub.base_url, "--property", "mail=email", "--batch-size", "1", "--max-in-flight", "1",
              "--preflight", "off", "--ids-out", str(ids)),
        token=hub.token,
    )  # fmt: skip
    assert run.code == 3
    line = _one_clean_line(run)
    assert "daily api limit" in line.lower() and "2 row(s) created before the stop are kept" in line
    assert hub.counts()["contacts"] == 2
    assert len(pd.read_csv(ids, dtype=str)) == 2
    failed = pd.read_csv(tmp_path / "good.csv.failed.csv", dtype=str)
    assert list(failed["key"]) == ["3"] and list(failed["category"]) == ["RATE_LIMIT_DAILY"]


# --- mistakes in the command or the file: exit 2, one line, nothing sent ---------------------------


def test_unknown_object_type_is_checked_first_and_suggests(
    cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # the file does not even exist: the object type is the first thing checked
    run = cli(_load(tmp_path / "nope.csv", sandbox.base_url, object_type="contcts"), token=sandbox.token)
    assert run.code == 2
    assert _one_clean_line(run) == "error: unknown object type 'contcts'; did you mean 'contacts'?"
    assert sandbox.counters()["requests"] == 0


def test_unknown_association_target_is_checked_first(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path
) -> None:
    run = cli(
        _load(contacts_csv, sandbox.base_url, "--associate", "first=compnies", object_type="contcts"),
        token=sandbox.token,
    )
    assert _one_clean_line(run) == "error: unknown object type 'contcts'; did you mean 'contacts'?"
    run = cli(_load(contacts_csv, sandbox.base_url, "--associate", "first=compnies"), token=sandbox.token)
    assert run.code == 2
    line = _one_clean_line(run)
    assert "unknown object type 'compnies'; did you mean 'companies'?" in line and len(line) < 200
    assert sandbox.counters()["requests"] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(STANDARD_OBJECT_TYPES),
    edit=st.sampled_from(["drop", "swap", "double", "upper"]),
    at=st.integers(min_value=0, max_value=20),
)
def test_object_type_typos_get_a_suggestion_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, edit: str, at: int
) -> None:
    i = at % (len(name) - 1)
    typo = {
        "drop": name[:i] + name[i + 1 :],
        "swap": name[:i] + name[i + 1] + name[i] + name[i + 2 :],
        "double": name[:i] + name[i] + name[i:],
        "upper": name.upper(),
    }[edit]
    capsys.readouterr()
    code = main(["load", str(tmp_path / "absent.csv"), "--object-type", typo, "--key", "id", "--no-state"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    # either the typo is itself a valid spelling (then the missing file is reported) or it is refused
    # with the closest standard object type
    if "no such file" not in err:
        assert err.startswith(f"error: unknown object type {typo!r}; did you mean '"), err
        suggested = err.split("did you mean '")[1].split("'")[0]
        assert suggested in STANDARD_OBJECT_TYPES


def test_object_type_typo_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for typo, suggestion in [
        ("contcts", "contacts"),
        ("compnay", "company"),
        ("deels", "deals"),
        ("tickts", "tickets"),
    ]:
        assert main(["load", str(tmp_path / "x.csv"), "--object-type", typo, "--key", "id"]) == 2
        err = capsys.readouterr().err
        expected = "companies" if suggestion == "company" else suggestion
        assert err == f"error: unknown object type {typo!r}; did you mean {expected!r}?\n"
    assert main(["load", str(tmp_path / "x.csv"), "--object-type", "vendor", "--key", "id"]) == 2
    assert "p_NAME (p_vendor)" in capsys.readouterr().err  # a custom object's bare name is not accepted


def test_singular_object_type_is_accepted(cli: Cli, sandbox: SandboxHandle, contacts_csv: Path) -> None:
    run = cli(
        _load(
            contacts_csv,
            sandbox.base_url,
            "--property",
            "mail=email",
            "--preflight",
            "off",
            object_type="contact",
        ),
        token=sandbox.token,
    )
    assert run.code == 1  # bad-email is rejected by HubSpot
    assert run.summary()["object type"] == "contacts" and run.summary()["created"] == "2"


def test_missing_key_column_names_the_columns(cli: Cli, sandbox: SandboxHandle, contacts_csv: Path) -> None:
    run = cli(_load(contacts_csv, sandbox.base_url, key="customer_id"), token=sandbox.token)
    assert run.code == 2
    assert _one_clean_line(run) == (
        "error: key column 'customer_id' is not in the file; its columns are: id, mail, first"
    )
    assert sandbox.counters()["requests"] == 0


def test_missing_property_and_association_columns(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path
) -> None:
    run = cli(_load(contacts_csv, sandbox.base_url, "--property", "mial=email"), token=sandbox.token)
    assert run.code == 2
    assert _one_clean_line(run) == (
        "error: --property column 'mial' (did you mean 'mail'?) is not in the file; its columns are: id, "
        "mail, first"
    )
    run = cli(
        _load(contacts_csv, sandbox.base_url, "--associate", "company_id=companies"), token=sandbox.token
    )
    assert run.code == 2
    assert "--associate column 'company_id' is not in the file" in _one_clean_line(run)


def test_unknown_property_stops_before_anything_is_sent(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path
) -> None:
    run = cli(
        _load(contacts_csv, sandbox.base_url, "--property", "mail=email", "--property", "first=fristname"),
        token=sandbox.token,
    )
    assert run.code == 2
    line = _one_clean_line(run)
    assert (
        "property 'fristname' (column 'first') does not exist on contacts; did you mean 'firstname'?" in line
    )
    assert "nothing was sent" in line
    assert sandbox.counters()["write_requests"] == 0
    assert not (contacts_csv.parent / "contacts.csv.failed.csv").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("dup.csv", b"id,email,email\n1,a@example.com,b@example.com\n",
         "dup.csv has two columns named 'email' (columns 2 and 3)"),
        ("empty.csv", b"", "empty.csv is empty; a CSV file needs a header row"),
        ("blank.csv", b"\n\n", "blank.csv has no header row"),
        ("latin1.csv", "id,email\n1,é@example.com\n".encode("latin-1"), "it is not UTF-8 text"),
        ("ragged.csv", b'id,email\n1,"unterminated\n', "cannot read"),
        ("book.xlsx", b"PK\x03\x04 not a csv", "unsupported file type .xlsx"),
        ("noext", b"id,email\n", "unsupported file type (none)"),
        ("broken.parquet", b"PAR1 garbage", "cannot read"),
    ],
)  # fmt: skip
def test_bad_files_are_one_line_exit_2(
    cli: Cli, sandbox: SandboxHandle, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    run = cli(_load(path, sandbox.base_url), token=sandbox.token)
    assert run.code == 2
    assert message in _one_clean_line(run)
    assert sandbox.counters()["requests"] == 0


def test_a_directory_is_not_a_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").mkdir()
    run = cli(["load", "rows.csv", "--object-type", "contacts", "--key", "id"], token="t")
    assert run.code == 2 and "it is a directory" in _one_clean_line(run)


def test_header_only_file_loads_nothing_and_exits_0(cli: Cli, sandbox: SandboxHandle, tmp_path: Path) -> None:
    path = tmp_path / "none.csv"
    path.write_text("id,email\n")
    run = cli(_load(path, sandbox.base_url), token=sandbox.token)
    assert run.code == 0 and "nothing to load" in run.out
    assert sandbox.counters()["requests"] == 0


def test_missing_token_and_bad_options_are_exit_2(cli: Cli, contacts_csv: Path) -> None:
    run = cli(["load", str(contacts_csv), "--object-type", "contacts", "--key", "id"])
    assert run.code == 2 and "$HUBSPOT_ACCESS_TOKEN" in _one_clean_line(run)
    run = cli(
        [
            "load",
            str(contacts_csv),
            "--object-type",
            "contacts",
            "--key",
            "id",
            "--base-url",
            "http://x.example",
        ],
        token="t",
    )
    assert run.code == 2 and "http" in _one_clean_line(run)
    with pytest.raises(SystemExit) as exc:
        main(["load", str(contacts_csv), "--object-type", "contacts", "--key", "id", "--batch-size", "500"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "load",
                str(contacts_csv),
                "--object-type",
                "contacts",
                "--key",
                "id",
                "--state",
                "s",
                "--no-state",
            ]
        )
    assert exc.value.code == 2


# --- exit codes 0 and 1, and the documentation of all four ------------------------------------------


def test_exit_0_when_every_row_is_created_and_1_when_some_are_rejected(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, tmp_path: Path
) -> None:
    run = cli(_load(contacts_csv, sandbox.base_url, "--property", "mail=email"), token=sandbox.token)
    assert run.code == 1
    assert run.summary()["created"] == "2" and run.summary()["failed"] == "1"
    good = tmp_path / "good.csv"
    pd.DataFrame({"id": ["9"], "email": ["nine@example.com"]}).to_csv(good, index=False)
    run = cli(_load(good, sandbox.base_url), token=sandbox.token)
    assert run.code == 0 and run.summary()["created"] == "1"


def test_help_documents_the_exit_codes_and_the_state(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["load", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes:" in text
    for code in (
        "0  every row was created",
        "1  some rows were rejected",
        "2  usage or configuration error",
        "3  the load stopped",
    ):
        assert code in text
    for flag in (
        "--state",
        "--no-state",
        "--ids-out",
        "--keys-from",
        "XDG_STATE_HOME",
        "HUBSPOT_LOADER_STATE",
    ):
        assert flag in text


@pytest.mark.parametrize(
    ("extra", "object_type", "message"),
    [
        (["--associate", "first=p_vendor"], "contacts",
         "no default association type is known from 'contacts' to 'p_vendor'"),
        (["--associate", "first=companies:Bogus"], "contacts", "label 'Bogus' is not defined"),
        ([], "p_nothere", "HubSpot has no object type 'p_nothere' in this account (HTTP 400"),
    ],
)  # fmt: skip
def test_configuration_refused_by_hubspot_is_one_short_line(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, extra: list[str], object_type: str, message: str
) -> None:
    run = cli(
        _load(contacts_csv, sandbox.base_url, "--property", "mail=email", *extra, object_type=object_type),
        token=sandbox.token,
    )
    assert run.code == 2
    line = _one_clean_line(run)
    assert message in line and "nothing was sent" in line and len(line) < 300
    assert sandbox.counters()["write_requests"] == 0
