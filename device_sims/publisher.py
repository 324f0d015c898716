"""Publishes a planned ward over MQTT at its real cadence (or faster), keeping every message until confirmed."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from device_sims.core.devices import HEARTBEAT, heartbeats
from device_sims.core.emitter import DeviceEmitter, Message
from device_sims.core.faults import NO_FAULTS, FaultRates
from device_sims.core.outbox import Outbox
from device_sims.ward import WardPlan, build_emitters
from ingest.core.topics import device_topic, parse_topic, subscription
from ingest.core.wire import decode_ack, encode_status

log = logging.getLogger(__name__)

# "platform": a message is kept until its msg_id comes back on the ack topic (end to end, the contract).
# "broker": the broker's PUBACK confirms it, for running against a bare broker with no platform behind it.
Confirm = Literal["platform", "broker"]

DEVICES_PER_CONNECTION = 2500  # one paho connection comfortably carries a few thousand devices
RESEND_SWEEP_S = 1.0  # how often statuses, unconfirmed and delayed messages are looked at again (at most)
MAX_SLEEP_S = 0.2  # the scheduler wakes at least this often to notice `stop`
YIELD_EVERY = 200  # messages generated before letting acks and the network in
BATTERY_STATUS_STEP = 5  # a status message when the battery level moved this many points
STOP_TIMEOUT_S = 5.0  # how long a clean stop waits for the final offline statuses to leave


MAX_QUEUED_PER_CONNECTION = 30_000


@dataclass(frozen=True, slots=True)
class SimStats:
    """Counters since start: first transmissions, confirmations, what is still held and retransmissions."""

    sent: int
    confirmed: int
    pending: int
    resent: int
    duplicates: int
    dropped: int
    sim_time: datetime
    lag_s: float  # how far behind schedule the latest measurement was generated (real seconds)


@dataclass
class _Device:
    emitter: DeviceEmitter
    outbox: Outbox
    conn: int
    readings_topic: str
    status_topic: str
    heartbeat: bool
    online: bool = True
    battery: int = -100
    status_at: datetime | None = None  # simulated time of the last status message
    collected: bool = False  # back from the patient at discharge: measures nothing until reissued


def _broker(url: str) -> tuple[str, int, str | None, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError(f"expected mqtt://host:port, got {url!r}")
    return parts.hostname, parts.port or 1883, parts.username, parts.password


def _wait_published(infos: list[mqtt.MQTTMessageInfo], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for info in infos:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        with contextlib.suppress(RuntimeError, ValueError):  # never queued: the connection was gone
            info.wait_for_publish(remaining)


class SimulatedWard:
    """Drives every device of a plan from one process over a few multiplexed MQTT connections."""

    def __init__(
        self,
        plan: WardPlan,
        mqtt_url: str,
        topic_prefix: str = "",
        speed: float = 1.0,
        faults: FaultRates | None = None,
        seed: int = 0,
        *,
        resend_after_s: float = 30.0,
        outbox_capacity: int = 2000,
        confirm: Confirm = "platform",
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.plan = plan
        self.speed = speed
        self._host, self._port, self._user, self._password = _broker(mqtt_url)
        self._prefix = topic_prefix
        emitters = build_emitters(plan, faults or NO_FAULTS, seed)
        n_conn = max(1, -(-len(emitters) // DEVICES_PER_CONNECTION))
        self._devices = {
            e.device_id: _Device(
                e,
                Outbox(outbox_capacity, resend_after_s),
                i % n_conn,
                device_topic(topic_prefix, e.device_id, "readings"),
                device_topic(topic_prefix, e.device_id, "status"),
                heartbeats(e.cadence),
            )
            for i, e in enumerate(emitters)
        }
        self._confirm_by = confirm
        self._mids: list[dict[int, tuple[str, str]]] = []  # per connection: MQTT packet id -> (device, msg_id)
        self._clients: list[mqtt.Client] = []
        self._connected: list[asyncio.Event] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._sent = self._confirmed = self._resent = self._duplicates = 0
        self._lag = 0.0

    @property
    def stats(self) -> SimStats:
        outboxes = [d.outbox for d in self._devices.values()]
        return SimStats(
            sent=self._sent,
            confirmed=self._confirmed,
            pending=sum(len(o) for o in outboxes),
            resent=self._resent,
            duplicates=self._duplicates,
            dropped=sum(o.dropped for o in outboxes),
            sim_time=self.sim_time(),
            lag_s=self._lag,
        )

    def sim_time(self) -> datetime:
        elapsed = time.monotonic() - self._t0 if self._t0 else 0.0
        return self.plan.start + timedelta(seconds=elapsed * self.speed)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, then mark every device offline and disconnect cleanly."""
        self._loop = asyncio.get_running_loop()
        await self._connect()
        self._t0 = time.monotonic()
        try:
            for device in self._devices.values():
                self._update_status(device, self.plan.start)
            await self._schedule(stop)
        finally:
            await self._disconnect()

    def collect(self, device_ids: list[str]) -> None:
        """The kit comes back at discharge: each device says offline once and measures nothing until
        reissued; what it measured before and has not had confirmed is kept and sent on reissue."""
        at = self.sim_time()
        for device_id in device_ids:
            device = self._devices[device_id]
            device.collected = True
            if device.conn < len(self._clients):
                self._publish_status(device, at, False)

    def reissue(self, device_ids: list[str]) -> None:
        """The kit goes out to a patient again: the devices come online at their next reading or status."""
        for device_id in device_ids:
            self._devices[device_id].collected = False

    async def _connect(self) -> None:
        n_conn = 1 + max((d.conn for d in self._devices.values()), default=0)
        tag = uuid.uuid4().hex[:8]
        for i in range(n_conn):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"vward-sim-{tag}-{i}", clean_session=True)
            if self._user:
                client.username_pw_set(self._user, self._password)
            client.max_inflight_messages_set(1000)  # loopback brokers keep up; 20 would throttle a big ward
            # paho reuses 16-bit packet ids once 65,535 messages are unacknowledged or queued, and then
            # stalls; past this bound publish() refuses and the message waits in its device's outbox.
            client.max_queued_messages_set(MAX_QUEUED_PER_CONNECTION)
            client.reconnect_delay_set(min_delay=1, max_delay=10)
            client.on_connect = self._on_connect_for(i)
            if i == 0:
                client.on_message = self._on_message
            if self._confirm_by == "broker":
                client.on_publish = self._on_publish_for(i)
            self._mids.append({})
            self._clients.append(client)
            self._connected.append(asyncio.Event())
            client.connect_async(self._host, self._port, keepalive=30)
            client.loop_start()
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in self._connected)), timeout=10)
        except TimeoutError:
            await self._disconnect()
            raise ConnectionError(f"no MQTT broker answered at {self._host}:{self._port}") from None

    def _on_connect_for(self, index: int) -> mqtt.CallbackOnConnect:
        def on_connect(
            client: mqtt.Client, _u: object, _f: mqtt.ConnectFlags, rc: ReasonCode, _p: Properties | None
        ) -> None:
            if rc.is_failure:
                log.warning("sim connection %d refused: %s", index, rc)
                return
            if index == 0:
                client.subscribe(subscription(self._prefix, "ack"), qos=1)
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._connected_again, index)

        return on_connect

    def _connected_again(self, index: int) -> None:
        """On every (re)connect: anything unconfirmed on this connection goes again."""
        first = not self._connected[index].is_set()
        self._connected[index].set()
        if not first:
            for d in self._devices.values():
                if d.conn == index:
                    d.outbox.requeue()

    def _on_publish_for(self, index: int) -> mqtt.CallbackOnPublish:
        def on_publish(_c: mqtt.Client, _u: object, mid: int, _rc: ReasonCode, _p: Properties) -> None:
            assert self._loop is not None  # handled on the loop, after publish() has recorded the mid
            self._loop.call_soon_threadsafe(self._on_puback, index, mid)

        return on_publish

    def _on_puback(self, index: int, mid: int) -> None:
        sent = self._mids[index].pop(mid, None)
        if sent is not None:
            self._confirm(sent[0], [sent[1]])

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        parsed = parse_topic(self._prefix, message.topic)
        if parsed is None or parsed.kind != "ack":
            return
        ids = decode_ack(bytes(message.payload))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._confirm, parsed.device_id, ids)

    def _confirm(self, device_id: str, msg_ids: list[str]) -> None:
        device = self._devices.get(device_id)
        if device is not None:
            self._confirmed += sum(device.outbox.confirm(m) for m in msg_ids)

    async def _schedule(self, stop: asyncio.Event) -> None:
        heap = [(d.emitter.next_due, device_id) for device_id, d in self._devices.items()]
        heapq.heapify(heap)
        # Faster than real time, sweep often enough for three sweeps per heartbeat interval.
        sweep_every = min(RESEND_SWEEP_S, HEARTBEAT.total_seconds() / self.speed / 3)
        next_sweep = 0.0
        while not stop.is_set():
            now = self.sim_time()
            generated = 0
            while heap and heap[0][0] <= now and not stop.is_set():
                due, device_id = heapq.heappop(heap)
                device = self._devices[device_id]
                self._lag = (now - due).total_seconds() / self.speed
                self._measure(device, due)
                heapq.heappush(heap, (device.emitter.next_due, device_id))
                generated += 1
                if generated % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                    now = self.sim_time()
            mono = time.monotonic()
            if mono >= next_sweep:
                self._sweep(mono)
                next_sweep = mono + sweep_every
            wait = (heap[0][0] - self.sim_time()).total_seconds() / self.speed if heap else MAX_SLEEP_S
            await asyncio.sleep(min(max(wait, 0.0), MAX_SLEEP_S))

    def _measure(self, device: _Device, due: datetime) -> None:
        emitter = device.emitter
        message = emitter.step(due)  # a collected device's schedule runs on, its readings unmeasured
        if device.collected:
            return
        self._update_status(device, due)
        if message is not None:
            self._store(device, message)
            if device.online:
                self._flush(device, time.monotonic())

    def _store(self, device: _Device, message: Message) -> None:
        delivery = device.emitter.faults.delivery()
        not_before = time.monotonic() + delivery.delay.total_seconds() / self.speed
        device.outbox.add(message.msg_id, message.payload, not_before, delivery.copies, delivery.corrupt)

    def _update_status(self, device: _Device, at: datetime) -> None:
        """Retained status per device: on going offline or online, as the battery runs down, and as a heartbeat.

        A silently failed device sends nothing at all, status included: only the platform's silence rule finds it."""
        emitter = device.emitter
        if emitter.silent(at) or device.collected:
            return
        online = emitter.powered(at) and emitter.faults.online(at)
        battery = emitter.battery.level(at)
        changed = online != device.online or abs(battery - device.battery) >= BATTERY_STATUS_STEP
        beat = device.heartbeat and online
        if changed or (beat and (device.status_at is None or at - device.status_at >= HEARTBEAT)):
            self._publish_status(device, at, online)

    def _publish_status(self, device: _Device, at: datetime, online: bool) -> None:
        emitter = device.emitter
        device.online, device.battery, device.status_at = online, emitter.battery.level(at), at
        payload = encode_status(online, device.battery, at + emitter.faults.skew)
        self._clients[device.conn].publish(device.status_topic, payload, qos=1, retain=True)

    def _sweep(self, mono: float) -> None:
        """Statuses that fell due, then what became sendable: delayed messages, timed-out resends, backlogs."""
        now = self.sim_time()
        for device in self._devices.values():
            self._update_status(device, now)
            if device.online and len(device.outbox):
                self._flush(device, mono)

    def _flush(self, device: _Device, mono: float) -> None:
        client = self._clients[device.conn]
        for t in device.outbox.take_due(mono):
            info = client.publish(device.readings_topic, t.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                continue  # refused (queue full or offline): still in the outbox, resent after its timeout
            if self._confirm_by == "broker":
                self._mids[device.conn][info.mid] = (device.emitter.device_id, t.msg_id)
            if t.kind == "first":
                self._sent += 1
            elif t.kind == "resend":
                self._resent += 1
            else:
                self._duplicates += 1

    async def _disconnect(self) -> None:
        now = self.sim_time()
        infos = [
            self._clients[d.conn].publish(
                d.status_topic, encode_status(False, d.emitter.battery.level(now), now + d.emitter.faults.skew), 1, True
            )
            for d in self._devices.values()
            if d.conn < len(self._clients) and self._connected[d.conn].is_set()
        ]
        await asyncio.to_thread(_wait_published, infos, STOP_TIMEOUT_S)
        for client in self._clients:
            client.disconnect()
            client.loop_stop()
        self._clients.clear()
