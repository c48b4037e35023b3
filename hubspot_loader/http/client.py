"""The one HTTP edge of the loader: :class:`HubSpotClient` on a ``requests.Session``.

It authenticates, paces every request through a shared :class:`~hubspot_loader.http.ratelimit.RateLimiter`,
retries what is safe to retry (:mod:`hubspot_loader.http.retry`), sends batch creates concurrently, matches
HubSpot's answer back to rows by ``objectWriteTraceId`` (:mod:`hubspot_loader.core.batching`), isolates
whole-batch failures by splitting, and reconciles ambiguous failures before resending.

Ambiguous failures (read timeout, connection dropped after sending, gateway 5xx) may hide a committed
write. With ``unique_property`` the client reads the rows back by that property (``idProperty``) and
marks those found :data:`~hubspot_loader.core.model.RECONCILED`; only the rest are resent. Without one, the
default (``resend_ambiguous=True``) is to resend and record a warning on the batch, because a stalled
load is usually worse than a rare duplicate; ``resend_ambiguous=False`` fails such rows instead.

A batch answer whose ``status`` is ``CANCELED``, ``PENDING`` or ``PROCESSING`` creates the rows it
lists; the others are looked up the same way (after a short bounded wait for ``PENDING``/``PROCESSING``,
:class:`~hubspot_loader.http.retry.RetryPolicy` ``pending_polls``) and reconciled or resent, never blindly
(:mod:`hubspot_loader.http.reconcile`). Rows a ``PENDING``/``PROCESSING`` answer left out that have no unique
value are never resent, whatever ``resend_ambiguous`` says: they fail in doubt as ``HUBSPOT_PENDING``.

``batch_create(before_send=...)`` lets the caller write each batch ahead (the sync ledger,
:mod:`hubspot_loader.state.ledger`) before its first request leaves, and :meth:`HubSpotClient.find_by_unique`
is the lookup both in-run reconciliation and the ledger's crash recovery use. Each batch is written by
:class:`~hubspot_loader.http.batch_writer.BatchWriter` through :meth:`HubSpotClient.objects_path`,
:meth:`~HubSpotClient.send_once` and :meth:`~HubSpotClient.transport_error`; the state it shares with
reconciliation is in :mod:`hubspot_loader.http.batch_state`.

The sync modes' writes, :meth:`HubSpotClient.batch_update` and :meth:`HubSpotClient.batch_archive`
(:mod:`hubspot_loader.http.sync_writer`), share the retry loop (:mod:`hubspot_loader.http.group_writer`)
and the concurrent batch loop (:mod:`hubspot_loader.http.batch_pool`) with batch create; both writes are
idempotent, so what may have been processed is resent without reconciliation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from hubspot_loader._version import __version__
from hubspot_loader.core.model import MAX_BATCH_SIZE, BatchOutcome, PreparedInput, RecordRef, UpdateInput
from hubspot_loader.core.portal import AccountInfo, parse_account_info
from hubspot_loader.core.secrets import token_fingerprint
from hubspot_loader.errors import (
    HubSpotConfigurationError,
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotTransportError,
    error_for,
    parse_body,
)
from hubspot_loader.http.base_url import DEFAULT_BASE_URL, check_base_url, no_proxy_for
from hubspot_loader.http.batch_pool import RunBatch, run_batches
from hubspot_loader.http.batch_state import BeforeSend, LoadState
from hubspot_loader.http.batch_writer import BatchWriter
from hubspot_loader.http.concurrency import ConcurrencyController
from hubspot_loader.http.ratelimit import DEFAULT_REQUESTS_PER_10S, RateLimiter
from hubspot_loader.http.retry import parse_retry_after
from hubspot_loader.http.settings import (
    DEFAULT_MAX_SPLIT_REQUESTS,
    LEARN,
    ClientSettings,
    check_batch_size,
    settings_from_keywords,
)
from hubspot_loader.http.sync_writer import ArchiveWriter, UpdateWriter
from hubspot_loader.http.transport import Answer, encode_body, is_ambiguous

ACCOUNT_INFO_PATH = "/account-info/v3/details"
"""HubSpot's account details (``portalId``, ``uiDomain`` ...); reference §16.7."""


