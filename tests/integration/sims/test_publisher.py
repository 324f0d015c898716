"""The simulated ward against a real Mosquitto: wire-format messages on each device's topics,
store-and-forward until the platform's ack, and a clean stop that leaves every device offline."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sims.core.faults import DeviceFaults, FaultRates
from device_sims.publisher import SimulatedWard
from device_sims.ward import ScenarioMix, WardPlan, plan_ward
from ingest.core.topics import device_topic, parse_topic, subscription
from ingest.core.wire import encode_ack
from tests.support.servers import Mosquitto
from tests.support.waiting import budget, finishes, until
from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.patients import DeviceKind

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Listener:
    """A platform stand-in: records readings and statuses, and acks the devices it is told to."""

    def __init__(self, url: str, prefix: str, ack_suffix: str | None = None) -> None:
        self.prefix = prefix
        self.ack_suffix = ack_suffix
        self.readings: list[tuple[str, dict[str, object]]] = []
        self.status: dict[str, dict[str, object]] = {}
        self.status_count: Counter[str] = Counter()
        self.status_log: list[tuple[str, dict[str, object]]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"listener-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda c, *_: (
            c.subscribe([(subscription(prefix, "readings"), 1), (subscription(prefix, "status"), 1)]),
            self.ready.set(),
        )
        self.client.on_message = self._on_message
        host, port = url.removeprefix("mqtt://").split(":")
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert self.ready.wait(budget(20)), "the listener did not connect"

    def _on_message(self, client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        parsed = parse_topic(self.prefix, message.topic)
        assert parsed is not None
        body = json.loads(message.payload)
        with self.lock:
            if parsed.kind == "status":
                self.status[parsed.device_id] = body
                self.status_count[parsed.device_id] += 1
                self.status_log.append((parsed.device_id, body))
                return
            self.readings.append((parsed.device_id, body))
        if self.ack_suffix and parsed.device_id.endswith(self.ack_suffix):
            ack = encode_ack([body["msg_id"]], datetime.now(UTC))
            client.publish(device_topic(self.prefix, parsed.device_id, "ack"), ack, qos=1)

    def last_state(self, device_id: str) -> object:
        with self.lock:
            return self.status.get(device_id, {}).get("state")

    async def heard_offline(self, device_ids: Iterable[str]) -> None:
        """Until each device's last status heard is offline: after a run, its clean stop's last word arrived."""
        wanted = set(device_ids)
        await until(
            lambda: all(self.last_state(d) == "offline" for d in wanted), within=30, what=f"offline from {wanted}"
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def listener(mosquitto: Mosquitto, topic_prefix: str) -> Iterator[Listener]:
    lst = Listener(mosquitto.url, topic_prefix, ack_suffix="-patch")
    yield lst
    lst.close()


def _plan(n: int) -> WardPlan:
    return plan_ward(n, seed=7, scenario_mix=ScenarioMix.parse("stable=1"), start=START)


async def _run_for(ward: SimulatedWard, seconds: float) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await finishes(ward.run(stop), within=seconds + 30, what="the ward's clean stop")


async def test_every_device_publishes_wire_format_readings_and_status(
    mosquitto: Mosquitto, topic_prefix: str, listener: Listener
) -> None:
    plan = _plan(2)
    ward = SimulatedWard(plan, mosquitto.url, topic_prefix, speed=20.0, seed=3)
    await _run_for(ward, 2.0)
    await listener.heard_offline(d.device_id for d in plan.devices)

    with listener.lock:
        readings = list(listener.readings)
        status = dict(listener.status)
    assert {d for d, _ in readings} == {d.device_id for d in plan.devices}
    for device_id, body in readings:
        assert str(body["msg_id"]).startswith(device_id)
        datetime.fromisoformat(str(body["sent_at"]))
        for r in body["readings"]:  # type: ignore[attr-defined]
            assert r["unit"] == METRIC_SPECS[Metric(r["metric"])].unit
    assert {s["state"] for s in status.values()} == {"offline"}  # the clean stop's last word, retained
    assert set(status) == {d.device_id for d in plan.devices}


async def test_unconfirmed_messages_are_resent_and_confirmed_ones_are_not(
    mosquitto: Mosquitto, topic_prefix: str, listener: Listener
) -> None:
    plan = _plan(1)
    ward = SimulatedWard(plan, mosquitto.url, topic_prefix, speed=20.0, seed=3, resend_after_s=0.7)
    await _run_for(ward, 3.0)

    with listener.lock:
        counts = Counter(str(body["msg_id"]) for _, body in listener.readings)
    acked = {m: n for m, n in counts.items() if "-patch-" in m}
    unacked = {m: n for m, n in counts.items() if "-patch-" not in m}
    assert len(acked) > 5
    assert set(acked.values()) == {1}
    assert unacked
    assert min(unacked.values()) >= 2
    stats = ward.stats
    # The last patch message may have been sent just before the stop, its ack arriving too late.
    assert len(acked) - 1 <= stats.confirmed <= len(acked)
    assert stats.resent >= len(unacked)
    assert len(unacked) <= stats.pending <= len(unacked) + 1


async def test_spot_check_devices_send_status_heartbeats_between_readings(
    mosquitto: Mosquitto, topic_prefix: str, listener: Listener
) -> None:
    plan = _plan(1)
    ward = SimulatedWard(plan, mosquitto.url, topic_prefix, speed=1800.0, seed=3)  # 15 min every 0.5 s
    await _run_for(ward, 2.6)
    await listener.heard_offline(d.device_id for d in plan.devices)

    with listener.lock:
        counts = dict(listener.status_count)
    ox = next(d.device_id for d in plan.devices if d.kind is DeviceKind.OXIMETER)
    assert counts[ox] >= 5  # online, four or more heartbeats, offline


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker this test may stop and restart; a root-started mosquitto writes as its own user."""
    workdir = tmp_path / "broker"
    workdir.mkdir()
    workdir.chmod(0o777)
    broker = Mosquitto(workdir=workdir)
    broker.start()
    yield broker
    broker.stop()


