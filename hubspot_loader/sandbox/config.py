"""Configuration of the sandbox: tokens, limits, behaviour options, custom objects and faults.

Every option has a default that mirrors HubSpot as documented in the team reference
(``shared/reference/hubspot-api.md``); options exist where the reference leaves a question open.
Configurations are plain frozen dataclasses that round-trip through JSON (``to_dict``/``from_dict``)
so that they can be passed to a sandbox running in another process or read from a ``--config`` file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

#: Scope set meaning "every scope": the default token may call every endpoint.
ALL_SCOPES: frozenset[str] = frozenset({"*"})

DEFAULT_TOKEN = "sandbox-token"
#: The values of a batch answer's ``status`` in HubSpot's response schema (reference §4.1).
BATCH_STATUSES = ("CANCELED", "COMPLETE", "PENDING", "PROCESSING")
#: When a request counts against the rolling window (see :mod:`hubspot_loader.sandbox.ratelimit`).
RATE_COUNT_POINTS = ("arrival", "completion")
DEFAULT_TOO_MANY_INPUTS_MESSAGE = (
    "The maximum number of inputs supported in a batch request is {max}. "
    "Please reduce the number of items and try again"
)


@dataclass(frozen=True)
class TokenConfig:
    """An access token the sandbox accepts.

    ``scopes`` lists granted scopes (e.g. ``crm.objects.contacts.write``); the default grants all.
    ``kind`` is ``"private_app"`` (rate-limit headers include the daily counters and created objects get
    ``hs_object_source: API``) or ``"oauth"`` (no daily headers, ``hs_object_source: INTEGRATION``).
    """

    token: str
    scopes: frozenset[str] = ALL_SCOPES
    kind: str = "private_app"

    def has_any_scope(self, wanted: tuple[str, ...]) -> bool:
        """Return whether the token holds at least one of ``wanted`` (or all scopes)."""
        return "*" in self.scopes or any(s in self.scopes for s in wanted)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data."""
        return {"token": self.token, "scopes": sorted(self.scopes), "kind": self.kind}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenConfig:
        """Build from :meth:`to_dict` output."""
        return cls(
            token=str(data["token"]),
            scopes=frozenset(data.get("scopes", ["*"])),
            kind=str(data.get("kind", "private_app")),
        )


