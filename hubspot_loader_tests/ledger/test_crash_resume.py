"""Issue #4 acceptance: a load SIGKILLed mid-run, then run again, ends as an uninterrupted run would.

The load runs in a child process against a sandbox with latency, so batches are in flight when the child
is killed. The sandbox still commits those batches after the kill (as HubSpot would: the request had
arrived), but no answer reaches the ledger: they stay ``pending``. The second run must look them up
instead of creating them again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED, PENDING, SQLiteLedger, SqlLedger

from .conftest import PORTAL, contacts_frame, sandbox_id_map, wait_for_leases_to_expire

ROWS = 3000
SPEC = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off")

CHILD = textwrap.dedent(
    """
    import sys
    from hubspot_loader.http.client import HubSpotClient
    from hubspot_loader.http.settings import ClientSettings
    from hubspot_loader.state.ledger import open_ledger
    from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
    from hubspot_loader_tests.ledger.conftest import KILLED_LEASE_SECONDS, PORTAL, contacts_frame

    base_url, token, state_url, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    client = HubSpotClient(token, base_url=base_url, settings=ClientSettings(max_in_flight=4, batch_size=50))
    load_dataframe(
        contacts_frame(rows),
        HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off"),
        client=client, ledger=open_ledger(state_url),
        run=LoadRun(portal=PORTAL, run_id="killed-run", lease_seconds=KILLED_LEASE_SECONDS),
    )
    print("finished", flush=True)
    """
)


#: Only a guard against a hang: on a loaded machine a slow child or sandbox just takes longer.
HANG_GUARD_S = 180.0
#: /proc/net/tcp states of a server socket whose handler may still read or commit a request.
_OPEN_STATES = {"01", "08"}  # ESTABLISHED, CLOSE_WAIT


def _open_server_connections(port: int) -> int | None:
    """Server-side TCP connections of the sandbox on ``port`` still open (``None``: no /proc/net/tcp)."""
    open_count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            if table.endswith("tcp"):
                return None
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in _OPEN_STATES:
                open_count += 1
    return open_count


def _settled(sandbox: SandboxHandle) -> int:
    """Wait until every request the dead child sent is committed; return the contacts the sandbox holds.

    The sandbox keeps committing the requests that had reached it (as HubSpot would). They are all done
    when no connection of the child is open any more (its handler threads have read every request it
    sent and finished) and every request the sandbox received has been answered.
    """
    port = urlsplit(sandbox.base_url).port
    assert port is not None
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        if not _open_server_connections(port):  # 0, or None where /proc is missing: counters decide
            counters = sandbox.counters()
            aborted = sum(counters["faults"].get(kind, 0) for kind in ("drop", "hang", "reset"))
            if counters["requests"] == sum(counters["by_status"].values()) + aborted:
                return int(sandbox.counts().get("contacts", 0))
        time.sleep(0.05)  # poll interval; the condition above is what is waited for
    raise AssertionError(f"the sandbox was still busy with the killed child's requests after {HANG_GUARD_S}s")


def test_sigkill_mid_run_then_rerun_matches_an_uninterrupted_run(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    ledgers: Callable[[], SqlLedger],
    state_url: str,
    tmp_path: Path,
) -> None:
    """On SQLite and on PostgreSQL (``state_url``): the killed run's leases end, then the rerun reconciles."""
    # Latency long enough that, whenever a batch has just been committed, the child's other batches are
    # still inside the sandbox: killing the child right then leaves answers that never reach the ledger.
    sandbox = sandbox_factory(faults=FaultConfig(latency_ms=300))
    script = tmp_path / "child_load.py"
    script.write_text(CHILD)
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, str(script), sandbox.base_url, sandbox.token, state_url, str(ROWS)],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + HANG_GUARD_S  # the child starts Python, pandas and pandera first
        seen = 0
        while True:
            assert child.poll() is None, child.communicate()
            count = sandbox.counts().get("contacts", 0)
            if count >= ROWS // 3 and count != seen:
                break  # a batch was just committed; its siblings are still in flight
            seen = count
            assert time.monotonic() < deadline, f"the child created {count} of {ROWS} in {HANG_GUARD_S}s"
            time.sleep(0.01)  # poll interval
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert "finished" not in (child.stdout.read() if child.stdout else "")
    committed = _settled(sandbox)

    ledger = ledgers()
    statuses = ledger.counts(PORTAL, "contacts")
    assert statuses.get(PENDING, 0) >= 1, statuses  # killed with batches written ahead, unanswered
    assert ROWS // 3 <= committed < ROWS
    # HubSpot holds rows the ledger never heard about: exactly the ones a blind resend would duplicate
    assert committed > statuses.get(CREATED, 0)
    # the killed run still holds its unanswered rows until its leases run out (nobody renews them now)
    holders = {e.lease_owner.split("/")[0] for e in ledger.entries(PORTAL, "contacts") if e.lease_owner}
    assert holders == {"killed-run"}
    wait_for_leases_to_expire(ledger)

    resumed = load_dataframe(
        contacts_frame(ROWS),
        SPEC,
        client=client_for(sandbox, max_in_flight=4),
        ledger=ledger,
        run=LoadRun(portal=PORTAL, run_id="resume-run"),
    )
    assert resumed.rows_failed == 0
    assert resumed.rows_skipped + resumed.rows_created == ROWS
    assert resumed.rows_skipped >= committed  # everything committed before (or because of) the kill
    stored = sandbox_id_map(sandbox)  # no duplicated email
    assert len(stored) == sandbox.counts()["contacts"] == ROWS
    assert resumed.id_map == stored == ledger.id_map(PORTAL, "contacts")
    assert ledger.counts(PORTAL, "contacts") == {CREATED: ROWS}
    runs = {(e.first_run_id, e.last_run_id) for e in ledger.entries(PORTAL, "contacts")}
    assert ("killed-run", "killed-run") in runs and ("resume-run", "resume-run") in runs

    # the same frame loaded without interruption into a fresh portal ends in the same state
    clean = sandbox_factory()
    clean_ledger = SQLiteLedger(tmp_path / "clean.sqlite")
    try:
        load_dataframe(
            contacts_frame(ROWS),
            SPEC,
            client=client_for(clean),
            ledger=clean_ledger,
            run=LoadRun(portal=PORTAL),
        )
        assert clean_ledger.counts(PORTAL, "contacts") == ledger.counts(PORTAL, "contacts")
        assert set(clean_ledger.id_map(PORTAL, "contacts")) == set(stored)
    finally:
        clean_ledger.close()

    def contents(handle: SandboxHandle) -> dict[str, tuple[str, str]]:
        return {
            str(o["properties"]["email"]): (str(o["properties"]["firstname"]), str(o["properties"]["email"]))
            for o in handle.objects("contacts")
        }

    assert contents(sandbox) == contents(clean)
