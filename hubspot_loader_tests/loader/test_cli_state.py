"""``hubspot-loader load`` files and state: reruns create nothing twice, the failed-rows file keeps the
whole input name and survives dry runs, and ``--ids-out``/``--keys-from`` associate by warehouse key."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hubspot_loader.cli.state import default_state_path
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import open_ledger
from hubspot_loader.state.rate_budget import budget_key
from hubspot_loader.state.store_url import parse_state_url, redact
from hubspot_loader_tests.loader.cli_support import CliRun, cli, default_state_file
from hubspot_loader_tests.postgres import PostgresServer

__all__ = ["cli"]

Cli = Callable[..., CliRun]


@pytest.fixture
def companies_csv(tmp_path: Path) -> Path:
    path = tmp_path / "companies.csv"
    pd.DataFrame(
        {"company_id": [f"CO-{i}" for i in range(1, 11)], "name": [f"Company {i}" for i in range(1, 11)]}
    ).to_csv(path, index=False)
    return path


def _companies(path: Path, hub: SandboxHandle, *extra: str) -> list[str]:
    base = ["load", str(path), "--object-type", "companies", "--key", "company_id"]
    return [*base, "--base-url", hub.base_url, *extra]


def test_rerun_creates_no_duplicates_by_default(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, tmp_path: Path
) -> None:
    first = cli(_companies(companies_csv, sandbox), token=sandbox.token)
    assert first.code == 0, first.err
    assert first.summary()["created"] == "10"
    # companies have no unique property: the warning comes first, before the load
    assert first.err.splitlines()[0].startswith("warning: companies: no unique property to reconcile by")
    assert first.summary()["sync state"] == str(default_state_file(tmp_path))
    assert default_state_file(tmp_path).exists()

    second = cli(_companies(companies_csv, sandbox), token=sandbox.token)
    assert second.code == 0, second.err
    assert (second.summary()["created"], second.summary()["skipped"]) == ("0", "10")
    assert sandbox.counts()["companies"] == 10
    assert sandbox.counters()["write_requests"] == 1


def test_no_state_opts_out_and_state_path_overrides(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, tmp_path: Path
) -> None:
    for _ in range(2):
        assert cli(_companies(companies_csv, sandbox, "--no-state"), token=sandbox.token).code == 0
    assert sandbox.counts()["companies"] == 20  # documented: without state every run sends every row
    assert not default_state_file(tmp_path).exists()

    other = tmp_path / "elsewhere" / "mine.sqlite"
    run = cli(_companies(companies_csv, sandbox, "--state", str(other)), token=sandbox.token)
    assert run.code == 0 and run.summary()["created"] == "10" and other.exists()
    run = cli(_companies(companies_csv, sandbox, "--state", str(other)), token=sandbox.token)
    assert run.summary()["skipped"] == "10"
    assert not default_state_file(tmp_path).exists()


def test_default_state_path_follows_the_environment(tmp_path: Path) -> None:
    explicit = tmp_path / "s.sqlite"
    assert default_state_path({"HUBSPOT_LOADER_STATE": str(explicit), "XDG_STATE_HOME": "/x"}) == explicit
    assert (
        default_state_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "hubspot_loader" / "state.sqlite"
    )
    home = Path.home() / ".local" / "state" / "hubspot_loader" / "state.sqlite"
    assert default_state_path({"XDG_STATE_HOME": "relative/dir"}) == home  # relative XDG paths are ignored
    assert default_state_path({}) == home


def test_state_env_var_is_used(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("HUBSPOT_LOADER_STATE", str(path))
    assert cli(_companies(companies_csv, sandbox), token=sandbox.token).code == 0
    assert path.exists() and not default_state_file(tmp_path).exists()


def test_failed_rows_file_keeps_the_whole_input_name(
    cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    rows = pd.DataFrame({"id": ["1", "2"], "email": ["ok@example.com", "not-an-email"]})
    rows.to_csv(tmp_path / "contacts.csv", index=False)
    rows.assign(id=["3", "4"], email=["ok2@example.com", "also-bad"]).to_parquet(
        tmp_path / "contacts.parquet"
    )
    for name in ("contacts.csv", "contacts.parquet"):
        run = cli(["load", name, "--object-type", "contacts", "--key", "id", "--base-url", sandbox.base_url],
                  token=sandbox.token)  # fmt: skip
        assert run.code == 1
    from_csv = pd.read_csv(tmp_path / "contacts.csv.failed.csv", dtype=str)
    from_parquet = pd.read_csv(tmp_path / "contacts.parquet.failed.csv", dtype=str)
    assert list(from_csv["key"]) == ["2"] and list(from_parquet["key"]) == ["4"]
    assert not (tmp_path / "contacts.failed.csv").exists()


def test_dry_run_never_writes_or_replaces_the_failed_rows_file(
    cli: Cli, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    pd.DataFrame({"id": ["1", "2"], "email": ["ok@example.com", "not-an-email"]}).to_csv(path, index=False)
    args = [
        "load",
        "contacts.csv",
        "--object-type",
        "contacts",
        "--key",
        "id",
        "--base-url",
        sandbox.base_url,
    ]
    dry = cli([*args, "--dry-run"], token=sandbox.token)
    assert dry.code == 1  # preflight predicts a rejection
    assert not (tmp_path / "contacts.csv.failed.csv").exists()

    assert cli(args, token=sandbox.token).code == 1
    written = (tmp_path / "contacts.csv.failed.csv").read_bytes()
    pd.DataFrame({"id": ["1", "2", "3"], "email": ["a-bad", "b-bad", "c-bad"]}).to_csv(path, index=False)
    dry = cli([*args, "--dry-run", "--no-state"], token=sandbox.token)
    assert dry.code == 1 and "no file written" in dry.out
    assert (tmp_path / "contacts.csv.failed.csv").read_bytes() == written


def test_ids_out_and_keys_from_associate_by_warehouse_key(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, tmp_path: Path
) -> None:
    ids = tmp_path / "companies.ids.csv"
    run = cli(_companies(companies_csv, sandbox, "--ids-out", str(ids)), token=sandbox.token)
    assert run.code == 0
    id_map = pd.read_csv(ids, dtype=str)
    assert list(id_map.columns) == ["key", "hubspot_id"]
    by_name = {o["properties"]["name"]: o["id"] for o in sandbox.objects("companies")}
    assert dict(zip(id_map["key"], id_map["hubspot_id"], strict=True)) == {
        f"CO-{i}": by_name[f"Company {i}"] for i in range(1, 11)
    }

    # a rerun skips every row and still writes the whole id map
    ids.unlink()
    assert cli(_companies(companies_csv, sandbox, "--ids-out", str(ids)), token=sandbox.token).code == 0
    assert len(pd.read_csv(ids, dtype=str)) == 10

    contacts = tmp_path / "contacts.csv"
    pd.DataFrame(
        {"id": ["P1", "P2", "P3"], "email": ["p1@example.com", "p2@example.com", "p3@example.com"],
         "company_id": ["CO-3", "CO-7", "CO-99"]}
    ).to_csv(contacts, index=False)  # fmt: skip
    run = cli(
        ["load", str(contacts), "--object-type", "contacts", "--key", "id", "--base-url", sandbox.base_url,
         "--associate", "company_id=companies", "--keys-from", f"company_id={ids}"],
        token=sandbox.token,
    )  # fmt: skip
    assert run.code == 1  # CO-99 is not in the companies' id map
    assert run.summary()["created"] == "2"
    linked = {
        o["properties"]["email"]: [
            a["toObjectId"] for a in o["associations"] if a["toObjectType"] == "companies"
        ]
        for o in sandbox.objects("contacts")
    }
    assert linked == {"p1@example.com": [by_name["Company 3"]], "p2@example.com": [by_name["Company 7"]]}
    failed = pd.read_csv(tmp_path / "contacts.csv.failed.csv", dtype=str)
    assert list(failed["key"]) == ["P3"] and "CO-99" in failed["message"].iloc[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--keys-from", "company_id=x.csv"], "no --associate company_id=OBJECT_TYPE"),
        (["--associate", "company_id=companies", "--keys-from", "company_id=missing.csv"], "no such file"),
        (
            ["--associate", "company_id=companies", "--keys-from", "company_id=wrong.csv"],
            "no 'hubspot_id' column",
        ),
    ],
)
def test_keys_from_mistakes_are_exit_2(
    cli: Cli, sandbox: SandboxHandle, tmp_path: Path, extra: list[str], message: str
) -> None:
    (tmp_path / "wrong.csv").write_text("key,id\nCO-1,1\n")
    pd.DataFrame({"id": ["P1"], "email": ["p@example.com"], "company_id": ["CO-1"]}).to_csv(
        tmp_path / "c.csv", index=False
    )
    run = cli(
        ["load", "c.csv", "--object-type", "contacts", "--key", "id", "--base-url", sandbox.base_url, *extra],
        token=sandbox.token,
    )
    assert run.code == 2
    assert message in run.err and "Traceback" not in run.err
    assert sandbox.counters()["requests"] == 0


def test_write_mode_upsert_updates_changed_rows_and_says_so(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, tmp_path: Path
) -> None:
    assert cli(_companies(companies_csv, sandbox, "--write-mode", "upsert"), token=sandbox.token).code == 0
    frame = pd.read_csv(companies_csv)
    frame.loc[2, "name"] = "Company Three, renamed"
    frame.to_csv(companies_csv, index=False)

    second = cli(_companies(companies_csv, sandbox, "--write-mode", "upsert"), token=sandbox.token)

    assert second.code == 0, second.err
    summary = second.summary()
    assert (summary["created"], summary["updated"], summary["unchanged"]) == ("0", "1", "9")
    names = {o["properties"]["name"] for o in sandbox.objects("companies")}
    assert "Company Three, renamed" in names and len(names) == 10
    assert sandbox.counters()["by_route"].get("POST batch/update") == 1


def test_state_url_keeps_the_state_in_a_database_on_both_backends(
    cli: Cli,
    sandbox: SandboxHandle,
    companies_csv: Path,
    tmp_path: Path,
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--state-url`` (and ``$HUBSPOT_LOADER_STATE_URL``) on SQLite and a real PostgreSQL server."""
    first = cli(_companies(companies_csv, sandbox, "--state-url", state_url), token=sandbox.token)
    assert first.code == 0, first.err
    assert first.summary()["created"] == "10"
    assert first.summary()["sync state"] == redact(parse_state_url(state_url))
    assert not default_state_file(tmp_path).exists()

    monkeypatch.setenv("HUBSPOT_LOADER_STATE_URL", state_url)  # the environment says the same
    second = cli(_companies(companies_csv, sandbox), token=sandbox.token)
    assert (second.code, second.summary()["skipped"]) == (0, "10"), second.err
    assert sandbox.counts()["companies"] == 10
    # an explicit --state beats the environment's URL
    third = cli(
        _companies(companies_csv, sandbox, "--state", str(tmp_path / "other.sqlite")), token=sandbox.token
    )
    assert third.summary()["sync state"] == str(tmp_path / "other.sqlite")


