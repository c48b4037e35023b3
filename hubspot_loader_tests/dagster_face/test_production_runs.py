"""Production-shaped Dagster runs (issue 14): parallel partitions and one process per step.

Every run here is a real ``dagster asset materialize`` process (``python -m dagster``) on the definitions
of :mod:`hubspot_loader_tests.dagster_face.production_defs`. Each process starts in its own empty working
directory with its own ``TMPDIR``: nothing is shared through the working directory (the default SQLite
ledger would be there). What the processes share comes from environment variables only: the sandbox on
127.0.0.1, the ledger's ``state_url`` (``dg.EnvVar``) and the filesystem IO manager's ``base_dir``.

- **Parallel partitions**: the four partitions of a static-partitioned load run as four runs started at
  once on one Dagster instance (``DAGSTER_HOME`` shared, created beforehand; the ``hubspot`` pool at 4
  slots, op granularity), each with the multiprocess executor (every step in a child process, forked
  from a forkserver that imported the definitions once). The partitions' upstream steps wait at a
  barrier (a directory each one marks, polled with a deadline) so the four load steps overlap; six
  companies are in every partition, so the row leases must keep each of them to one create. The rerun of
  the four partitions (in the test's process, one after the other: what it checks depends on the shared
  ledger only) must send no create request. On SQLite (one machine) and PostgreSQL.
- **Pod per step**: each step (the source frames, the companies load, the contacts load that associates
  by warehouse key) is its own ``dagster asset materialize`` process with its own ``DAGSTER_HOME`` too,
  running its one step in-process as a pod does (``dagster api execute_step``); the steps share only the
  ledger and the IO manager's storage. On PostgreSQL (the deployment's database) and SQLite (a file on a
  volume every pod mounts, as Docker Compose can share one). After the storage is deleted, the rerun creates
  nothing; then a new contact is loaded while the companies load's stored value is a stale, empty id map:
  its company id comes from the ledger (``load_step.with_ledger_ids``).

Slow: each ``dagster`` process imports Dagster and the loader (5-15 s each on a loaded 2-core machine).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from hubspot_loader import HubSpotResource
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import default_portal, open_ledger, token_fingerprint

from . import production_defs as defs
from .conftest import linked_companies

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DEFS_MODULE = "hubspot_loader_tests.dagster_face.production_defs"
WORKTREE = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 400  # a hang guard per dagster process: a loaded 2-core machine is just slower
POOL_SLOTS = 4
INSTANCE_YAML = f"""\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: {POOL_SLOTS}
    granularity: op
"""

#: The partition runs: multiprocess, each step in a child forked from a server that imported the defs once.
MULTIPROCESS = {"multiprocess": {"start_method": {"forkserver": {"preload_modules": [DEFS_MODULE]}}}}
#: One pod per step: the process that runs the step is the pod (``dagster api execute_step`` does the same).
IN_PROCESS: dict[str, Any] = {"in_process": {}}

PARTITION_LOAD = dg.AssetKey(["hubspot", "partition_companies"])
COMPANIES_PICKLE = Path("hubspot", "companies")  # where the filesystem IO manager keeps the id map


@dataclass
class Cluster:
    """What the runs share: the portal, the ledger's URL, the IO manager's storage; a dir for the rest."""

    sandbox: SandboxHandle
    state_url: str
    io_dir: Path
    root: Path
    logs: dict[int, Path] = field(default_factory=dict)  # process id → its output
    extra_env: dict[str, str] = field(default_factory=dict)  # what the next processes also get

    def env(self, home: Path, *, barrier: Path | None = None) -> dict[str, str]:
        """The environment of one ``dagster`` process, in its own empty cwd and temp dir."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "DAGSTER_"))}
        env.update(
            PYTHONPATH=str(WORKTREE),
            DAGSTER_HOME=str(home),
            HUBSPOT_ACCESS_TOKEN=self.sandbox.token,
            HUBSPOT_BASE_URL=self.sandbox.base_url,
            DO_NOT_TRACK="1",
            **{defs.STATE_URL_ENV: self.state_url, defs.IO_DIR_ENV: str(self.io_dir)},
        )
        if barrier is not None:
            env[defs.BARRIER_DIR_ENV] = str(barrier)
        env.update(self.extra_env)
        return env

    def fresh_dir(self, name: str) -> Path:
        """A new empty directory under the cluster's root."""
        path = self.root / f"{name}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def start(
        self,
        select: str,
        *,
        home: Path | None = None,
        partition: str | None = None,
        barrier: Path | None = None,
        executor: dict[str, Any] = IN_PROCESS,
    ) -> subprocess.Popen[bytes]:
        """Start ``dagster asset materialize`` of ``select`` (its own DAGSTER_HOME unless ``home``)."""
        if home is None:
            home = self.fresh_dir("home")
            (home / "dagster.yaml").write_text(INSTANCE_YAML)
        cwd, tmp = self.fresh_dir("cwd"), self.fresh_dir("tmp")
        env = self.env(home, barrier=barrier)
        env.update(TMPDIR=str(tmp), TMP=str(tmp), TEMP=str(tmp))
        command = [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            DEFS_MODULE,
            "--select",
            select,
        ]
        command += ["--config-json", json.dumps({"execution": {"config": executor}})]
        if partition is not None:
            command += ["--partition", partition]
        log_path = self.fresh_dir("log") / "output.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.logs[process.pid] = log_path
        return process

    def log_of(self, process: subprocess.Popen[bytes]) -> str:
        """What ``process`` printed (its last part), with its command line and exit status."""
        args = [str(a) for a in process.args] if isinstance(process.args, list) else [str(process.args)]
        text = self.logs[process.pid].read_text(errors="replace")
        return f"{' '.join(args[2:])} exited {process.returncode}:\n{text[-6000:]}"

    def run_all(self, processes: Sequence[subprocess.Popen[bytes]]) -> None:
        """Wait for every process (they run at once); fail with the log of any that failed."""
        failed = []
        for process in processes:
            if process.wait(timeout=RUN_TIMEOUT_S) != 0:
                failed.append(process)
        assert not failed, "\n\n".join(self.log_of(p) for p in failed)

    def run_steps(self, *selects: str) -> None:
        """Run each asset in ``selects`` as its own process (one pod per step), all at once."""
        self.run_all([self.start(select) for select in selects])


