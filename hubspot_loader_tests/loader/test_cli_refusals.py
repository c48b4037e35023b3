"""``hubspot-loader load`` when the library refuses the options, or HubSpot refuses a read or a write.

- options the library refuses for the file (``LoadUsageError``: two columns mapped to one property ...)
  are one line and exit 2, with nothing sent, never a traceback;
- columns the options name that are not in the file are one line naming each of them (from
  ``MissingColumnsError``);
- a stopped load prints the library's own line (:mod:`hubspot_loader.core.stops`), which names the step and
  the scope that step needs: a refused *read* names the read scope, not the write scope.

The 403s without a ``requiredScopes`` list are injected by the sandbox's fault settings: HubSpot's
error guide does not promise that list on every 403, and without it the scope to grant is the
loader's to name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import PendingRow, SQLiteLedger, content_hash, default_portal
from hubspot_loader_tests.loader.cli_support import CliRun, cli

__all__ = ["cli"]

Cli = Callable[..., CliRun]

REFUSE_EVERYTHING = FaultConfig(error_rate=1.0, error_statuses=(403,), writes_only=False)
"""Every CRM request is answered 403 without naming a scope."""


@pytest.fixture
def contacts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "a": ["ann@example.com", "bo@example.com", "cy@example.com"],
            "b": ["ann@example.org", "bo@example.org", "cy@example.org"],
            "company": ["11", "12", "13"],
        }
    ).to_csv(path, index=False)
    return path


def _load(path: Path, base_url: str, *extra: str, key: str = "id") -> list[str]:
    return ["load", str(path), "--object-type", "contacts", "--key", key, "--base-url", base_url, *extra]


def _one_clean_line(run: CliRun) -> str:
    assert "Traceback" not in run.out + run.err
    assert len(run.error_lines) == 1, run.err
    return run.error_lines[0]


# --- options the library refuses: exit 2, one line, nothing sent ------------------------------------


@pytest.mark.parametrize("dry_run", [False, True])
def test_two_columns_mapped_to_one_property_is_one_line_exit_2(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path, dry_run: bool
) -> None:
    extra = ["--property", "a=email", "--property", "b=email", *(["--dry-run"] if dry_run else [])]
    run = cli(_load(contacts_csv, sandbox.base_url, *extra), token=sandbox.token)
    assert run.code == 2
    line = _one_clean_line(run)
    assert "columns 'a' and 'b' both map to property 'email'" in line and "nothing was sent" in line
    assert sandbox.counters()["requests"] == 0  # refused before the first read
    assert not (contacts_csv.parent / "contacts.csv.failed.csv").exists()


def test_every_missing_column_is_named_with_its_option(
    cli: Cli, sandbox: SandboxHandle, contacts_csv: Path
) -> None:
    extra = ["--property", "mial=email", "--associate", "compny=companies"]
    run = cli(_load(contacts_csv, sandbox.base_url, *extra, key="customer_id"), token=sandbox.token)
    assert run.code == 2
    assert _one_clean_line(run) == (
        "error: key column 'customer_id' and --property column 'mial' and --associate column 'compny' "
        "(did you mean 'company'?) are not in the file; its columns are: id, a, b, company"
    )
    assert sandbox.counters()["requests"] == 0


# --- HubSpot refuses: the library's line, naming the step's own scope ---------------------------------


def test_refused_label_read_names_the_read_scope_not_the_write_scope(
    cli: Cli, sandbox_factory: Callable[..., SandboxHandle], contacts_csv: Path
) -> None:
    hub = sandbox_factory(faults=REFUSE_EVERYTHING)
    run = cli(
        _load(contacts_csv, hub.base_url, "--property", "a=email", "--associate", "company=companies:Boss"),
        token=hub.token,
    )
    assert run.code == 3
    line = _one_clean_line(run)
    assert "association labels" in line and "HTTP 403" in line
    assert "grant the private app the scope crm.objects.contacts.read" in line
    assert "crm.objects.contacts.write" not in line
    assert "0 row(s) created before the stop are kept; 3 not created" in line
    assert hub.counters()["write_requests"] == 0


def test_refused_lookup_of_rows_in_doubt_names_the_read_scope(
    cli: Cli, sandbox_factory: Callable[..., SandboxHandle], contacts_csv: Path, tmp_path: Path
) -> None:
    # an earlier run was interrupted after writing row 1 ahead: it must be looked up before anything
    # is sent, and that read is refused
    hub = sandbox_factory()
    state = tmp_path / "state.sqlite"
    with HubSpotClient(hub.token, base_url=hub.base_url) as client:
        portal = default_portal(client.base_url, client.token_fingerprint)
    ledger = SQLiteLedger(state)
    pending = PendingRow("1", content_hash({"email": "ann@example.com"}), "email", "ann@example.com")
    ledger.mark_pending(portal, "contacts", [pending], run_id="interrupted")
    ledger.close()
    hub.set_faults(REFUSE_EVERYTHING)
    run = cli(
        _load(contacts_csv, hub.base_url, "--property", "a=email", "--state", str(state)), token=hub.token
    )
    assert run.code == 3
    line = _one_clean_line(run)
    assert "left in doubt" in line and "crm.objects.contacts.read" in line
    assert "crm.objects.contacts.write" not in line
    assert hub.counters()["write_requests"] == 0


def test_refused_write_names_the_write_scope(
    cli: Cli, sandbox_factory: Callable[..., SandboxHandle], contacts_csv: Path
) -> None:
    hub = sandbox_factory(faults=FaultConfig(error_rate=1.0, error_statuses=(403,)))  # writes only
    run = cli(_load(contacts_csv, hub.base_url, "--property", "a=email"), token=hub.token)
    assert run.code == 3
    line = _one_clean_line(run)
    assert (
        "creating contacts" in line and "grant the private app the scope crm.objects.contacts.write" in line
    )
    failed = pd.read_csv(contacts_csv.parent / "contacts.csv.failed.csv", dtype=str)
    assert sorted(failed["key"]) == ["1", "2", "3"]
