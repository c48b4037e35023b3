"""The main job, end to end: ``make demo`` runs this file.

It runs the example project's job ``warehouse_to_hubspot`` (``hubspot_example``, a ``dg`` project) in one
Dagster run (``dbt build`` of the DuckDB warehouse, then the HubSpot loads companies → contacts → deals)
and prints what happened: objects created per type, associations, rows rejected with their reasons, and
where to look next.

The loads go to the embedded sandbox persisted in ``.demo/sandbox.sqlite`` (running the demo again
builds on it), even when ``HUBSPOT_ACCESS_TOKEN`` is exported: only ``HUBSPOT_TARGET=hubspot`` or
``--target hubspot`` sends them to the real portal of that token (``hubspot_example/load_target.py``).
The first line printed says which target is used.

The loads sync (``write_mode`` in ``hubspot_example/defs/hubspot/defs.yaml``): companies and contacts
``upsert``, deals ``mirror``. Each load prints one line of what became of its rows ("0 created, 1 updated,
299 unchanged, ... of 300 rows"), so a second run says that nothing changed. ``--changes`` (``make
demo-changes``) first edits four raw rows of the warehouse (a company renamed, a contact's lifecycle
stage, a contact moved to another company, a deal deleted: ``hubspot_example/changes.py``), then runs
the job without its seed step, so the loads print "0 created", the updated rows, the rest unchanged and,
for deals, "1 archived". The change lives only in the warehouse's raw tables: the next plain run
reloads the committed seeds and syncs HubSpot back.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hubspot_example.load_target import (
    SANDBOX,
    TARGET_ENV,
    TARGETS,
    Target,
    TargetError,
    choose_target,
    default_sandbox_db,
)

if TYPE_CHECKING:
    import dagster as dg

LOADS = ("companies", "contacts", "deals")


def _value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def _load_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization is None:
            continue
        path = materialization.asset_key.path
        if len(path) == 2 and path[0] == "hubspot":
            found[path[1]] = dict(materialization.metadata)
    return found


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        f"{event.step_key}: {event.event_specific_data.error.message.strip()}"  # type: ignore[union-attr]
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    ]


def _sandbox_totals(target: Target, db: Path) -> dict[str, Any] | None:
    """Open the persisted sandbox file read-only and count what it holds (embedded sandbox only)."""
    if target.kind != SANDBOX or target.sandbox_url or not db.exists():
        return None
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        objects = dict(
            con.execute(
                "select object_type_id, count(*) from objects where archived = 0 group by object_type_id"
            ).fetchall()
        )
        # An archived record's associations stay in the file (a restore brings them back): not counted.
        pairs = con.execute(
            "select a.from_type_id, a.to_type_id, count(*) from associations a"
            " join objects f on f.object_type_id = a.from_type_id and f.id = a.from_id and f.archived = 0"
            " join objects t on t.object_type_id = a.to_type_id and t.id = a.to_id and t.archived = 0"
            " group by 1, 2"
        )
        counted = pairs.fetchall()
    names = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}
    # HubSpot associations are two-way; count each pair once, from the side the loads created it.
    wanted = {
        ("0-1", "0-2"): "contact→company",
        ("0-3", "0-2"): "deal→company",
        ("0-3", "0-1"): "deal→contact",
    }
    associations = {wanted[(a, b)]: n for a, b, n in counted if (a, b) in wanted}
    return {"objects": {names.get(k, k): v for k, v in objects.items()}, "associations": associations}


def _where(target: Target, db: Path) -> str:
    if target.kind != SANDBOX:
        return f"HubSpot at {target.base_url}"
    if target.sandbox_url:
        return f"the local HubSpot sandbox at {target.sandbox_url}"
    return f"the embedded HubSpot sandbox ({db})"


OUTCOME_WORDS = ("created", "updated", "unchanged", "adopted", "archived", "failed", "skipped")
"""The outcomes a load's metadata counts (``hubspot/rows_<word>``), in ``outcome_line``'s order."""


def outcome_line(md: dict[str, Any]) -> str:
    """What became of a load's rows, worded as ``hubspot_loader.core.tables.outcome_line`` words it.

    "0 created, 1 updated, 299 unchanged, 0 adopted, 0 archived, 0 failed, 0 skipped of 300 rows" (create
    mode has no updated/unchanged/adopted/archived counts: "300 created, 0 failed, 0 skipped of 300 rows").
    """
    words = ", ".join(
        f"{_value(md[f'hubspot/rows_{word}'])} {word}"
        for word in OUTCOME_WORDS
        if f"hubspot/rows_{word}" in md
    )
    return f"{words} of {_value(md['dagster/row_count'])} rows"


def _count(metadata: dict[str, dict[str, Any]], word: str) -> int:
    return sum(int(_value(md.get(f"hubspot/rows_{word}", 0))) for md in metadata.values())


def _print_outcomes(metadata: dict[str, dict[str, Any]], out: Any) -> None:
    for name in LOADS:
        md = metadata.get(name)
        if md is None:
            print(f"{name}: not materialized", file=out)
            continue
        mode = _value(md.get("hubspot/write_mode", "create"))
        print(f"{f'{name} ({mode}):':<20} {outcome_line(md)}", file=out)
    written = sum(_count(metadata, word) for word in ("created", "updated", "archived"))
    if metadata and written == 0:
        same = _count(metadata, "unchanged") + _count(metadata, "skipped")
        print(
            f"\nNothing new was created and nothing changed: {same} rows are as an earlier run sent them.",
            file=out,
        )
        failed = _count(metadata, "failed")
        if failed:
            print(f"{failed} rows are still rejected, as before (listed below).", file=out)


def _print_rejected(metadata: dict[str, dict[str, Any]], out: Any) -> None:
    for name in LOADS:
        md = metadata.get(name)
        if md is None or not _value(md["hubspot/rows_failed"]):
            continue
        table = _value(md["hubspot/failed_rows"])
        print(f"\nRejected {name} rows (key, reason):", file=out)
        for record in table.records[:20]:
            row = record.data
            code = f"{row.get('code')}: " if row.get("code") else ""
            print(f"  {row.get('key')}: {row.get('category')} {code}{row.get('message')}", file=out)


def summarize(
    result: dg.ExecuteInProcessResult, seconds: float, target: Target, *, out: Any = sys.stdout
) -> bool:
    """Print what the run did; return whether every load materialized."""
    from hubspot_example.target import SANDBOX_DB

    metadata = _load_metadata(result)
    print(f"\nLoaded into {_where(target, SANDBOX_DB)} in {seconds:.1f} s\n", file=out)
    _print_outcomes(metadata, out)
    _print_rejected(metadata, out)
    totals = _sandbox_totals(target, SANDBOX_DB)
    if totals is not None:
        objects = ", ".join(f"{v} {k}" for k, v in sorted(totals["objects"].items()))
        links = ", ".join(f"{n} {pair}" for pair, n in totals["associations"].items()) or "none"
        print(f"\nThe sandbox now holds {objects or 'nothing'}; associations: {links}.", file=out)
    for message in _failure_messages(result):
        print(f"\nFAILED {message}", file=out)
    print(
        "\nWhere to look:\n"
        "  make sandbox   # browse the sandbox's objects at http://127.0.0.1:8765/\n"
        "  make dev       # the Dagster UI at http://127.0.0.1:3000 (asset metadata, checks, run logs);\n"
        "                 # it runs `dg dev` in dbt_examples/ with the sandbox at :8765",
        file=out,
    )
    return result.success and all(name in metadata for name in LOADS)


def serve_sandbox(port: int) -> int:
    """Run the demo's sandbox (same SQLite file and custom properties) in the foreground until Ctrl-C."""
    import signal
    import threading

    from hubspot_example.target import CUSTOM_PROPERTIES, SANDBOX_DB

    from hubspot_loader.dagster.sandbox_resource import SandboxHubSpotResource
    from hubspot_loader.sandbox.runner import start_sandbox

    resource = SandboxHubSpotResource(db_path=str(SANDBOX_DB), extra_properties=CUSTOM_PROPERTIES)
    handle = start_sandbox(resource.sandbox_config().replace(port=port))
    print(f"HubSpot sandbox (demo data in {SANDBOX_DB})")
    print(f"  {handle.base_url}/   token: {handle.token}")
    print("Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    handle.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the demo job once (exit 0 when every asset materialized), or serve its sandbox.

    The first line printed says where the loads go; an unusable target (``--target hubspot`` without a
    token, an unknown ``HUBSPOT_TARGET``) exits 2 before anything runs.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-sandbox", type=int, metavar="PORT", help="only run the demo's sandbox")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        help=f"where the loads go (default: ${TARGET_ENV}, else sandbox); hubspot needs a token",
    )
    parser.add_argument("--print-target", action="store_true", help="only print where the loads would go")
    parser.add_argument(
        "--changes",
        action="store_true",
        help="first edit a few raw rows of the warehouse (hubspot_example/changes.py), then sync the change",
    )
    args = parser.parse_args(argv)
    if args.serve_sandbox is not None:
        return serve_sandbox(args.serve_sandbox)
    try:
        target = choose_target(args.target)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ[TARGET_ENV] = target.kind  # hubspot_example.target.hubspot_target() reads the same choice
    print(target.describe(default_sandbox_db()), flush=True)
    if args.print_target:
        return 0
    from hubspot_example.changes import ChangeError
    from hubspot_example.definitions import defs  # dbt parse if needed, then the project's defs

    try:
        selection = _change_the_warehouse(defs) if args.changes else None
    except ChangeError as exc:  # the seeds are not the committed ones
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    job = defs.resolve_job_def("warehouse_to_hubspot")
    result = job.execute_in_process(raise_on_error=False, asset_selection=selection)
    ok = summarize(result, time.monotonic() - started, target)
    if args.changes:
        print("\n`make demo` reloads the committed seeds, so it syncs HubSpot back to them.")
    return 0 if ok else 1


def _change_the_warehouse(defs: dg.Definitions) -> list[dg.AssetKey]:
    """Reload the seeds, edit a few raw rows (``changes.py``); return the job's assets but the seeds."""
    from hubspot_example.changes import RAW_SEEDS, reseed_and_change

    print("Changing the warehouse's raw data (dbt seed of the committed CSVs, then):", flush=True)
    for description in reseed_and_change():
        print(f"  {description}", flush=True)
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return sorted((key for key in keys if key.to_user_string() not in RAW_SEEDS), key=str)


if __name__ == "__main__":
    sys.exit(main())