async def test_a_broker_restart_makes_the_ward_resend_what_was_not_confirmed(
    own_broker: Mosquitto, topic_prefix: str
) -> None:
    broker = own_broker
    ward = SimulatedWard(_plan(1), broker.url, topic_prefix, speed=20.0, seed=3, resend_after_s=600)
    stop = asyncio.Event()
    run = asyncio.create_task(ward.run(stop))
    listener: Listener | None = None
    try:
        await until(lambda: ward.stats.sent >= 3, within=30, what="the ward's first messages")
        sent_before = ward.stats.sent
        broker.stop()
        broker.start()  # same port; the ward's connections come back on their own
        heard = Listener(broker.url, topic_prefix)
        listener = heard

        def seen_first() -> bool:
            with heard.lock:
                return any(str(body["msg_id"]).endswith("-000001") for _, body in heard.readings)

        # Published before the restart, delivered after it; and, nothing being acked, everything went again.
        await until(seen_first, within=60, what="the first message, delivered after the restart")
        await until(lambda: ward.stats.resent >= sent_before, within=60, what=f"{sent_before} messages resent")
    finally:
        stop.set()
        await finishes(run, within=30, what="the ward's clean stop")
        if listener is not None:
            listener.close()


async def test_against_a_bare_broker_the_puback_confirms(mosquitto: Mosquitto, topic_prefix: str) -> None:
    ward = SimulatedWard(
        _plan(2), mosquitto.url, topic_prefix, speed=20.0, seed=3, resend_after_s=0.5, confirm="broker"
    )
    await _run_for(ward, 2.0)
    stats = ward.stats
    assert stats.sent > 10
    assert stats.sent - stats.confirmed <= 2  # at most the last moment's messages, their PUBACK still on its way
    assert stats.resent == 0