def _creates(sandbox: SandboxHandle) -> int:
    return int(sandbox.counters()["by_route"].get("POST batch/create", 0))


def _companies_by_name(sandbox: SandboxHandle) -> dict[str, str]:
    """Company name → id of every company in the sandbox; asserts no name is there twice."""
    objects = sandbox.objects("companies")
    names = Counter(str(o["properties"]["name"]) for o in objects)
    duplicated = {name: n for name, n in names.items() if n > 1}
    assert not duplicated, f"duplicated companies: {duplicated}"
    return {str(o["properties"]["name"]): str(o["id"]) for o in objects}


def _portal(sandbox: SandboxHandle) -> str:
    return default_portal(sandbox.base_url, token_fingerprint(sandbox.token))


def _partition_materializations(home: Path) -> dict[str, list[dict[str, Any]]]:
    """Partition key → the metadata of each materialization of the partitioned load, oldest first."""
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        records = instance.fetch_materializations(PARTITION_LOAD, limit=100, ascending=True).records
        found: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            materialization = record.asset_materialization
            assert materialization is not None and materialization.partition is not None
            values = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
            values["run_id"] = record.run_id
            found.setdefault(materialization.partition, []).append(values)
        pool = instance.event_log_storage.get_concurrency_info("hubspot")
        assert pool.slot_count == POOL_SLOTS and pool.active_slot_count == 0 and pool.pending_step_count == 0
        return found
    finally:
        instance.dispose()


def _run_partitions_at_once(cluster: Cluster, home: Path, executor: dict[str, Any]) -> None:
    barrier = cluster.fresh_dir("barrier")
    cluster.run_all(
        [
            cluster.start(
                f"partition_company_rows,{PARTITION_LOAD.to_user_string()}",
                home=home,
                partition=p,
                barrier=barrier,
                executor=executor,
            )
            for p in defs.PARTITIONS
        ]
    )


def _rerun_partitions_here(cluster: Cluster, home: Path) -> None:
    """Run the four partitions again, one after the other, in this process (on the same instance).

    What the rerun checks (nothing is created again, every row is skipped) depends on the shared ledger
    only; four more ``dagster`` processes would cost a minute of the suite's time and show nothing more.
    """
    resources = {
        "hubspot": HubSpotResource(
            access_token=cluster.sandbox.token,
            base_url=cluster.sandbox.base_url,
            state_url=cluster.state_url,
            batch_size=defs.BATCH_SIZE,
        ),
        "io_manager": dg.FilesystemIOManager(base_dir=str(cluster.io_dir)),
    }
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        for partition in defs.PARTITIONS:
            result = dg.materialize(
                [defs.partition_company_rows, defs.partition_companies],
                partition_key=partition,
                instance=instance,
                resources=resources,
            )
            assert result.success
    finally:
        instance.dispose()