@dataclass(frozen=True)
class PropertyConfig:
    """A property definition declared by configuration (custom objects or extra standard properties).

    ``type`` is one of ``string``, ``number``, ``bool``, ``date``, ``datetime``, ``enumeration``,
    ``phone_number``; ``options`` lists allowed values of an enumeration; ``field_type`` defaults from
    the type (``checkbox`` makes an enumeration multi-valued).
    """

    name: str
    type: str = "string"
    label: str = ""
    field_type: str = ""
    options: tuple[str, ...] = ()
    unique: bool = False
    read_only: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data."""
        data = dataclasses.asdict(self)
        data["options"] = list(self.options)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PropertyConfig:
        """Build from :meth:`to_dict` output."""
        values = dict(data)
        values["options"] = tuple(values.get("options", ()))
        return cls(**values)


@dataclass(frozen=True)
class CustomAssociationConfig:
    """An association type between a custom object and another object type.

    ``type_id`` is the custom object → ``to_object`` direction, ``inverse_type_id`` the reverse one.
    """

    to_object: str
    type_id: int
    inverse_type_id: int
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomAssociationConfig:
        """Build from :meth:`to_dict` output."""
        return cls(**data)


@dataclass(frozen=True)
class CustomObjectConfig:
    """A custom object schema, addressed as ``p_{name}``, ``p{portalId}_{name}`` or its ``2-x`` id."""

    name: str
    type_id: str
    properties: tuple[PropertyConfig, ...] = ()
    label_singular: str = ""
    label_plural: str = ""
    associations: tuple[CustomAssociationConfig, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data."""
        return {
            "name": self.name,
            "type_id": self.type_id,
            "properties": [p.to_dict() for p in self.properties],
            "label_singular": self.label_singular,
            "label_plural": self.label_plural,
            "associations": [a.to_dict() for a in self.associations],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomObjectConfig:
        """Build from :meth:`to_dict` output."""
        return cls(
            name=str(data["name"]),
            type_id=str(data["type_id"]),
            properties=tuple(PropertyConfig.from_dict(p) for p in data.get("properties", ())),
            label_singular=str(data.get("label_singular", "")),
            label_plural=str(data.get("label_plural", "")),
            associations=tuple(CustomAssociationConfig.from_dict(a) for a in data.get("associations", ())),
        )


@dataclass(frozen=True)
class FaultConfig:
    """Seeded fault injection applied to CRM API requests (never to ``/__sandbox__/`` or ``/``).

    Probabilities are per request and drawn from one ``random.Random(seed)`` in arrival order, so a
    sequential client sees the same faults on every run. ``writes_only`` (default) limits the
    probabilistic faults to write requests (batch create/upsert/update/archive and single writes), so
    a loader's property lookups stay clean; latency applies to every CRM request.

    Batch-create answers whose ``status`` is not ``COMPLETE`` (HubSpot's schema allows ``CANCELED``,
    ``PENDING`` and ``PROCESSING``; when it sends them is undocumented, reference §16.8):
    ``status_sequence`` gives the statuses of the first batch creates that pass validation, in arrival
    order; after it, ``canceled_rate``/``pending_rate``/``processing_rate`` draw a status per batch
    create from their own seeded generator (so they do not shift the other faults). Such an answer lists
    the first ``incomplete_listed_share`` of the valid inputs (rounded down) in ``results``. ``CANCELED``:
    only those are created. ``PENDING``/``PROCESSING``: all are created, but the unlisted ones stay
    invisible to every read (get, batch read, list, search, associations) until
    ``pending_reveal_after_requests`` further CRM API requests have arrived, or
    ``pending_reveal_after_ms`` has passed when it is set; their unique values are taken at once.
    ``omit_completed_at`` leaves ``completedAt`` out of ``PENDING``/``PROCESSING`` answers (it is in the
    schema's required list, so the official client accepts that only without client-side validation).
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    latency_per_input_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    rate_limit_burst_rate: float = 0.0
    rate_limit_burst_length: int = 3
    reset_before_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    hang_after_commit_rate: float = 0.0
    hang_seconds: float = 5.0
    writes_only: bool = True
    seed: int = 0
    status_sequence: tuple[str, ...] = ()
    canceled_rate: float = 0.0
    pending_rate: float = 0.0
    processing_rate: float = 0.0
    incomplete_listed_share: float = 0.5
    pending_reveal_after_requests: int = 1
    pending_reveal_after_ms: float | None = None
    omit_completed_at: bool = False

    def __post_init__(self) -> None:
        wrong = [s for s in self.status_sequence if s not in BATCH_STATUSES]
        if wrong:
            raise ValueError(f"status_sequence: {wrong} not among {list(BATCH_STATUSES)}")
        if not 0.0 <= self.incomplete_listed_share <= 1.0:
            raise ValueError("incomplete_listed_share must be between 0 and 1")
        if self.pending_reveal_after_requests < 1:
            raise ValueError("pending_reveal_after_requests must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data."""
        data = dataclasses.asdict(self)
        data["error_statuses"] = list(self.error_statuses)
        data["status_sequence"] = list(self.status_sequence)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from (possibly partial) :meth:`to_dict` output; unknown keys raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        values = dict(data)
        if "error_statuses" in values:
            values["error_statuses"] = tuple(int(s) for s in values["error_statuses"])
        if "status_sequence" in values:
            values["status_sequence"] = tuple(str(s) for s in values["status_sequence"])
        return cls(**values)

    @property
    def active(self) -> bool:
        """Whether any fault or latency is configured."""
        return any(
            (
                self.latency_ms,
                self.jitter_ms,
                self.latency_per_input_ms,
                self.error_rate,
                self.rate_limit_burst_rate,
                self.reset_before_rate,
                self.drop_after_commit_rate,
                self.hang_after_commit_rate,
            )
        )

    @property
    def statuses_active(self) -> bool:
        """Whether batch creates may answer a status other than ``COMPLETE``."""
        return bool(
            any(s != "COMPLETE" for s in self.status_sequence)
            or self.canceled_rate
            or self.pending_rate
            or self.processing_rate
        )


def _default_tokens() -> tuple[TokenConfig, ...]:
    return (TokenConfig(DEFAULT_TOKEN),)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that configures one sandbox instance.

    Defaults follow HubSpot (Professional/Enterprise tier: 190 requests per rolling 10 s per token,
    625,000 per day per account). Open-question choices are options; see ``docs/sandbox.md``.
    """

    host: str = "127.0.0.1"
    port: int = 0
    db_path: str | None = None
    portal_id: int = 12345678
    ui_domain: str = "app.hubspot.com"
    tokens: tuple[TokenConfig, ...] = field(default_factory=_default_tokens)
    rate_limit_per_10s: int = 190
    rate_limit_window_ms: int = 10_000
    rate_count_at: str = "arrival"
    daily_limit: int = 625_000
    search_limit_per_second: int = 5
    shuffle_results: bool = True
    echo_trace_ids: bool = True
    include_requested_at: bool = True
    conflicts_as_207: bool = False
    invalid_associations_as_207: bool = False
    retry_after_seconds: int | None = None
    max_batch_inputs: int = 100
    too_many_inputs_message: str = DEFAULT_TOO_MANY_INPUTS_MESSAGE
    require_contact_identity: bool = True
    custom_objects: tuple[CustomObjectConfig, ...] = ()
    extra_properties: tuple[tuple[str, tuple[PropertyConfig, ...]], ...] = ()
    seed: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.rate_count_at not in RATE_COUNT_POINTS:
            raise ValueError(f"rate_count_at must be one of {RATE_COUNT_POINTS}, got {self.rate_count_at!r}")

    @property
    def default_token(self) -> str:
        """The first configured token (normally the full-scope one)."""
        return self.tokens[0].token

    def replace(self, **changes: Any) -> SandboxConfig:
        """Return a copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to JSON-compatible data."""
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            data[f.name] = getattr(self, f.name)
        data["tokens"] = [t.to_dict() for t in self.tokens]
        data["custom_objects"] = [c.to_dict() for c in self.custom_objects]
        data["extra_properties"] = {obj: [p.to_dict() for p in props] for obj, props in self.extra_properties}
        data["faults"] = self.faults.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxConfig:
        """Build from (possibly partial) :meth:`to_dict` output."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown sandbox settings: {sorted(unknown)}")
        values = dict(data)
        if "tokens" in values:
            values["tokens"] = tuple(TokenConfig.from_dict(t) for t in values["tokens"])
        if "custom_objects" in values:
            values["custom_objects"] = tuple(
                CustomObjectConfig.from_dict(c) for c in values["custom_objects"]
            )
        if "extra_properties" in values:
            extra = values["extra_properties"]
            items = extra.items() if isinstance(extra, dict) else extra
            values["extra_properties"] = tuple(
                (str(obj), tuple(PropertyConfig.from_dict(p) for p in props)) for obj, props in items
            )
        if "faults" in values:
            values["faults"] = FaultConfig.from_dict(values["faults"])
        return cls(**values)
