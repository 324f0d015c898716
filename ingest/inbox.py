"""The hand-off from the MQTT network thread to the asyncio batch collector.

Memory is bounded by the broker: ingest acknowledges only after commit, so at most Receive Maximum QoS 1
messages are ever outstanding. QoS 0 messages carry no such bound (and no guarantee), so beyond
`qos0_limit` queued messages they are dropped and counted.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from datetime import datetime

from ingest import metrics


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as received; `generation` names the connection whose packet id `mid` belongs to."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received_at: datetime
    received_mono: float


class Inbox:
    def __init__(self, loop: asyncio.AbstractEventLoop, qos0_limit: int) -> None:
        self._loop = loop
        self._items: collections.deque[Delivery] = collections.deque()
        self._ready = asyncio.Event()
        self._waiting = False
        self._qos0_limit = qos0_limit

    def __len__(self) -> int:
        return len(self._items)

    def put(self, delivery: Delivery) -> None:
        """Called from the network thread; wakes the collector only when it sleeps."""
        if delivery.qos == 0 and len(self._items) >= self._qos0_limit:
            metrics.DROPPED_QOS0.inc()
            return
        self._items.append(delivery)
        if self._waiting:
            self._waiting = False
            self._loop.call_soon_threadsafe(self._ready.set)

    async def wait(self, within: float | None) -> None:
        """Return when something is queued or after `within` seconds."""
        if self._items:
            return
        self._ready.clear()
        self._waiting = True
        if self._items:  # arrived between the check and raising the flag
            self._waiting = False
            return
        try:
            await asyncio.wait_for(self._ready.wait(), within)
        except TimeoutError:
            pass
        finally:
            self._waiting = False

    def take(self, limit: int) -> list[Delivery]:
        taken: list[Delivery] = []
        items = self._items
        while items and len(taken) < limit:
            taken.append(items.popleft())
        return taken