@pytest.fixture
def cluster_root() -> Iterator[Path]:
    """A short directory for the processes' dirs: a forkserver's socket path in TMPDIR must be short."""
    root = Path(tempfile.mkdtemp(prefix="hl14-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_four_partitions_at_once_create_each_company_once_and_reruns_create_nothing(
    sandbox: SandboxHandle, state_url: str, cluster_root: Path
) -> None:
    cluster = Cluster(sandbox, state_url, cluster_root / "io", cluster_root)
    home = cluster.fresh_dir("dagster_home")  # one instance: the pool's slots are counted there
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    # The instance's databases exist before its runs start, as in a deployment (four processes creating
    # a fresh SQLite instance at once would race on its schema version).
    dg.DagsterInstance.from_config(str(home)).dispose()
    expected = sorted({k for p in defs.PARTITIONS for k in defs.partition_keys(p)})

    _run_partitions_at_once(cluster, home, MULTIPROCESS)

    in_sandbox = _companies_by_name(sandbox)  # names are the warehouse keys
    assert sorted(in_sandbox) == expected
    runs = _partition_materializations(home)
    assert sorted(runs) == list(defs.PARTITIONS) and all(len(m) == 1 for m in runs.values())
    firsts = {p: m[0] for p, m in runs.items()}
    for partition, meta in firsts.items():
        total = len(defs.partition_keys(partition))
        assert meta["dagster/row_count"] == total and meta["hubspot/rows_failed"] == 0, (partition, meta)
        assert meta["hubspot/rows_created"] + meta["hubspot/rows_skipped"] == total, (partition, meta)
        assert meta["hubspot/rows_created"] >= defs.OWN_ROWS  # its own rows are nobody else's
    assert sum(m["hubspot/rows_created"] for m in firsts.values()) == len(expected)

    ledger = open_ledger(state_url)
    try:
        portal = _portal(sandbox)
        assert ledger.id_map(portal, "companies") == in_sandbox
        entries = ledger.entries(portal, "companies")
        assert all(e.lease_owner is None for e in entries)  # every load ended its leases
        by_run = Counter(e.first_run_id for e in entries)
        by_partition = Counter(e.partition for e in entries)
    finally:
        ledger.close()
    assert by_run == {m["run_id"]: m["hubspot/rows_created"] for m in firsts.values()}
    assert by_partition == {p: m["hubspot/rows_created"] for p, m in firsts.items()}

    creates_before = _creates(sandbox)
    _rerun_partitions_here(cluster, home)
    assert _creates(sandbox) == creates_before  # no batch-create request at all
    assert _companies_by_name(sandbox) == in_sandbox
    for partition, materializations in _partition_materializations(home).items():
        again = materializations[-1]
        assert again["run_id"] != firsts[partition]["run_id"]
        assert again["hubspot/rows_created"] == 0 and again["hubspot/rows_failed"] == 0
        assert again["hubspot/rows_skipped"] == len(defs.partition_keys(partition))


def test_one_process_per_step_shares_only_the_ledger_and_the_io_storage(
    sandbox: SandboxHandle, state_url: str, cluster_root: Path
) -> None:
    cluster = Cluster(sandbox, state_url, cluster_root / "io", cluster_root)
    portal = _portal(sandbox)

    cluster.run_steps("account_rows", "customer_rows")  # independent steps: two pods at once
    cluster.run_steps("hubspot/companies")
    cluster.run_steps("hubspot/contacts")
    assert linked_companies(sandbox) == defs.EXPECTED_LINKS
    companies = _companies_by_name(sandbox)
    contacts = {o["properties"]["email"]: str(o["id"]) for o in sandbox.objects("contacts")}
    ledger = open_ledger(cluster.state_url)
    try:
        ledger_companies = ledger.id_map(portal, "companies")
        assert ledger_companies == {
            key: companies[name]
            for key, name in zip(defs.ACCOUNTS["account_id"], defs.ACCOUNTS["name"], strict=True)
        }
        assert ledger.id_map(portal, "contacts") == {
            key: contacts[email]
            for key, email in zip(defs.CUSTOMERS["customer_id"], defs.CUSTOMERS["email"], strict=True)
        }
    finally:
        ledger.close()

    # The IO manager's storage is gone (a new volume): the steps run again from the sources on and create
    # nothing. Then a contact is added whose company only the ledger still knows: the companies load's
    # value in the IO storage is replaced by a stale one (an empty id map), so the new contact's company id
    # must come from the ledger.
    shutil.rmtree(cluster.io_dir)
    creates_before = _creates(sandbox)
    cluster.extra_env[defs.LATE_CUSTOMERS_ENV] = "1"  # the sources' rerun has the new contact
    cluster.run_steps("account_rows", "customer_rows")
    cluster.run_steps("hubspot/companies")
    assert _creates(sandbox) == creates_before  # the incremental rerun sends no create request
    stale = cluster.io_dir / COMPANIES_PICKLE
    assert pickle.loads(stale.read_bytes()) == ledger_companies
    stale.write_bytes(pickle.dumps({}))
    cluster.run_steps("hubspot/contacts")
    assert _creates(sandbox) == creates_before + 1  # only the new contact, in one batch
    assert linked_companies(sandbox) == defs.EXPECTED_LATE_LINKS
    assert _companies_by_name(sandbox) == companies
