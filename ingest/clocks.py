"""Device clocks as this ingest process sees them (ingest.core.clock): each readings message corrected as it is
decoded, and the judgements that changed handed to the batch's transaction, so a restarted ingest resumes
with the same corrections and a resent message is corrected as it was first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from ingest.batch import Entry
from ingest.core.clock import AGREE, DeviceClock, corrected, observe
from ingest.core.decode import ReadingsMessage
from vward.storage.devices import ClockUpdate

MAX_TRACKED: Final = 100_000  # devices whose recent lags are kept; in-sync ones are forgotten beyond it

Judgement = tuple[timedelta, timedelta | None]  # (correction, estimate while skewed)
_IN_SYNC: Final[Judgement] = (timedelta(0), None)


class Clocks:
    def __init__(self, stored: Mapping[str, Judgement]) -> None:
        self._clocks = {device: DeviceClock(correction=c) for device, (c, _) in stored.items()}
        self._stored = dict(stored)
        self._changed: dict[str, ClockUpdate] = {}

    def correct(self, entry: Entry) -> Entry:
        """The entry with its readings on the platform's clock when the device's clock is known to run ahead."""
        message = entry.decoded
        if not isinstance(message, ReadingsMessage):
            return entry
        received_at = entry.delivery.received_at
        clock = observe(self._clocks.get(message.device_id, DeviceClock()), message.sent_at, received_at)
        self._remember(message.device_id, clock)
        judgement = (clock.correction, clock.estimate if clock.skewed else None)
        if _differs(judgement, self._stored.get(message.device_id, _IN_SYNC)):
            self._stored[message.device_id] = judgement
            self._changed[message.device_id] = ClockUpdate(message.device_id, *judgement, received_at)
        if not clock.correction:
            return entry
        return Entry(entry.delivery, corrected(message, clock.correction))

    def take_changes(self) -> list[ClockUpdate]:
        """The judgements that changed since the last call, to be stored with the batch they came in."""
        changes, self._changed = list(self._changed.values()), {}
        return changes

    def _remember(self, device_id: str, clock: DeviceClock) -> None:
        if len(self._clocks) >= MAX_TRACKED and device_id not in self._clocks:
            self._clocks = {d: c for d, c in self._clocks.items() if c.correction or c.skewed}
        self._clocks[device_id] = clock


def _differs(new: Judgement, stored: Judgement) -> bool:
    """Worth a write: another correction, in or out of sync, or the estimate moved by more than jitter."""
    if new[0] != stored[0] or (new[1] is None) != (stored[1] is None):
        return True
    return new[1] is not None and stored[1] is not None and abs(new[1] - stored[1]) > AGREE
