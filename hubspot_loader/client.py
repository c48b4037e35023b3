"""The one HTTP edge of the loader: :class:`HubSpotClient` on a ``requests.Session``.

It authenticates, paces every request through a shared :class:`~hubspot_loader.ratelimit.RateLimiter`,
retries what is safe to retry (:mod:`hubspot_loader.retry`), sends batch creates concurrently, matches
HubSpot's answer back to rows by ``objectWriteTraceId`` (:mod:`hubspot_loader.batching`), isolates
whole-batch failures by splitting, and reconciles ambiguous failures before resending.

Ambiguous failures (read timeout, connection dropped after sending, gateway 5xx) may hide a committed
write. With ``unique_property`` the client reads the rows back by that property (``idProperty``) and
marks those found :data:`~hubspot_loader.model.RECONCILED`; only the rest are resent. Without one, the
default (``resend_ambiguous=True``) is to resend and record a warning on the batch, because a stalled
load is usually worse than a rare duplicate; ``resend_ambiguous=False`` fails such rows instead.

``batch_create(before_send=...)`` lets the caller write each batch ahead (the sync ledger,
:mod:`hubspot_loader.ledger`) before its first request leaves, and :meth:`HubSpotClient.find_by_unique`
is the lookup both in-run reconciliation and the ledger's crash recovery use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from types import TracebackType
from typing import Any
from urllib.parse import quote

import orjson
import requests
from requests.adapters import HTTPAdapter

from hubspot_loader import __version__
from hubspot_loader.base_url import check_base_url, no_proxy_for
from hubspot_loader.batching import match_results, parse_time, row_error
from hubspot_loader.errors import (
    ErrorResponse,
    HubSpotConfigurationError,
    HubSpotError,
    HubSpotRateLimitError,
    HubSpotTransportError,
    error_for,
    parse_body,
    parse_existing_id,
)
from hubspot_loader.ledger import token_fingerprint
from hubspot_loader.model import (
    CREATED,
    FAILED,
    INVALID_VALUE,
    NOT_SENT,
    RATE_LIMIT_DAILY,
    RECONCILED,
    TRANSPORT_ERROR,
    BatchOutcome,
    BatchRecord,
    PreparedInput,
    RowError,
    RowOutcome,
)
from hubspot_loader.ratelimit import RateLimiter
from hubspot_loader.retry import AMBIGUOUS_STATUSES, RetryPolicy, parse_retry_after

MAX_BATCH_SIZE = 100
DEFAULT_MAX_SPLIT_REQUESTS = 1000
"""Default bound on extra requests per load spent isolating whole-batch failures by splitting."""

BeforeSend = Callable[[int, list[PreparedInput]], None]
"""Called with a batch's index and inputs in the worker thread, before the batch's first request.

