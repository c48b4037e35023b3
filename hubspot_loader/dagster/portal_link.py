"""The link from a load's materialization to the object list in the HubSpot portal.

The portal id and UI domain come from ``GET /account-info/v3/details``
(:meth:`~hubspot_loader.http.client.HubSpotClient.account_info`), read **at most once per run and
portal**: the answer (or the fact that the read failed) is kept in memory for the run and in the run
directory (:mod:`hubspot_loader.dagster.run_files`), under a file lock, so the other loads of the run,
in this process or in others, reuse it. A read that fails (a token without access to the endpoint, no
answer, an answer without the fields) gives no link and a debug line in the run log; the load itself
is never failed by it. The URL form is described in :mod:`hubspot_loader.core.portal`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from hubspot_loader.core.portal import AccountInfo, object_list_url, parse_account_info
from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.dagster.run_files import atomic_file
from hubspot_loader.errors import HubSpotLoaderError
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.state.ledger import default_portal

try:  # POSIX: a lock shared by the run's step processes
    import fcntl
except ImportError:  # pragma: no cover - Windows: the in-process cache alone
    fcntl = None  # type: ignore[assignment]

_MEMO: dict[tuple[str, str], AccountInfo | None] = {}
"""(run id, portal) → what this process learned; bounded by :data:`_MEMO_LIMIT` entries."""
_MEMO_LIMIT = 64
_MEMO_LOCK = threading.Lock()


def portal_account(
    context: dg.AssetExecutionContext, hubspot: HubSpotResource, run_dir: Path | None
) -> AccountInfo | None:
    """Return the portal's account info, read at most once per run and portal; ``None`` if unavailable.

    ``run_dir`` (:func:`~hubspot_loader.dagster.run_files.run_directory`) shares the answer with the
    run's other step processes; without it only this process remembers it.
    """
    client = hubspot.get_client()
    try:
        portal = default_portal(client.base_url, client.token_fingerprint)
        key = (context.run.run_id, portal)
        with _MEMO_LOCK:
            if key in _MEMO:
                return _MEMO[key]
            cache = None
            if run_dir is not None:
                digest = hashlib.sha256(portal.encode("utf-8")).hexdigest()[:12]
                cache = run_dir / f"account_info.{digest}.json"
            with _file_lock(cache):
                found, account = _cached(context, cache)
                if not found:
                    account = _read(context, client, cache)
            if len(_MEMO) >= _MEMO_LIMIT:
                _MEMO.clear()
            _MEMO[key] = account
            return account
    finally:
        client.close()


def portal_link(
    context: dg.AssetExecutionContext, account: AccountInfo | None, object_type: str
) -> str | None:
    """Return the URL of the portal's list of ``object_type``; ``None`` (with a debug line) if none."""
    if account is None:
        return None
    url = object_list_url(account, object_type)
    if url is None:
        context.log.debug(
            f"no HubSpot portal link for {object_type!r}: its objectTypeId is per portal; give the load "
            "the type id (2-…) to get one"
        )
        return None
    return url


def _cached(context: dg.AssetExecutionContext, cache: Path | None) -> tuple[bool, AccountInfo | None]:
    """Return ``(True, what an earlier step of the run learned)``, or ``(False, None)`` if nothing yet."""
    if cache is None or not cache.exists():
        return False, None
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(saved, dict) and "unavailable" in saved:
            context.log.debug(f"no HubSpot portal link: {saved['unavailable']} (earlier in this run)")
            return True, None
        return True, parse_account_info(saved)
    except (OSError, ValueError, HubSpotLoaderError) as exc:
        context.log.debug(f"no HubSpot portal link: the run's account-info file {cache} is unreadable: {exc}")
        return True, None


def _read(context: dg.AssetExecutionContext, client: HubSpotClient, cache: Path | None) -> AccountInfo | None:
    """Read the account info once; keep the answer, or why there is none, in ``cache`` for the run."""
    account: AccountInfo | None = None
    saved: dict[str, Any]
    try:
        account = client.account_info()
    except HubSpotLoaderError as exc:
        reason = f"the account-info read failed ({type(exc).__name__}: {exc})"
        context.log.debug(f"no HubSpot portal link: {reason}")
        saved = {"unavailable": reason}
    else:
        saved = {"portalId": account.portal_id, "uiDomain": account.ui_domain}
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(cache) as temporary:
                temporary.write_text(json.dumps(saved), encoding="utf-8")
        except OSError as exc:
            context.log.debug(f"could not keep the account info for the run in {cache}: {exc}")
    return account


@contextlib.contextmanager
def _file_lock(cache: Path | None) -> Iterator[None]:
    """Hold an exclusive lock beside ``cache`` (blocking, released on exit); nothing without one."""
    if cache is None or fcntl is None:
        yield
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle = (cache.parent / f"{cache.name}.lock").open("a+b")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
