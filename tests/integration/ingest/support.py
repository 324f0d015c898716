"""Helpers for ingest integration tests: a ward to publish for, a confirming device fleet, a running service."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.core.topics import device_topic
from ingest.core.wire import decode_ack
from ingest.service import IngestService
from tests.support.waiting import Deadline, budget, finishes, until
from vward.domain.patients import DeviceKind
from vward.settings import Settings
from vward.storage.episodes import Identity, Stay, admit
from vward.storage.patients import bind_device, register_device


@dataclass(frozen=True)
class Bound:
    patient_id: int
    device_id: str


async def bound_device(pool: asyncpg.Pool, admitted_at: datetime, *, tag: str = "dev") -> Bound:
    """A fresh patient admitted at `admitted_at` with a fresh device bound from then on."""
    suffix = uuid.uuid4().hex[:10]
    patient_id = (
        await admit(pool, Identity(f"T-{suffix}", "Test Patient"), Stay("TEST"), admitted_at, "test")
    ).patient_id
    device_id = f"{tag}-{suffix}"
    await register_device(pool, device_id, DeviceKind.PATCH)
    await bind_device(pool, device_id, patient_id, admitted_at)
    return Bound(patient_id, device_id)


class Fleet:
    """One MQTT connection speaking for many devices: publishes at QoS 1 and collects their confirmations."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = prefix
        self.confirmed: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fleet-{uuid.uuid4().hex[:8]}")
        self._client.max_inflight_messages_set(1000)
        self._client.on_message = self._on_ack
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        self._client.subscribe(device_topic(prefix, "+", "ack"), qos=1)
        assert subscribed.wait(budget(20)), "the fleet's subscription to its acks was not acknowledged"

    def _on_ack(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        device_id = message.topic.split("/")[-2]
        with self._lock:
            self.confirmed.setdefault(device_id, set()).update(decode_ack(bytes(message.payload)))

    def publish(self, device_id: str, payload: bytes, kind: str = "readings", qos: int = 1) -> None:
        topic = device_topic(self.prefix, device_id, kind)  # type: ignore[arg-type]
        self.publish_raw(topic, payload, qos)

    def publish_raw(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self._client.publish(topic, payload, qos=qos).wait_for_publish(timeout=budget(20))

    def confirmed_ids(self, device_id: str) -> set[str]:
        with self._lock:
            return set(self.confirmed.get(device_id, ()))

    async def wait_confirmed(self, device_id: str, msg_ids: Iterable[str], within: float = 30.0) -> None:
        wanted = set(msg_ids)
        await until(lambda: wanted <= self.confirmed_ids(device_id), within=within, what=f"ingest's acks of {wanted}")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@asynccontextmanager
async def running_ingest(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[IngestService]:
    """The service running in this event loop until the block ends, subscribed before the block starts."""
    service = IngestService(settings, pool)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))

    def subscribed() -> bool:
        assert not task.done(), task.exception()
        return service.edge is not None and service.edge.subscribed.is_set()  # set on the broker's SUBACK

    await until(subscribed, within=30, what="ingest subscribed to the devices' topics")
    try:
        yield service
    finally:
        stop.set()
        await finishes(task, within=30, what="ingest's clean stop")


async def wait_for(pool: asyncpg.Pool, query: str, *args: object, expect: object, within: float = 30.0) -> None:
    """Poll `query` until it returns `expect` (timeline-style assertions on the database)."""
    deadline = Deadline(within, f"{query!r} giving {expect!r}")
    while (value := await pool.fetchval(query, *args)) != expect:
        if deadline.passed():
            raise deadline.fail(f"last: {value!r}")
        await asyncio.sleep(0.05)
