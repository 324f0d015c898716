"""Reconnect delays: exponential with jitter, so a fleet of workers does not reconnect in lockstep."""

from __future__ import annotations


def backoff_delay(attempt: int, jitter: float, *, base: float = 0.2, cap: float = 30.0) -> float:
    """Seconds to wait before retry number `attempt` (0-based); `jitter` in [0, 1) is the caller's random draw."""
    ceiling = min(cap, base * 2.0 ** min(attempt, 32))
    return ceiling / 2 + ceiling / 2 * jitter
