"""The state URL: which database holds the ledger (``sqlite:///PATH`` or ``postgresql+psycopg://…``).

:func:`parse_state_url` accepts

- ``sqlite:///relative/path.sqlite``, ``sqlite:////absolute/path.sqlite`` (SQLAlchemy's form: three slashes,
  then the path), ``sqlite://`` (in memory), or a plain filesystem path (``~`` is expanded);
- ``postgresql+psycopg://user:password@host:port/database`` (psycopg 3); ``postgresql://`` and
  ``postgres://`` mean the same. libpq settings go in the query, e.g. ``?sslmode=require`` or
  ``?options=-csearch_path%3Dhubspot`` to keep the tables in a schema of their own.

Anything else is refused with :class:`~hubspot_loader.state.store_errors.StateUrlError`, whose text never
repeats the URL (it may hold a password). :func:`redact` renders a URL with its password masked.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from hubspot_loader.state.store_errors import StateUrlError

SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"
_POSTGRES_NAMES = {"postgresql", "postgres"}


def sqlite_url(path: str | os.PathLike[str]) -> URL:
    """Return the URL of a SQLite file (``":memory:"``: an in-memory database)."""
    text = os.fspath(path)
    if text in ("", ":memory:"):
        return URL.create("sqlite")
    return URL.create("sqlite", database=str(Path(text).expanduser()))


def parse_state_url(state_url: str | os.PathLike[str] | URL) -> URL:
    """Read a state URL (or a plain SQLite path) into a SQLAlchemy URL with a supported driver.

    Raises:
        StateUrlError: not a URL of a supported store, or its driver (psycopg) is not installed.

    """
    if isinstance(state_url, URL):
        url = state_url
    else:
        text = os.fspath(state_url).strip()
        if not text:
            raise StateUrlError(f"the state URL is empty: give {SUPPORTED}")
        if "://" not in text:
            return sqlite_url(text)
        try:
            url = sa.make_url(text)
        except sa.exc.ArgumentError:
            raise StateUrlError(f"cannot read the state URL: give {SUPPORTED}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.get_driver_name() not in ("pysqlite", "sqlite"):
            raise StateUrlError(
                f"SQLite state uses Python's sqlite3: give sqlite:///PATH, not {url.drivername}://"
            )
        return url.set(database=str(Path(url.database).expanduser())) if url.database else url
    if backend in _POSTGRES_NAMES:
        if url.drivername in _POSTGRES_NAMES:
            url = url.set(drivername="postgresql+psycopg")
        elif url.get_driver_name() != "psycopg":
            raise StateUrlError(
                f"PostgreSQL state uses psycopg 3: give postgresql+psycopg://…, not {url.drivername}://"
            )
        if importlib.util.find_spec("psycopg") is None:
            raise StateUrlError("PostgreSQL state needs psycopg 3: pip install 'hubspot-loader[postgres]'")
        return url
    raise StateUrlError(f"state store {backend!r} is not supported: give {SUPPORTED}")


def redact(url: URL) -> str:
    """Render the URL with its password masked (``***``): safe for logs, reprs and errors."""
    return url.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    """Whether the URL names a SQLite database."""
    return url.get_backend_name() == "sqlite"


__all__ = ["SUPPORTED", "is_sqlite", "parse_state_url", "redact", "sqlite_url"]