class HubSpotClient:
    """HTTP client for the HubSpot CRM endpoints the loader needs.

    Args:
        access_token: private-app or OAuth token, sent as ``Authorization: Bearer``. Never logged,
            never in exception text or ``repr``.
        base_url: API root. Plain ``http://`` is refused unless the host is loopback (the sandbox).
        settings: the tunables (:class:`~hubspot_loader.http.settings.ClientSettings`: API version,
            timeout, concurrency, rate budget, batch size, retries, split budget, resending after
            ambiguous failures); its defaults when ``None``. Each is also an attribute of the client
            (``client.batch_size``, ``client.retry`` ...), and ``client.settings`` is the object.
        session: a ``requests.Session`` to use (not closed by :meth:`close`); a pooled one by default.
        rate_limiter: a limiter to share with other clients of the same token (then
            ``settings.requests_per_10s`` is unused).
        **deprecated: the settings as keywords (``max_in_flight=4``, ...), the old form: accepted for
            one release with a :class:`DeprecationWarning`; a :class:`TypeError` beside ``settings`` or
            for a name that is not a setting.

    """

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        settings: ClientSettings | None = None,
        session: requests.Session | None = None,
        rate_limiter: RateLimiter | None = None,
        **deprecated: Any,
    ) -> None:
        if not access_token or any(c in access_token for c in "\r\n") or access_token != access_token.strip():
            raise HubSpotConfigurationError("access_token must be a non-empty token without whitespace")
        checked = check_base_url(base_url)
        settings = settings_from_keywords(settings, deprecated)
        self.settings = settings
        self._token = access_token
        self.base_url = checked.url
        self._proxies = no_proxy_for(checked)
        self.api_version = settings.api_version
        self.timeout = settings.timeout
        self.max_in_flight = settings.max_in_flight
        self.batch_size = settings.batch_size
        self.retry = settings.retry
        self.max_split_requests = settings.max_split_requests
        self.resend_ambiguous = settings.resend_ambiguous
        self.adaptive_concurrency = settings.adaptive_concurrency
        budget = settings.requests_per_10s
        self.limiter = rate_limiter or (
            RateLimiter(DEFAULT_REQUESTS_PER_10S, learn=True) if budget == LEARN else RateLimiter(int(budget))
        )
        self.concurrency = ConcurrencyController(
            self.max_in_flight, lambda: self.limiter.per_second, adaptive=settings.adaptive_concurrency
        )
        self.user_agent = f"hubspot-loader/{__version__}"
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=self.max_in_flight + 1, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session
        self._cache: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()
        self._sent = _RequestCount()

    # ---------------------------------------------------------------- plumbing

    def __repr__(self) -> str:
        return (
            f"HubSpotClient(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"max_in_flight={self.max_in_flight}, access_token='***')"
        )

    __str__ = __repr__

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections (a session passed in by the caller is left open)."""
        if self._owns_session:
            self._session.close()

    @staticmethod
    def _check_batch_size(batch_size: int) -> int:
        return check_batch_size(batch_size)

    @property
    def token_fingerprint(self) -> str:
        """The first 12 hex digits of the token's SHA-256: tells tokens apart without revealing them."""
        return token_fingerprint(self._token)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")

    def objects_path(self, object_type: str, action: str) -> str:
        """Return the path of the batch endpoint ``action`` (``create``, ``read`` ...) of ``object_type``."""
        t = quote(object_type, safe="")
        if self.api_version.startswith("v"):
            return f"/crm/{self.api_version}/objects/{t}/batch/{action}"
        return f"/crm/objects/{self.api_version}/{t}/batch/{action}"

    def _properties_path(self, object_type: str) -> str:
        t = quote(object_type, safe="")
        if self.api_version.startswith("v"):
            return f"/crm/v3/properties/{t}"
        return f"/crm/properties/{self.api_version}/{t}"

    def _labels_path(self, from_type: str, to_type: str) -> str:
        a, b = quote(from_type, safe=""), quote(to_type, safe="")
        if self.api_version.startswith("v"):
            return f"/crm/v4/associations/{a}/{b}/labels"
        return f"/crm/associations/{self.api_version}/{a}/{b}/labels"

    @property
    def requests_sent(self) -> int:
        """HTTP requests this client has sent (retries included), reads and writes alike."""
        return self._sent.value

    def objects_root(self, object_type: str) -> str:
        """Return the path of ``object_type``'s objects (list, search: ``…/objects/{type}``)."""
        t = quote(object_type, safe="")
        if self.api_version.startswith("v"):
            return f"/crm/{self.api_version}/objects/{t}"
        return f"/crm/objects/{self.api_version}/{t}"

    def read_request(self, method: str, path: str, payload: Any = None, *, what: str) -> Answer:
        """Send an idempotent read (a GET, a search, a batch read) with full retries; return the 2xx answer.

        Paced by the client's rate limiter like every request. Raises the :class:`HubSpotError` of a
        non-2xx answer (or of no answer) after the retries the policy allows.
        """
        return self._request(method, path, payload, what=what)

    def send_once(self, method: str, path: str, data: bytes | None) -> Answer:
        """Send one paced HTTP request; return its answer. Transport exceptions propagate (token redacted)."""
        sent_at = self.limiter.reserve()
        self._sent.add()
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = self.base_url + path
        started, status = self.concurrency.started(), None
        try:
            response = self._session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=self.timeout,
                verify=True,
                allow_redirects=False,
                proxies=self._proxies,
            )
            status = response.status_code
        finally:
            self.limiter.complete(sent_at)
            self.concurrency.finished(started, status)
        self.limiter.observe(response.headers, sent_at=sent_at)
        return Answer(response.status_code, parse_body(response.content), response.headers, url)

    def transport_error(self, exc: BaseException, *, ambiguous: bool, what: str) -> HubSpotTransportError:
        """Return the error for a request to ``what`` that got no answer (``exc``), the token redacted."""
        detail = self._redact(f"{type(exc).__name__}: {exc}")
        note = " (the request may have been processed)" if ambiguous else ""
        return HubSpotTransportError(f"{what}: no answer from HubSpot{note}: {detail}", ambiguous=ambiguous)

    def _request(self, method: str, path: str, payload: Any = None, *, what: str) -> Answer:
        """Send an idempotent request (GET, batch read) with full retries; raise on any non-2xx answer."""
        data = None if payload is None else encode_body(payload)
        started = time.monotonic()
        attempts = rate_limited = 0
        while True:
            attempts += 1
            retry_after: float | None = None
            try:
                answer = self.send_once(method, path, data)
            except Exception as exc:
                if not self.retry.is_retryable_exception(exc):
                    raise
                error: HubSpotError = self.transport_error(exc, ambiguous=is_ambiguous(exc), what=what)
            else:
                if 200 <= answer.status < 300:
                    return answer
                error = error_for(answer.error_response(), what=what)
                policy = error.policy if isinstance(error, HubSpotRateLimitError) else None
                if not self.retry.is_retryable_status(answer.status, rate_limit_policy=policy):
                    raise error
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                if answer.status == 429:
                    rate_limited += 1
                    self.limiter.on_rate_limited(retry_after)
            wait_s = self.retry.delay(attempts - rate_limited, retry_after)
            elapsed = time.monotonic() - started
            if wait_s is None or not self.retry.may_retry(
                attempts, elapsed, wait_s, rate_limited=rate_limited
            ):
                raise error
            time.sleep(wait_s)

    # ---------------------------------------------------------------- reads

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        *,
        id_property: str | None = None,
        properties: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Read objects by id, or by values of a unique property (``id_property``); skip missing ones.

        Sent in chunks of 100; each result is HubSpot's object (``id``, ``properties`` ...).
        """
        results: list[dict[str, Any]] = []
        path = self.objects_path(object_type, "read")
        for start in range(0, len(ids), MAX_BATCH_SIZE):
            chunk = ids[start : start + MAX_BATCH_SIZE]
            body: dict[str, Any] = {
                "inputs": [{"id": str(i)} for i in chunk],
                "properties": list(properties),
                "propertiesWithHistory": [],
            }
            if id_property:
                body["idProperty"] = id_property
            answer = self._request("POST", path, body, what=f"batch read of {object_type}")
            if isinstance(answer.body, dict):
                results.extend(r for r in answer.body.get("results") or [] if isinstance(r, dict))
        return results

    def find_by_unique(self, object_type: str, prop: str, values: Iterable[str]) -> dict[str, str]:
        """Look objects up by a unique property; return ``casefolded value → id`` for those that exist.

        Values are stripped; blanks are ignored; lookups are case-insensitive (HubSpot lowercases emails).
        Raises the read's :class:`~hubspot_loader.errors.HubSpotError` after its retries.
        """
        originals: dict[str, str] = {}
        for value in values:
            text = str(value or "").strip()
            if text:
                originals.setdefault(text.casefold(), text)
        if not originals:
            return {}
        found = self.batch_read(object_type, list(originals.values()), id_property=prop, properties=[prop])
        ids: dict[str, str] = {}
        for obj in found:
            value = str((obj.get("properties") or {}).get(prop) or "").strip().casefold()
            if value and obj.get("id") is not None:
                ids[value] = str(obj["id"])
        return ids

    def _cached_get(self, key: tuple[str, ...], path: str, what: str) -> list[dict[str, Any]]:
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
        answer = self._request("GET", path, what=what)
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        value = [r for r in results or [] if isinstance(r, dict)]
        with self._cache_lock:
            return self._cache.setdefault(key, value)

    def properties(self, object_type: str) -> list[dict[str, Any]]:
        """Return the property definitions of ``object_type`` (``GET .../properties/{type}``), cached."""
        return self._cached_get(
            ("properties", object_type), self._properties_path(object_type), f"properties of {object_type}"
        )

    def create_property(self, object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Create a property (``POST …/properties/{type}``, reference §16.6); return HubSpot's ``Property``.

        The cached definitions of ``object_type`` are dropped, so :meth:`properties` reads them again.
        Raises the request's :class:`~hubspot_loader.errors.HubSpotError` (403 without a schema scope).
        """
        try:
            path, what = self._properties_path(object_type), f"property create of {object_type}"
            answer = self._request("POST", path, definition, what=what)
        finally:
            with self._cache_lock:
                self._cache.pop(("properties", object_type), None)
        return answer.body if isinstance(answer.body, dict) else {}

    def association_labels(self, from_type: str, to_type: str) -> list[dict[str, Any]]:
        """Association types and labels from ``from_type`` to ``to_type``, cached per client."""
        return self._cached_get(
            ("labels", from_type, to_type),
            self._labels_path(from_type, to_type),
            f"association labels {from_type}->{to_type}",
        )

    def account_info(self) -> AccountInfo:
        """Read the token's portal id and UI domain (``GET /account-info/v3/details``); not cached.

        Raises the read's :class:`~hubspot_loader.errors.HubSpotError` after its retries (e.g.
        :class:`~hubspot_loader.errors.HubSpotScopeError` for a token without access to it), or a
        :class:`~hubspot_loader.errors.HubSpotError` naming the field when the answer lacks one.
        """
        answer = self._request("GET", ACCOUNT_INFO_PATH, what="account info")
        return parse_account_info(answer.body)

    # ---------------------------------------------------------------- batch create

    def batch_create(
        self,
        object_type: str,
        inputs: Iterable[PreparedInput],
        *,
        unique_property: str | None = None,
        batch_size: int | None = None,
        before_send: BeforeSend | None = None,
    ) -> Iterator[BatchOutcome]:
        """Create objects in batches, yielding one :class:`BatchOutcome` per batch as it completes.

        ``inputs`` is consumed lazily; at most ``max_in_flight`` batches exist at a time. Every input of
        a yielded batch has exactly one :class:`RowOutcome`. ``unique_property`` (e.g. ``email``, or a
        custom property with ``hasUniqueValue``) enables reconciliation after ambiguous failures and
        result matching for answers without trace ids. ``before_send`` (see :data:`BeforeSend`) is
        called for each batch before its first request.

        Raises:
            HubSpotAuthenticationError, HubSpotScopeError: 401/403, fatal for the load.
            HubSpotRateLimitError: the DAILY limit. Every batch that finished was yielded first;
                inputs not yet taken from ``inputs`` were never sent.
            HubSpotNotFoundError, HubSpotValidationError: the endpoint or object type does not exist.

        """
        size = self._check_batch_size(batch_size if batch_size is not None else self.batch_size)
        load = LoadState(
            object_type=object_type,
            unique_property=unique_property,
            split_budget=self.max_split_requests,
            before_send=before_send,
        )
        writer = BatchWriter(self, load)
        yield from self._run_batches(writer.run_batch, inputs, size, load, "created")

    # ---------------------------------------------------------------- sync writes

    def batch_update(
        self, object_type: str, inputs: Iterable[UpdateInput], *, batch_size: int | None = None
    ) -> Iterator[BatchOutcome]:
        """Update records by id in batches (``batch/update``, §16.1); yield one :class:`BatchOutcome` each.

        Consumed lazily and sent concurrently like :meth:`batch_create`. Every input of a yielded batch has
        exactly one :class:`RowOutcome`: :data:`~hubspot_loader.core.model.UPDATED` with the id HubSpot
        answered, or failed with a reason (``OBJECT_NOT_FOUND`` for an id that names no record,
        ``UNMATCHED_RESULT`` for one HubSpot's answer left out, e.g. a merged record; HubSpot's own for
        invalid values and duplicate ids). Updates are idempotent: retryable failures are resent without
        reconciliation (:mod:`hubspot_loader.http.sync_writer`). ``""`` clears a value (§16.2).

        Raises:
            HubSpotAuthenticationError, HubSpotScopeError: 401/403, fatal for the load.
            HubSpotRateLimitError: the DAILY limit. Every batch that finished was yielded first;
                inputs not yet taken from ``inputs`` were never sent.
            HubSpotNotFoundError, HubSpotValidationError: the endpoint or object type does not exist.

        """
        size = self._check_batch_size(batch_size if batch_size is not None else self.batch_size)
        load = LoadState(object_type=object_type, unique_property=None, split_budget=self.max_split_requests)
        writer = UpdateWriter(self, load)
        yield from self._run_batches(writer.run_batch, inputs, size, load, "updated")

    def batch_archive(
        self, object_type: str, records: Iterable[RecordRef], *, batch_size: int | None = None
    ) -> Iterator[BatchOutcome]:
        """Archive records by id in batches (``batch/archive``, §16.4); yield one :class:`BatchOutcome` each.

        Consumed lazily and sent concurrently like :meth:`batch_create`. HubSpot answers 204 whatever the
        records' state (ids that name no record included), so every record of an accepted batch is
        :data:`~hubspot_loader.core.model.ARCHIVED` (``position`` -1); a rejected batch fails every record
        of it with HubSpot's reason. Archiving is idempotent: retryable failures are resent.

        Raises:
            HubSpotAuthenticationError, HubSpotScopeError: 401/403, fatal for the load.
            HubSpotRateLimitError: the DAILY limit, after every finished batch was yielded.
            HubSpotNotFoundError, HubSpotValidationError: the endpoint or object type does not exist.

        """
        size = self._check_batch_size(batch_size if batch_size is not None else self.batch_size)
        load = LoadState(object_type=object_type, unique_property=None, split_budget=self.max_split_requests)
        writer = ArchiveWriter(self, load)
        yield from self._run_batches(writer.run_refs, records, size, load, "archived")

    def _run_batches(
        self, run: RunBatch[Any], inputs: Iterable[Any], size: int, load: LoadState, verb: str
    ) -> Iterator[BatchOutcome]:
        """Run one call's batches, at most :attr:`concurrency`'s limit (within ``max_in_flight``) at once."""
        cap = self.max_in_flight
        yield from run_batches(
            run, inputs, size=size, max_in_flight=cap, load=load, verb=verb, concurrency=self.concurrency
        )


class _RequestCount:
    """A thread-safe count of the requests a client sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


__all__ = [
    "DEFAULT_MAX_SPLIT_REQUESTS",
    "BeforeSend",
    "ClientSettings",
    "HubSpotClient",
    "encode_body",
    "is_ambiguous",
]