def test_state_url_conflicts_and_bad_urls_are_usage_errors_that_hide_passwords(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:  # a command-line mistake: click's usage error, exit 2
        cli(_companies(companies_csv, sandbox, "--state-url", "sqlite:///x.db", "--no-state"), token="t")
    assert stopped.value.code == 2
    assert "--state-url and --no-state cannot be used together" in capsys.readouterr().err
    bad = "postgresql+psycopg://loader:s3cret-pw@127.0.0.1:1/nowhere"  # nothing listens on port 1
    run = cli(_companies(companies_csv, sandbox, "--state-url", bad), token=sandbox.token)
    assert run.code == 2 and "cannot open the sync state" in run.err and "--state-url URL" in run.err
    assert "s3cret-pw" not in run.err + run.out
    unknown = cli(
        _companies(companies_csv, sandbox, "--state-url", "mysql://u:s3cret-pw@h/db"), token=sandbox.token
    )
    assert unknown.code == 2 and "s3cret-pw" not in unknown.err + unknown.out
    assert sandbox.counters()["write_requests"] == 0


def test_state_copy_moves_a_sqlite_ledger_to_postgresql_and_the_next_load_creates_nothing(
    cli: Cli,
    sandbox: SandboxHandle,
    companies_csv: Path,
    tmp_path: Path,
    postgres_server: PostgresServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqlite_file = tmp_path / "laptop.sqlite"
    first = cli(_companies(companies_csv, sandbox, "--state", str(sqlite_file)), token=sandbox.token)
    assert first.code == 0 and first.summary()["created"] == "10", first.err
    target = postgres_server.new_schema_url()
    copied = cli(["state", "copy", str(sqlite_file), target])
    assert copied.code == 0, copied.err
    assert copied.out.startswith("copied 10 row(s) from sqlite:///") and "0 row(s)" in copied.out
    again = cli(["state", "copy", f"sqlite:///{sqlite_file}", target])  # rerun after an interruption
    assert again.code == 0 and "copied 0 row(s)" in again.out and "10 row(s)" in again.out

    writes = sandbox.counters()["write_requests"]
    run = cli(_companies(companies_csv, sandbox, "--state-url", target), token=sandbox.token)
    assert (run.code, run.summary()["created"], run.summary()["skipped"]) == (0, "0", "10"), run.err
    assert sandbox.counters()["write_requests"] == writes and sandbox.counts()["companies"] == 10
    with open_ledger(target) as moved, open_ledger(sqlite_file) as original:
        assert moved.entries() == original.entries()

    with pytest.raises(SystemExit) as stopped:  # a usage error: no empty ledger is made from a typo
        cli(["state", "copy", str(tmp_path / "typo.sqlite"), target])
    assert stopped.value.code == 2 and "no sync state file" in capsys.readouterr().err
    assert not (tmp_path / "typo.sqlite").exists()


def _budget_keys(state_file: Path) -> list[str]:
    with sqlite3.connect(state_file) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "rate_budgets" not in tables:
            return []
        return [key for (key,) in conn.execute("SELECT budget_key FROM rate_budgets")]


def test_the_rate_budget_is_shared_through_the_state_unless_turned_off(
    cli: Cli, sandbox: SandboxHandle, companies_csv: Path, tmp_path: Path
) -> None:
    shared, alone = tmp_path / "shared.sqlite", tmp_path / "alone.sqlite"
    run = cli(_companies(companies_csv, sandbox, "--state", str(shared)), token=sandbox.token)
    assert run.code == 0, run.err
    assert _budget_keys(shared) == [budget_key(sandbox.token)]
    args = _companies(companies_csv, sandbox, "--state", str(alone), "--no-shared-budget")
    run = cli(args, token=sandbox.token)
    assert run.code == 0, run.err
    assert alone.exists() and _budget_keys(alone) == []