The ledger uses it to write the batch ahead as pending. If it raises, the batch is not sent and the
exception ends the ``batch_create`` call (like any unexpected error)."""

#: Whole-batch 4xx answers that are isolated by splitting (they name no row, or not every row).
SPLIT_STATUSES = frozenset({400, 409, 413})
#: 400 messages that concern the request, not any row: splitting cannot help, so they are fatal.
_REQUEST_LEVEL_400 = ("Unable to infer object type",)


def encode_body(payload: Any) -> bytes:
    """Encode a request body as compact UTF-8 JSON, as every request of the client sends it (orjson)."""
    return orjson.dumps(payload)


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield the exception, its exception args, ``reason``, causes and contexts (bounded)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a transport failure happened after the request may have reached HubSpot.

    Connect failures (refused, DNS, connect timeout) are not ambiguous; read timeouts, broken bodies
    and connections dropped after sending (``RemoteDisconnected``, ``ProtocolError``, resets) are.
    Unknown cases count as ambiguous, which only costs a reconciliation read.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)):
        return True
    names = {type(e).__name__ for e in _exception_chain(exc)}
    return not names & {
        "NewConnectionError",
        "ConnectTimeoutError",
        "NameResolutionError",
        "ConnectionRefusedError",
    }


@dataclass
class _Answer:
    status: int
    body: Any
    headers: Mapping[str, str]
    url: str

    def error_response(self) -> ErrorResponse:
        return ErrorResponse(status=self.status, body=self.body, headers=dict(self.headers), url=self.url)


class _Aborted(Exception):
    """Another batch hit a fatal error; stop before sending more."""


@dataclass
class _Load:
    """State shared by the batches of one ``batch_create`` call."""

    object_type: str
    unique_property: str | None
    split_budget: int
    before_send: BeforeSend | None = None
    abort: threading.Event = field(default_factory=threading.Event)
    fatal: HubSpotError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_splits(self, n: int) -> bool:
        with self.lock:
            if self.split_budget < n:
                return False
            self.split_budget -= n
            return True

    def set_fatal(self, exc: HubSpotError) -> None:
        with self.lock:
            if self.fatal is None:
                self.fatal = exc
        self.abort.set()


@dataclass
class _Batch:
    """One batch in progress: its record, settled outcomes and rows sent without an answer."""

    index: int
    record: BatchRecord
    outcomes: dict[str, RowOutcome] = field(default_factory=dict)
    unacked: set[str] = field(default_factory=set)
    started: float | None = None

    def settle(
        self, row: PreparedInput, status: str, *, hubspot_id: str | None = None, error: RowError | None = None
    ) -> None:
        self.outcomes[row.trace_id] = RowOutcome(
            key=row.key,
            position=row.position,
            status=status,
            hubspot_id=hubspot_id,
            error=error,
            trace_id=row.trace_id,
            batch_index=self.index,
        )

    def fail(self, rows: Iterable[PreparedInput], error: RowError) -> None:
        for row in rows:
            self.settle(row, FAILED, error=error)


def _drop_unencodable(batch: _Batch, rows: list[PreparedInput]) -> list[PreparedInput]:
    """Fail the rows whose input has no JSON form (each named with the reason); return the others.

    Formatting makes every property value a string, so this is a safety net: an association id or
    type id of a type JSON cannot carry would otherwise stop the whole load.
    """
    kept = []
    for row in rows:
        try:
            encode_body(row.payload())
        except TypeError as exc:
            batch.settle(
                row,
                FAILED,
                error=RowError(INVALID_VALUE, f"not sent: the input has no JSON form ({exc})"),
            )
        else:
            kept.append(row)
    return kept


class HubSpotClient:
    """HTTP client for the HubSpot CRM endpoints the loader needs.

    Args:
        access_token: private-app or OAuth token, sent as ``Authorization: Bearer``. Never logged,
            never in exception text or ``repr``.
        base_url: API root. Plain ``http://`` is refused unless the host is loopback (the sandbox).
        api_version: ``"2026-03"`` (date-versioned paths, default) or ``"v3"`` (legacy paths).
        timeout: seconds, or ``(connect, read)`` seconds, per HTTP request.
        max_in_flight: batches sent concurrently (also sizes the connection pool).
        requests_per_10s: the app's rolling 10-second budget (100 Free/Starter, 190 Pro/Enterprise).
        batch_size: default inputs per batch-create request (1-100).
        retry: the retry policy; :class:`~hubspot_loader.retry.RetryPolicy` defaults when ``None``.
        max_split_requests: extra requests one ``batch_create`` call may spend isolating whole-batch
            failures; rows left unisolated fail with "not isolated: split budget exhausted".
        session: a ``requests.Session`` to use (not closed by :meth:`close`); a pooled one by default.
        resend_ambiguous: without a ``unique_property``, resend rows after an ambiguous failure
            (default, recorded as a batch warning) or fail them as possibly created.
        rate_limiter: a limiter to share with other clients of the same token.

    """

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = "https://api.hubapi.com",
        api_version: str = "2026-03",
        timeout: float | tuple[float, float] = (5.0, 60.0),
        max_in_flight: int = 4,
        requests_per_10s: int = 100,
        batch_size: int = MAX_BATCH_SIZE,
        retry: RetryPolicy | None = None,
        max_split_requests: int = DEFAULT_MAX_SPLIT_REQUESTS,
        session: requests.Session | None = None,
        resend_ambiguous: bool = True,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if not access_token or any(c in access_token for c in "\r\n") or access_token != access_token.strip():
            raise HubSpotConfigurationError("access_token must be a non-empty token without whitespace")
        checked = check_base_url(base_url)
        if not api_version or "/" in api_version:
            raise HubSpotConfigurationError(f"bad api_version {api_version!r}")
        if max_in_flight < 1:
            raise HubSpotConfigurationError("max_in_flight must be at least 1")
        if max_split_requests < 0:
            raise HubSpotConfigurationError("max_split_requests must not be negative")
        self._token = access_token
        self.base_url = checked.url
        self._proxies = no_proxy_for(checked)
        self.api_version = api_version
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.batch_size = self._check_batch_size(batch_size)
        self.retry = retry or RetryPolicy()
        self.max_split_requests = max_split_requests
        self.resend_ambiguous = resend_ambiguous
        self.limiter = rate_limiter or RateLimiter(requests_per_10s)
        self.user_agent = f"hubspot-loader/{__version__}"
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max_in_flight + 1, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session
        self._cache: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()

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
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise HubSpotConfigurationError(
                f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}"
            )
        return batch_size

    @property
    def token_fingerprint(self) -> str:
        """The first 12 hex digits of the token's SHA-256: tells tokens apart without revealing them."""
        return token_fingerprint(self._token)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")

    def _objects_path(self, object_type: str, action: str) -> str:
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

    def _send_once(self, method: str, path: str, data: bytes | None) -> _Answer:
        """One paced HTTP request. Transport exceptions propagate (with the token redacted)."""
        sent_at = self.limiter.reserve()
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = self.base_url + path
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
        finally:
            self.limiter.complete(sent_at)
        self.limiter.observe(response.headers, sent_at=sent_at)
        return _Answer(response.status_code, parse_body(response.content), response.headers, url)

    def _transport_error(self, exc: BaseException, *, ambiguous: bool, what: str) -> HubSpotTransportError:
        detail = self._redact(f"{type(exc).__name__}: {exc}")
        note = " (the request may have been processed)" if ambiguous else ""
        return HubSpotTransportError(f"{what}: no answer from HubSpot{note}: {detail}", ambiguous=ambiguous)

    def _request(self, method: str, path: str, payload: Any = None, *, what: str) -> _Answer:
        """Send an idempotent request (GET, batch read) with full retries; raise on any non-2xx answer."""
        data = None if payload is None else encode_body(payload)
        started = time.monotonic()
        attempts = rate_limited = 0
        while True:
            attempts += 1
            retry_after: float | None = None
            try:
                answer = self._send_once(method, path, data)
            except Exception as exc:
                if not self.retry.is_retryable_exception(exc):
                    raise
                error: HubSpotError = self._transport_error(exc, ambiguous=is_ambiguous(exc), what=what)
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
        path = self._objects_path(object_type, "read")
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

    def association_labels(self, from_type: str, to_type: str) -> list[dict[str, Any]]:
        """Association types and labels from ``from_type`` to ``to_type``, cached per client."""
        return self._cached_get(
            ("labels", from_type, to_type),
            self._labels_path(from_type, to_type),
            f"association labels {from_type}->{to_type}",
        )

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
        load = _Load(
            object_type=object_type,
            unique_property=unique_property,
            split_budget=self.max_split_requests,
            before_send=before_send,
        )
        iterator = iter(inputs)
        pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="hubspot-batch")
        running: set[Future[BatchOutcome]] = set()
        index = 0
        exhausted = False
        unexpected: BaseException | None = None
        batches = created = 0
        try:
            while True:
                while not exhausted and not load.abort.is_set() and len(running) < self.max_in_flight:
                    chunk = list(islice(iterator, size))
                    if not chunk:
                        exhausted = True
                        break
                    running.add(pool.submit(self._run_batch, load, index, chunk))
                    index += 1
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        outcome = future.result()
                    except BaseException as exc:
                        load.abort.set()
                        unexpected = unexpected or exc
                        continue
                    if outcome.record.created:
                        batches += 1
                        created += outcome.record.created
                    yield outcome
        finally:
            load.abort.set()
            pool.shutdown(wait=True, cancel_futures=True)
        if unexpected is not None:
            raise unexpected
        if load.fatal is not None:
            fatal = load.fatal
            if isinstance(fatal, HubSpotRateLimitError) and fatal.daily:
                message = (
                    f"HubSpot's DAILY API limit is reached: stopped loading {object_type}. What was "
                    f"loaded so far is kept ({created} row(s) created in {batches} batch(es)); "
                    f"rows not yet sent were not loaded. Resume after the daily reset. "
                    f"HubSpot said: {fatal.message}"
                )
                fatal.args = (message,)
                fatal.message = message
            raise fatal

    def _run_batch(self, load: _Load, index: int, rows: list[PreparedInput]) -> BatchOutcome:
        batch = _Batch(index=index, record=BatchRecord(index=index, rows=len(rows)))
        missing_error = RowError(
            category=NOT_SENT, message="not sent: the load stopped before this row was sent"
        )
        if load.before_send is not None and not load.abort.is_set():
            load.before_send(index, rows)
        try:
            self._write_group(batch, load, rows, top=True)
        except _Aborted:
            pass
        except HubSpotError as exc:
            load.set_fatal(exc)
            batch.record.error = str(exc)
            if isinstance(exc, HubSpotRateLimitError) and exc.daily:
                category = RATE_LIMIT_DAILY
            else:
                category = (exc.response.category if exc.response else None) or type(exc).__name__
            missing_error = RowError(
                category=category,
                message=f"not created: {exc}",
                http_status=exc.response.status if exc.response else None,
            )
        finally:
            if batch.started is not None:
                batch.record.duration_s = time.monotonic() - batch.started
        if batch.record.error is None and load.fatal is not None and len(batch.outcomes) < len(rows):
            batch.record.error = f"stopped: {load.fatal}"
        batch.fail((r for r in rows if r.trace_id not in batch.outcomes), missing_error)
        outcomes = [batch.outcomes[r.trace_id] for r in rows]
        record = batch.record
        record.created = sum(1 for o in outcomes if o.status in (CREATED, RECONCILED))
        record.reconciled = sum(1 for o in outcomes if o.status == RECONCILED)
        record.failed = sum(1 for o in outcomes if o.status == FAILED)
        return BatchOutcome(record=record, rows=outcomes)

    def _write_group(self, batch: _Batch, load: _Load, rows: list[PreparedInput], *, top: bool) -> None:
        """Send ``rows`` as one batch-create request with retries; settle every row (or raise fatal)."""
        path = self._objects_path(load.object_type, "create")
        record = batch.record
        pending = rows
        encoded_for: list[PreparedInput] | None = None
        data = b""
        started = time.monotonic()
        attempts = rate_limited = 0
        while True:
            if load.abort.is_set():
                raise _Aborted
            if encoded_for is not pending:
                try:
                    data = encode_body({"inputs": [r.payload() for r in pending]})
                except TypeError:  # orjson's JSONEncodeError: a value with no JSON form
                    pending = _drop_unencodable(batch, pending)
                    if not pending:
                        return
                    continue
                encoded_for = pending
            attempts += 1
            record.requests += 1
            if attempts > 1:
                record.retries += 1
            if batch.started is None:
                batch.started = time.monotonic()
                record.sent_at = datetime.now(timezone.utc)
            retry_after: float | None = None
            try:
                answer = self._send_once("POST", path, data)
            except Exception as exc:
                if not self.retry.is_retryable_exception(exc):
                    raise
                ambiguous = is_ambiguous(exc)
                error = self._transport_error(exc, ambiguous=ambiguous, what=f"batch {batch.index}")
                if ambiguous:
                    pending = self._after_ambiguous(batch, load, pending, str(error))
                    if not pending:
                        return
                failure = RowError(category=TRANSPORT_ERROR, message=str(error))
            else:
                if top:
                    record.http_status = answer.status
                if answer.status in (200, 201, 207) and isinstance(answer.body, dict):
                    self._settle_answer(batch, load, pending, answer)
                    return
                if 200 <= answer.status < 300:
                    message = f"HTTP {answer.status} without a readable body; the row may exist"
                    batch.fail(pending, RowError("UNMATCHED_RESULT", message, http_status=answer.status))
                    return
                failure = row_error(answer.body, http_status=answer.status)
                if answer.status == 429:
                    policy = answer.body.get("policyName") if isinstance(answer.body, dict) else None
                    if policy == "DAILY":
                        raise error_for(answer.error_response(), what=f"batch {batch.index}")
                    retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                    self.limiter.on_rate_limited(retry_after)
                    rate_limited += 1
                elif self.retry.is_retryable_status(answer.status):
                    if answer.status in AMBIGUOUS_STATUSES:
                        note = f"batch {batch.index}: gateway HTTP {answer.status} (may have been processed)"
                        pending = self._after_ambiguous(batch, load, pending, note)
                        if not pending:
                            return
                    retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                else:
                    self._non_retryable(batch, load, pending, answer, failure)
                    return
            wait_s = self.retry.delay(max(1, attempts - rate_limited), retry_after)
            elapsed = time.monotonic() - started
            if wait_s is None or not self.retry.may_retry(
                attempts, elapsed, wait_s, rate_limited=rate_limited
            ):
                note = f" (gave up after {attempts} attempt(s), {elapsed:.1f}s)"
                if failure.category == TRANSPORT_ERROR and pending and pending[0].trace_id in batch.unacked:
                    note += "; the row may have been created"
                batch.fail(
                    pending,
                    RowError(
                        category=failure.category,
                        message=failure.message + note,
                        code=failure.code,
                        property=failure.property,
                        http_status=failure.http_status,
                    ),
                )
                return
            if load.abort.wait(wait_s):
                raise _Aborted

    def _non_retryable(
        self, batch: _Batch, load: _Load, rows: list[PreparedInput], answer: _Answer, failure: RowError
    ) -> None:
        status = answer.status
        if status in (401, 403, 404) or (
            status == 400 and any(failure.message.startswith(p) for p in _REQUEST_LEVEL_400)
        ):
            raise error_for(answer.error_response(), what=f"batch create of {load.object_type}")
        if status not in SPLIT_STATUSES:
            batch.fail(rows, failure)
            return
        if len(rows) == 1:
            row = rows[0]
            existing = parse_existing_id(failure.message) if status == 409 else None
            if existing and row.trace_id in batch.unacked:
                batch.settle(row, RECONCILED, hubspot_id=existing)
            else:
                batch.fail(rows, failure)
            return
        if status == 409 and load.unique_property and self._resolve_conflict(batch, load, rows, failure):
            return
        if not load.take_splits(2):
            batch.fail(
                rows,
                RowError(
                    category=failure.category,
                    message=(
                        f"not isolated: split budget exhausted ({self.max_split_requests} split requests per "
                        f"load); HubSpot rejected the group of {len(rows)} rows with: {failure.message}"
                    ),
                    code=failure.code,
                    property=failure.property,
                    http_status=status,
                ),
            )
            return
        batch.record.splits += 1
        middle = len(rows) // 2
        self._write_group(batch, load, rows[:middle], top=False)
        self._write_group(batch, load, rows[middle:], top=False)

    def _resolve_conflict(
        self, batch: _Batch, load: _Load, rows: list[PreparedInput], failure: RowError
    ) -> bool:
        """409 naming "Existing ID: N": find the row holding N's unique value, settle it, resend the rest.

        Returns ``False`` (so the caller splits) when the conflict cannot be attributed.
        """
        existing = parse_existing_id(failure.message)
        prop = load.unique_property
        if existing is None or prop is None:
            return False
        try:
            found = self.batch_read(load.object_type, [existing], properties=[prop])
        except HubSpotError:
            return False
        values = {str(r.get("properties", {}).get(prop) or "").strip().casefold() for r in found}
        values.discard("")
        culprits = [r for r in rows if str(r.properties.get(prop) or "").strip().casefold() in values]
        if not culprits or len(culprits) == len(rows):
            return False
        if len(culprits) == 1 and culprits[0].trace_id in batch.unacked:
            batch.settle(culprits[0], RECONCILED, hubspot_id=existing)
        else:
            batch.fail(culprits, failure)
        rest = [r for r in rows if r not in culprits]
        if not load.take_splits(1):
            batch.fail(
                rest,
                RowError(
                    category=failure.category,
                    message=f"not isolated: split budget exhausted; HubSpot said: {failure.message}",
                    code=failure.code,
                    http_status=failure.http_status,
                ),
            )
            return True
        batch.record.splits += 1
        self._write_group(batch, load, rest, top=False)
        return True

    def _after_ambiguous(
        self, batch: _Batch, load: _Load, rows: list[PreparedInput], reason: str
    ) -> list[PreparedInput]:
        """Rows that may have been committed: reconcile by the unique property; return the rows to resend."""
        batch.unacked.update(r.trace_id for r in rows)
        prop = load.unique_property
        keyed: dict[str, list[PreparedInput]] = {}
        unkeyed: list[PreparedInput] = []
        for row in rows:
            value = str(row.properties.get(prop) or "").strip() if prop else ""
            if value:
                keyed.setdefault(value.casefold(), []).append(row)
            else:
                unkeyed.append(row)
        resend: list[PreparedInput] = []
        if keyed and prop:
            originals = [str(group[0].properties[prop]).strip() for group in keyed.values()]
            found: dict[str, str] | None
            try:
                found = self.find_by_unique(load.object_type, prop, originals)
            except HubSpotError as exc:
                error = RowError(
                    category=TRANSPORT_ERROR,
                    message=(
                        f"{reason}; reconciliation by {prop} failed ({exc}); not resent to avoid "
                        "duplicates: the row may have been created"
                    ),
                )
                batch.fail([r for group in keyed.values() for r in group], error)
                found = None
            if found is not None:
                reconciled = 0
                for value, group in keyed.items():
                    if value in found and len(group) == 1:
                        batch.settle(group[0], RECONCILED, hubspot_id=found[value])
                        reconciled += 1
                    else:
                        resend.extend(group)
                batch.record.warnings.append(
                    f"{reason}; reconciled {reconciled} row(s) by {prop}, resending {len(resend)}"
                )
        if unkeyed:
            if self.resend_ambiguous:
                batch.record.warnings.append(
                    f"{reason}; resending {len(unkeyed)} row(s) without a {prop or 'unique property'} "
                    "value to reconcile by: duplicates are possible"
                )
                resend.extend(unkeyed)
            else:
                batch.fail(
                    unkeyed,
                    RowError(
                        category=TRANSPORT_ERROR,
                        message=f"{reason}; not resent (resend_ambiguous=False); the row may exist",
                    ),
                )
        order = {r.trace_id: i for i, r in enumerate(rows)}
        return sorted(resend, key=lambda r: order[r.trace_id])

    def _settle_answer(self, batch: _Batch, load: _Load, rows: list[PreparedInput], answer: _Answer) -> None:
        body = answer.body
        matched = match_results(
            rows,
            body,
            http_status=answer.status,
            batch_index=batch.index,
            unique_property=load.unique_property,
        )
        for row in rows:
            outcome = matched.outcomes[row.trace_id]
            error = outcome.error
            if (
                outcome.status == FAILED
                and error is not None
                and error.category == "CONFLICT"
                and row.trace_id in batch.unacked
                and (existing := parse_existing_id(error.message))
            ):
                batch.settle(row, RECONCILED, hubspot_id=existing)
            else:
                batch.outcomes[row.trace_id] = outcome
        record = batch.record
        for attr, key, pick in (
            ("requested_at", "requestedAt", min),
            ("started_at", "startedAt", min),
            ("completed_at", "completedAt", max),
        ):
            value = parse_time(body.get(key))
            if value is not None:
                current = getattr(record, attr)
                setattr(record, attr, value if current is None else pick(current, value))
        status = body.get("status")
        if isinstance(status, str) and (record.status in (None, "COMPLETE")):
            record.status = status


__all__ = ["BeforeSend", "HubSpotClient", "is_ambiguous"]
