"""Seeded, deterministic fault injection.

For each CRM API request the injector draws, in arrival order from one ``random.Random(seed)``, a
latency and at most one fault. With a sequential client the sequence is identical on every run; with
concurrent clients it depends on arrival order.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from hubspot_loader.sandbox.config import FaultConfig

#: Fault kinds, in the order their probabilities are tested.
ERROR = "error"
RATE_LIMIT = "rate_limit"
RESET_BEFORE = "reset_before"
DROP_AFTER_COMMIT = "drop_after_commit"
HANG_AFTER_COMMIT = "hang_after_commit"


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: wait ``latency_s``, then apply ``kind`` (None = behave)."""

    latency_s: float = 0.0
    kind: str | None = None
    status: int = 0


NO_FAULT = FaultPlan()


class FaultInjector:
    """Holds the current :class:`FaultConfig` and draws plans from it."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.set(config)

    def set(self, config: FaultConfig) -> None:
        """Replace the settings and reseed (also ends a running 429 burst)."""
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._burst_left = 0

    def plan(self, write: bool, inputs: int) -> FaultPlan:
        """Draw the plan for one request (``inputs`` = batch size, for per-input latency)."""
        cfg = self.config
        if not cfg.active:
            return NO_FAULT
        with self._lock:
            rng = self._rng
            latency = cfg.latency_ms + cfg.latency_per_input_ms * inputs
            if cfg.jitter_ms:
                latency += rng.uniform(0, cfg.jitter_ms)
            latency_s = latency / 1000
            if cfg.writes_only and not write:
                return FaultPlan(latency_s)
            if self._burst_left > 0:
                self._burst_left -= 1
                return FaultPlan(latency_s, RATE_LIMIT, 429)
            draw = rng.random()
            threshold = 0.0
            for kind, rate in (
                (ERROR, cfg.error_rate),
                (RATE_LIMIT, cfg.rate_limit_burst_rate),
                (RESET_BEFORE, cfg.reset_before_rate),
                (DROP_AFTER_COMMIT, cfg.drop_after_commit_rate),
                (HANG_AFTER_COMMIT, cfg.hang_after_commit_rate),
            ):
                threshold += rate
                if draw < threshold:
                    if kind == ERROR:
                        return FaultPlan(latency_s, ERROR, rng.choice(cfg.error_statuses))
                    if kind == RATE_LIMIT:
                        self._burst_left = max(cfg.rate_limit_burst_length - 1, 0)
                        return FaultPlan(latency_s, RATE_LIMIT, 429)
                    return FaultPlan(latency_s, kind)
            return FaultPlan(latency_s)
