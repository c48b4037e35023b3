"""The example warehouse: its dbt project, the ``dbt parse`` the dbt component needs, a reader of its tables.

dbt runs through dagster-dbt's ``DbtProjectComponent`` (``defs/warehouse/defs.yaml``), with
``prepare_if_dev: false``: the component then reads ``target/manifest.json`` as it is, so
:func:`prepare_warehouse` (called by ``definitions.py`` before the defs load) runs ``dbt parse`` when the
manifest is missing or older than a project file; otherwise it is fast. The DuckDB file is
``$HUBSPOT_LOADER_DUCKDB`` or ``dbt_examples/warehouse.duckdb``; a relative ``$HUBSPOT_LOADER_DUCKDB`` is
made absolute first, because dbt runs in the project directory.
"""

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

DBT_PROJECT_DIR: Path = Path(__file__).resolve().parents[1]
"""The dbt project directory (``dbt_examples/``)."""

DUCKDB_ENV_VAR = "HUBSPOT_LOADER_DUCKDB"
"""Environment variable naming the DuckDB file; ``profiles.yml`` reads it."""

DEFAULT_DUCKDB_PATH: Path = DBT_PROJECT_DIR / "warehouse.duckdb"
"""The DuckDB file used when :data:`DUCKDB_ENV_VAR` is not set."""

MODELS: tuple[str, ...] = ("hubspot_companies", "hubspot_contacts", "hubspot_deals")
"""The models shaped for loading into HubSpot."""

_PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
_PROJECT_DIRS = ("models", "seeds", "tests", "macros")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def duckdb_path() -> Path:
    """Return the absolute path of the warehouse DuckDB file.

    ``$HUBSPOT_LOADER_DUCKDB`` (a relative value is taken relative to the current directory) or
    ``dbt_examples/warehouse.duckdb``.
    """
    value = os.environ.get(DUCKDB_ENV_VAR, "").strip()
    return Path(value).expanduser().resolve() if value else DEFAULT_DUCKDB_PATH


def _export_duckdb_path() -> None:
    """Make a relative ``$HUBSPOT_LOADER_DUCKDB`` absolute for dbt, which runs in the project directory.

    Unset, dbt's relative default (``warehouse.duckdb`` in the project directory) is already right.
    """
    value = os.environ.get(DUCKDB_ENV_VAR, "").strip()
    if value and not Path(value).expanduser().is_absolute():
        os.environ[DUCKDB_ENV_VAR] = str(duckdb_path())


def _dbt_executable() -> str:
    """``dbt`` on ``PATH``, else the one next to this Python (a virtualenv that is not activated)."""
    found = shutil.which("dbt")
    if found:
        return found
    sibling = Path(sys.executable).parent / "dbt"
    return str(sibling) if sibling.exists() else "dbt"


def _put_dbt_on_path() -> None:
    """The dbt component runs the ``dbt`` on ``PATH``: add this Python's bin directory when it has none."""
    if shutil.which("dbt") is None and (Path(sys.executable).parent / "dbt").exists():
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
"""The dagster-dbt project (manifest at ``dbt_examples/target/manifest.json``)."""


def _manifest_is_current(manifest: Path) -> bool:
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    files = [DBT_PROJECT_DIR / name for name in _PROJECT_FILES]
    for directory in _PROJECT_DIRS:
        files.extend(p for p in (DBT_PROJECT_DIR / directory).rglob("*") if p.is_file())
    return all(not f.exists() or f.stat().st_mtime <= built for f in files)


