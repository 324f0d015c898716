"""Store-and-forward: a device keeps each message until the platform confirms its msg_id."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from device_sims.core.faults import corrupt


@dataclass(frozen=True, slots=True)
class Transmission:
    msg_id: str
    payload: bytes
    kind: Literal["first", "duplicate", "resend"]


@dataclass(slots=True)
class _Unsent:
    payload: bytes
    not_before: float
    copies: int
    corrupt: bool
    resend: bool


# While nothing is confirmed the resend timeout doubles up to this factor (30 s -> 16 min), so a device
# whose platform is down does not flood the broker; any confirmation brings it back to the base timeout.
MAX_BACKOFF = 32


class Outbox:
    """Unconfirmed messages of one device, oldest first; `now` is the caller's monotonic seconds."""

    def __init__(self, capacity: int, resend_after: float) -> None:
        if capacity < 1 or resend_after <= 0:
            raise ValueError("an outbox needs room for one message and a positive resend timeout")
        self.capacity = capacity
        self.resend_after = resend_after
        self.dropped = 0
        self._backoff = 1
        self._unsent: dict[str, _Unsent] = {}
        self._inflight: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._unsent) + len(self._inflight)

    def add(self, msg_id: str, payload: bytes, not_before: float, copies: int = 1, damaged: bool = False) -> None:
        """Keep a new message; beyond capacity the oldest is dropped, as a device's flash would."""
        self._unsent[msg_id] = _Unsent(payload, not_before, copies, damaged, resend=False)
        while len(self) > self.capacity:
            oldest = self._inflight if self._inflight else self._unsent
            del oldest[next(iter(oldest))]
            self.dropped += 1

    def confirm(self, msg_id: str) -> bool:
        """Forget a message the platform has committed; False when it was not (or no longer) held."""
        held = self._inflight.pop(msg_id, None) is not None or self._unsent.pop(msg_id, None) is not None
        if held:
            self._backoff = 1
        return held

    def requeue(self) -> None:
        """After a reconnect everything unconfirmed goes again, oldest first."""
        again = {m: _Unsent(p, 0.0, 1, False, resend=True) for m, (p, _) in self._inflight.items()}
        self._inflight.clear()
        self._unsent = {**again, **self._unsent}

    def take_due(self, now: float) -> list[Transmission]:
        """What to transmit now: new messages whose delay has passed, and unconfirmed ones timed out."""
        out: list[Transmission] = []
        for msg_id in [m for m, u in self._unsent.items() if u.not_before <= now]:
            u = self._unsent.pop(msg_id)
            first = corrupt(u.payload) if u.corrupt else u.payload
            out.append(Transmission(msg_id, first, "resend" if u.resend else "first"))
            out.extend(Transmission(msg_id, u.payload, "duplicate") for _ in range(u.copies - 1))
            self._inflight[msg_id] = (u.payload, now)
        timeout, resent = self.resend_after * self._backoff, False
        while self._inflight:
            msg_id, (payload, sent) = next(iter(self._inflight.items()))
            if sent + timeout > now:
                break
            self._inflight.move_to_end(msg_id)
            self._inflight[msg_id] = (payload, now)
            out.append(Transmission(msg_id, payload, "resend"))
            resent = True
        if resent:
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        return out
