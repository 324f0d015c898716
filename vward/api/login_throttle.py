"""Login rate limiting: failed attempts per username and per client address, in a sliding window.

In-process by design: each API process counts on its own, so N processes allow up to N times the
limit (docs/security.md says to put a shared limiter in the reverse proxy for multi-process
deployments). Time is an argument, so tests step it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

# Online guessing against argon2 is slow already; these stop it outright without locking out a user
# who mistypes a few times. A whole ward behind one NAT address gets the larger per-address budget.
USERNAME_FAILURES = 5
ADDRESS_FAILURES = 30
WINDOW_S = 15 * 60.0
# Bounds memory against a flood of distinct usernames: the oldest keys are forgotten first.
_MAX_KEYS = 100_000


@dataclass
class LoginThrottle:
    username_failures: int = USERNAME_FAILURES
    address_failures: int = ADDRESS_FAILURES
    window_s: float = WINDOW_S
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, username: str, address: str, now: float) -> float | None:
        """Seconds until another attempt is allowed, or None when it is allowed now."""
        waits = []
        for key, limit in ((f"u:{username.lower()}", self.username_failures), (f"a:{address}", self.address_failures)):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(times[len(times) - limit] + self.window_s - now)
        return max(waits) if waits else None

    def failed(self, username: str, address: str, now: float) -> None:
        for key in (f"u:{username.lower()}", f"a:{address}"):
            times = self._recent(key, now)
            times.append(now)
            self._failures.pop(key, None)
            self._failures[key] = times  # re-inserted: dict order is least recently failed first
        while len(self._failures) > _MAX_KEYS:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, username: str) -> None:
        """A correct password clears the username's count (the address keeps its own)."""
        self._failures.pop(f"u:{username.lower()}", None)