def prepare_manifest(force: bool = False) -> Path:
    """Make sure ``target/manifest.json`` exists and is current; return its path.

    Runs ``dbt parse`` when the manifest is missing, older than a project file, or ``force`` is set.
    Safe with concurrent processes (pytest-xdist workers, ``dagster dev`` code servers): a file lock
    serialises the parses, and the manifest is parsed into a private target directory and then moved
    into place atomically, so a reader never sees a half-written file.
    """
    manifest = Path(dbt_project.manifest_path)
    if not force and _manifest_is_current(manifest):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(manifest.with_name("manifest.json.lock")), timeout=300):
        if not force and _manifest_is_current(manifest):
            return manifest  # another process parsed it while we waited
        with tempfile.TemporaryDirectory(prefix="parse-", dir=manifest.parent) as scratch:
            (
                DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable())
                .cli(["parse", "--quiet"], target_path=Path(scratch))
                .wait()
            )
            os.replace(Path(scratch) / "manifest.json", manifest)
    return manifest


def prepare_warehouse() -> Path:
    """Get the project ready for the dbt component: ``dbt`` on ``PATH``, an absolute DuckDB path, a manifest.

    Returns the manifest's path (:func:`prepare_manifest`).
    """
    _put_dbt_on_path()
    _export_duckdb_path()
    return prepare_manifest()


def dbt_resource() -> DbtCliResource:
    """Return a ``DbtCliResource`` of this project (for running dbt by hand, e.g. in tests)."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable())


def read_model(name: str, database: Path | None = None) -> pd.DataFrame:
    """Read a model's table from the warehouse DuckDB file (read-only), ordered by its first column (the key).

    Dtypes: integers → ``Int64`` (nullable); doubles → ``float64`` (NaN for null); text → ``object``
    (``None`` for null); booleans → ``bool`` (``boolean`` if there are nulls); timestamps with time zone →
    ``datetime64[ns, UTC]``; timestamps → ``datetime64[ns]``; dates → ``object`` of ``datetime.date``
    (``None`` for null); lists → ``object`` of Python lists.

    Args:
        name: the model (table) name, e.g. ``hubspot_contacts``.
        database: the DuckDB file; defaults to :func:`duckdb_path`.

    Raises:
        ValueError: if ``name`` is not a plain identifier.
        FileNotFoundError: if the DuckDB file does not exist (run ``dbt build`` first).

    """
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a model name: {name!r}")
    path = Path(database) if database is not None else duckdb_path()
    if not path.exists():
        raise FileNotFoundError(f"no DuckDB warehouse at {path}; run `dbt build` in {DBT_PROJECT_DIR}")
    with duckdb.connect(str(path), read_only=True) as con:
        types = {row[0]: str(row[1]) for row in con.execute(f'describe "{name}"').fetchall()}
        frame = con.execute(f'select * from "{name}" order by 1').df()
    return _with_dtypes(frame, types)


def _with_dtypes(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    out = frame.copy()
    for column, sql_type in types.items():
        series = out[column]
        upper = sql_type.upper()
        if upper.endswith("[]"):
            out[column] = pd.Series(
                [None if v is None else [_plain(x) for x in v] for v in series], index=out.index, dtype=object
            )
        elif upper in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}:
            out[column] = series.astype("Int64")
        elif upper in {"DOUBLE", "FLOAT", "REAL"} or upper.startswith("DECIMAL"):
            out[column] = series.astype("float64")
        elif upper == "BOOLEAN":
            out[column] = series.astype("boolean" if series.isna().any() else bool)
        elif upper == "TIMESTAMP WITH TIME ZONE":
            out[column] = pd.to_datetime(series, utc=True).dt.tz_convert("UTC").dt.as_unit("ns")
        elif upper == "TIMESTAMP":
            out[column] = pd.to_datetime(series).dt.as_unit("ns")
        elif upper == "DATE":
            dates = pd.to_datetime(series)
            out[column] = pd.Series(
                [None if pd.isna(v) else v.date() for v in dates], index=out.index, dtype=object
            )
        elif upper == "VARCHAR":
            out[column] = series.astype(object).where(series.notna(), None)
    return out


def _plain(value: Any) -> Any:
    """NumPy scalars inside DuckDB list values → Python scalars."""
    return value.item() if hasattr(value, "item") else value