async def test_a_silent_device_stops_sending_while_the_others_carry_on(
    mosquitto: Mosquitto, topic_prefix: str, listener: Listener
) -> None:
    plan = plan_ward(1, seed=7, scenario_mix=ScenarioMix.parse("device_failure=1", 0.0, 0.0), start=START)
    (patient,) = plan.patients
    onset = patient.scenario.onset
    assert onset is not None
    ward = SimulatedWard(plan, mosquitto.url, topic_prefix, speed=600.0, seed=3)  # onset after ~1 s
    await _run_for(ward, 3.0)
    await listener.heard_offline(d.device_id for d in plan.devices if d.device_id != patient.silent_device)

    with listener.lock:
        readings = list(listener.readings)
        online = [(d, datetime.fromisoformat(str(b["at"]))) for d, b in listener.status_log if b["state"] == "online"]
    patch = [datetime.fromisoformat(str(b["sent_at"])) for d, b in readings if d == patient.silent_device]
    assert patch
    assert max(patch) < onset  # no readings after onset ...
    assert all(at < onset for d, at in online if d == patient.silent_device)  # ... and no status either
    assert any(at > onset for d, at in online if d != patient.silent_device)  # the others keep their heartbeat


async def test_an_outage_ends_in_a_store_and_forward_burst(
    mosquitto: Mosquitto, topic_prefix: str, listener: Listener
) -> None:
    plan = _plan(1)
    rates = FaultRates(offline=0.9)  # for this seed: the patch is offline 09:00-10:34, then back
    ward = SimulatedWard(plan, mosquitto.url, topic_prefix, speed=2400.0, faults=rates, seed=3)  # 2 h in 3 s
    await _run_for(ward, 3.0)
    await listener.heard_offline(d.device_id for d in plan.devices)

    patch = plan.patients[0].devices[0].device_id
    faults = DeviceFaults(rates, f"3:{patch}")  # the same seeded outages the ward's patch had
    with listener.lock:
        measured = [datetime.fromisoformat(str(b["sent_at"])) for d, b in listener.readings if d == patch]
        states = [str(b["state"]) for d, b in listener.status_log if d == patch]
    held = [at for at in measured if not faults.online(at)]
    assert held  # measured while offline, kept, and delivered once back online
    assert len(held) < len(measured)
    assert "offline" in states[:-1]  # the outage itself (the last one is the clean stop)


async def test_a_collected_kit_is_offline_and_silent_until_reissued(
    mosquitto: Mosquitto, topic_prefix: str, listener: Listener
) -> None:
    plan = _plan(2)
    ward = SimulatedWard(plan, mosquitto.url, topic_prefix, speed=20.0, seed=3)
    kit = [d.device_id for d in plan.patients[0].devices]
    other = plan.patients[1].devices[0].device_id
    stop = asyncio.Event()
    running = asyncio.create_task(ward.run(stop))

    def seen(device_ids: list[str]) -> set[str]:
        with listener.lock:
            return {d for d, _ in listener.readings if d in device_ids}

    try:
        await until(lambda: set(kit) <= seen(kit), within=30, what="readings from the whole kit")
        ward.collect(kit)
        await listener.heard_offline(kit)
        with listener.lock:
            before, other_before = len(listener.readings), sum(1 for d, _ in listener.readings if d == other)
        await until(
            lambda: sum(1 for d, _ in listener.readings if d == other) >= other_before + 10,
            within=30,
            what="ten more readings from the other patient",
        )
        with listener.lock:
            while_away = [d for d, _ in listener.readings[before:] if d in kit]
        assert while_away == []  # nothing measured while the kit was back
        ward.reissue(kit)
        await until(
            lambda: all(listener.last_state(d) == "online" for d in kit), within=30, what="the kit online again"
        )
        with listener.lock:
            back = len(listener.readings)
        await until(lambda: any(d in kit for d, _ in listener.readings[back:]), within=30, what="the kit measuring")
    finally:
        stop.set()
        await finishes(running, within=30, what="the ward's clean stop")
