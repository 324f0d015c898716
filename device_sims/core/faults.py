"""Device and network faults at configurable rates, decided deterministically from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

_OFFLINE_MINUTES = (10.0, 120.0)  # an outage long enough to build a store-and-forward backlog
_LATE_MINUTES = (5.0, 30.0)
_REORDER_SECONDS = (5.0, 60.0)  # held back long enough for the next message to overtake it
_SKEW_MINUTES = (2.0, 15.0)


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Per-device fractions (battery_drain, clock_skew), per-device-hour (offline), per-message (the rest)."""

    offline: float = 0.0
    battery_drain: float = 0.0
    duplicates: float = 0.0
    out_of_order: float = 0.0
    late: float = 0.0
    clock_skew: float = 0.0
    malformed: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {f.name} must be within 0..1, got {value}")


NO_FAULTS = FaultRates()


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one message first travels: held back for `delay`, sent `copies` times, maybe corrupted once."""

    delay: timedelta = timedelta(0)
    copies: int = 1
    corrupt: bool = False


class DeviceFaults:
    """The faults of one device: its clock skew, its outages and what happens to each message."""

    def __init__(self, rates: FaultRates, seed: str) -> None:
        self._rates = rates
        self.seed = seed
        self._rng = random.Random(f"{seed}:messages")
        setup = random.Random(f"{seed}:setup")
        self.fast_drain = setup.random() < rates.battery_drain
        skewed = setup.random() < rates.clock_skew
        self.skew = timedelta(minutes=setup.uniform(*_SKEW_MINUTES) * setup.choice((-1, 1))) if skewed else timedelta(0)
        self._outages: dict[int, tuple[datetime, datetime] | None] = {}

    def online(self, at: datetime) -> bool:
        """False inside an outage; outages are drawn per hour from the seed, so any query order agrees."""
        if self._rates.offline <= 0.0:
            return True
        hour = int(at.timestamp() // 3600)
        longest = int(_OFFLINE_MINUTES[1] // 60) + 1
        for h in range(hour - longest, hour + 1):
            window = self._outage(h)
            if window is not None and window[0] <= at < window[1]:
                return False
        return True

    def _outage(self, hour: int) -> tuple[datetime, datetime] | None:
        if hour in self._outages:
            return self._outages[hour]
        rng = random.Random(f"{self.seed}:outage:{hour}")
        window = None
        if rng.random() < self._rates.offline:
            start = datetime.fromtimestamp(hour * 3600 + rng.uniform(0, 3600), tz=UTC)
            window = (start, start + timedelta(minutes=rng.uniform(*_OFFLINE_MINUTES)))
        self._outages[hour] = window
        if len(self._outages) > 8:  # a small cache: the hours just asked about are asked again
            del self._outages[next(iter(self._outages))]
        return window

    def delivery(self) -> Delivery:
        """The fate of the next message: delayed (late or overtaken), duplicated, corrupted in transit."""
        r, rng = self._rates, self._rng
        delay = timedelta(0)
        if rng.random() < r.late:
            delay = timedelta(minutes=rng.uniform(*_LATE_MINUTES))
        elif rng.random() < r.out_of_order:
            delay = timedelta(seconds=rng.uniform(*_REORDER_SECONDS))
        copies = 2 if rng.random() < r.duplicates else 1
        return Delivery(delay=delay, copies=copies, corrupt=rng.random() < r.malformed)


def corrupt(payload: bytes) -> bytes:
    """A payload damaged in transit: truncated mid-JSON, so the platform must dead-letter it."""
    return payload[: max(1, len(payload) // 2)]
