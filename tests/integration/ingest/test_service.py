"""Ingest end to end on the private Mosquitto and the test database: rows, dead letters, device acks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ingest.core.wire import encode_readings, encode_status
from tests.integration.ingest.support import Fleet, bound_device, running_ingest, wait_for
from tests.support.servers import Mosquitto
from vward.domain.episodes import Outcome
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind
from vward.settings import Settings
from vward.storage.dead_letter import list_dead_letters
from vward.storage.episodes import discharge
from vward.storage.patients import register_device

pytestmark = pytest.mark.integration


@pytest.fixture
def fleet(mosquitto: Mosquitto, topic_prefix: str) -> Iterator[Fleet]:
    f = Fleet(mosquitto.port, topic_prefix)
    yield f
    f.close()


async def test_readings_are_stored_once_with_side_tables_and_confirmed(
    settings: Settings, db_pool: asyncpg.Pool, fleet: Fleet
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ward = await bound_device(db_pool, now - timedelta(hours=1))
    earlier, later = now - timedelta(minutes=2), now - timedelta(minutes=1)
    first = encode_readings("m-1", now, [(Metric.SPO2, 94, later), (Metric.HEART_RATE, 88, later)])
    late = encode_readings(
        "m-0",
        now,
        [(Metric.SPO2, 91, earlier), (Metric.CONSCIOUSNESS, "A", earlier), (Metric.ON_OXYGEN, True, earlier)],
    )
    async with running_ingest(settings, db_pool):
        fleet.publish(ward.device_id, first)
        fleet.publish(ward.device_id, late)  # out of order: stored, but not the latest SpO2
        fleet.publish(ward.device_id, first)  # a resend
        await fleet.wait_confirmed(ward.device_id, ["m-0", "m-1"])
    rows = await db_pool.fetch(
        "SELECT msg_id, metric, value, value_text, patient_id, flags FROM readings WHERE device_id = $1 ORDER BY 1, 2",
        ward.device_id,
    )
    assert [(r["msg_id"], r["metric"], r["value"], r["value_text"]) for r in rows] == [
        ("m-0", "consciousness", None, "A"),
        ("m-0", "on_oxygen", 1.0, None),
        ("m-0", "spo2", 91.0, None),
        ("m-1", "heart_rate", 88.0, None),
        ("m-1", "spo2", 94.0, None),
    ]
    assert {r["patient_id"] for r in rows} == {ward.patient_id}
    latest = await db_pool.fetch(
        "SELECT metric, value, measured_at FROM latest_observations WHERE patient_id = $1", ward.patient_id
    )
    assert {r["metric"]: r["value"] for r in latest}["spo2"] == 94.0
    assert await db_pool.fetchval("SELECT count(*) FROM eval_queue WHERE patient_id = $1", ward.patient_id) == 1
    assert await db_pool.fetchval("SELECT last_seen_at IS NOT NULL FROM devices WHERE id = $1", ward.device_id)


async def test_clock_skew_is_flagged_and_a_future_reading_never_becomes_latest(
    settings: Settings, db_pool: asyncpg.Pool, fleet: Fleet
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ward = await bound_device(db_pool, now - timedelta(days=400))
    payloads = {
        "future": encode_readings("f-1", now, [(Metric.HEART_RATE, 70, now + timedelta(days=365))]),
        "late": encode_readings("l-1", now, [(Metric.HEART_RATE, 71, now - timedelta(days=2))]),
        "now": encode_readings("n-1", now, [(Metric.HEART_RATE, 72, now)]),
    }
    async with running_ingest(settings, db_pool):
        for payload in payloads.values():
            fleet.publish(ward.device_id, payload)
        await fleet.wait_confirmed(ward.device_id, ["f-1", "l-1", "n-1"])
    flags = dict(await db_pool.fetch("SELECT msg_id, flags FROM readings WHERE device_id = $1", ward.device_id))
    assert flags == {"f-1": ["future"], "l-1": ["late"], "n-1": []}
    latest = await db_pool.fetchval(
        "SELECT value FROM latest_observations WHERE patient_id = $1 AND metric = 'heart_rate'", ward.patient_id
    )
    assert latest == 72.0


async def test_each_refusal_is_dead_lettered_with_its_reason_and_confirmed(
    settings: Settings, db_pool: asyncpg.Pool, fleet: Fleet, topic_prefix: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    admitted = now - timedelta(hours=2)
    bound = await bound_device(db_pool, admitted)
    discharged = await bound_device(db_pool, admitted)
    await discharge(db_pool, discharged.patient_id, now - timedelta(hours=1), Outcome.COMPLETED, None, "test")
    unbound = f"unbound-{bound.device_id}"
    await register_device(db_pool, unbound, DeviceKind.OXIMETER)

    def one(msg_id: str, at: datetime, value: float = 95) -> bytes:
        return encode_readings(msg_id, now, [(Metric.SPO2, value, at)])

    cases = [
        (f"ghost-{bound.device_id}", one("u-1", now), "unknown_device"),
        (unbound, one("nb-1", now), "not_bound"),
        (bound.device_id, one("ba-1", admitted - timedelta(minutes=5)), "before_admission"),
        (discharged.device_id, one("ad-1", now - timedelta(minutes=5)), "after_discharge"),
        (bound.device_id, one("im-1", now, value=120), "implausible"),
        (bound.device_id, b"{not json", "bad_json"),
        (bound.device_id, b'{"msg_id": "nan-1", "readings": [{"value": NaN}]}', "not_finite"),
    ]
    async with running_ingest(settings, db_pool):
        for device_id, payload, _ in cases:
            fleet.publish(device_id, payload)
        # Wildcards cannot even be published (MQTT forbids them in topic names); other illegal ids reach ingest.
        fleet.publish_raw(f"{topic_prefix}vward/v1/devices/bad id!/readings", one("w-1", now))
        fleet.publish(bound.device_id, one("ok-1", now))
        await fleet.wait_confirmed(bound.device_id, ["ok-1", "ba-1", "im-1"])
        await wait_for(
            db_pool, "SELECT count(*) FROM dead_letter WHERE topic LIKE $1 || '%'", topic_prefix, expect=len(cases) + 1
        )
    letters = await db_pool.fetch(
        "SELECT topic, device_id, reason, payload, payload_size FROM dead_letter WHERE topic LIKE $1 || '%'",
        topic_prefix,
    )
    by_device = {(r["device_id"], r["reason"]) for r in letters}
    assert by_device == {(d, reason) for d, _, reason in cases} | {(None, "bad_topic")}
    for letter in letters:
        assert letter["payload_size"] == len(letter["payload"]) > 0
    assert fleet.confirmed_ids(discharged.device_id) == {"ad-1"}
    assert await db_pool.fetchval("SELECT count(*) FROM readings WHERE device_id = $1", bound.device_id) == 1


async def test_status_and_last_will_update_the_device(
    settings: Settings, db_pool: asyncpg.Pool, fleet: Fleet, topic_prefix: str
) -> None:
    now = datetime.now(UTC)
    ward = await bound_device(db_pool, now - timedelta(hours=1))
    async with running_ingest(settings, db_pool):
        fleet.publish(ward.device_id, encode_status(True, 81, now), kind="status")
        await wait_for(db_pool, "SELECT battery FROM devices WHERE id = $1", ward.device_id, expect=81)
        fleet.publish(ward.device_id, encode_status(False, None, now - timedelta(minutes=1)), kind="status")
        await wait_for(db_pool, "SELECT online FROM devices WHERE id = $1", ward.device_id, expect=False)
        fleet.publish(f"ghost-{ward.device_id}", encode_status(True, 5, now), kind="status")
        await wait_for(
            db_pool, "SELECT reason FROM dead_letter WHERE topic LIKE $1 || '%'", topic_prefix, expect="unknown_device"
        )
    row = await db_pool.fetchrow(
        "SELECT online, battery, status_at, last_seen_at FROM devices WHERE id = $1", ward.device_id
    )
    assert row["battery"] == 81  # an offline Will without a battery keeps the last known level
    assert row["status_at"] is not None


async def test_a_message_the_database_refuses_is_isolated_and_the_rest_flow(
    settings: Settings, db_pool: asyncpg.Pool, fleet: Fleet, topic_prefix: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ward = await bound_device(db_pool, now - timedelta(hours=1))
    poison = f"poison-{ward.device_id}"
    # A trigger that refuses exactly one msg_id stands in for any content the database will not take.
    await db_pool.execute(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.msg_id = '{poison}' THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF;"
        " RETURN NEW; END $$"
    )
    await db_pool.execute(
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON readings FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
    )
    try:
        async with running_ingest(settings, db_pool):
            for msg_id in ("good-1", poison, "good-2"):
                fleet.publish(ward.device_id, encode_readings(msg_id, now, [(Metric.SPO2, 95, now)]))
            await fleet.wait_confirmed(ward.device_id, ["good-1", poison, "good-2"])
    finally:
        await db_pool.execute("DROP TRIGGER refuse_poison ON readings")
        await db_pool.execute("DROP FUNCTION refuse_poison()")
    stored = await db_pool.fetch("SELECT msg_id FROM readings WHERE device_id = $1 ORDER BY 1", ward.device_id)
    assert [r["msg_id"] for r in stored] == ["good-1", "good-2"]
    letters = await list_dead_letters(db_pool, limit=10, device_id=ward.device_id)
    topic = f"{topic_prefix}vward/v1/devices/{ward.device_id}/readings"
    assert [(d.reason, d.topic) for d in letters] == [("storage_rejected", topic)]
    assert letters[0].payload_size == len(letters[0].payload)


async def test_a_fast_device_clock_is_corrected_used_and_flagged_and_a_resend_after_restart_is_a_duplicate(
    settings: Settings, db_pool: asyncpg.Pool, fleet: Fleet
) -> None:
    """The demo's failure: a clock 10 minutes fast had every reading flagged `future` and never used, so the
    patient showed "missing data" while readings arrived every few seconds."""
    now = datetime.now(UTC).replace(microsecond=0)
    ward = await bound_device(db_pool, now - timedelta(hours=1))
    fast = timedelta(minutes=10)
    first = encode_readings("fast-1", now + fast, [(Metric.HEART_RATE, 97, now + fast)])
    async with running_ingest(settings, db_pool):
        fleet.publish(ward.device_id, first)
        await fleet.wait_confirmed(ward.device_id, ["fast-1"])
    async with running_ingest(settings, db_pool):  # a restart: the device never saw its confirmation, resends
        fleet.publish(ward.device_id, first)
        fleet.publish(ward.device_id, encode_readings("fast-2", now + fast, [(Metric.SPO2, 95, now + fast)]))
        await fleet.wait_confirmed(ward.device_id, ["fast-1", "fast-2"])
    rows = await db_pool.fetch(
        "SELECT msg_id, measured_at, received_at, clock_correction_ms, flags FROM readings WHERE device_id = $1",
        ward.device_id,
    )
    assert sorted(r["msg_id"] for r in rows) == ["fast-1", "fast-2"]  # the resend was corrected as before
    for row in rows:
        correction = timedelta(milliseconds=row["clock_correction_ms"])
        assert row["measured_at"] + correction == now + fast  # the device's own time, kept exactly
        assert timedelta(0) <= row["received_at"] - row["measured_at"] < timedelta(seconds=30)
        assert row["flags"] == []
    latest = await db_pool.fetchval(
        "SELECT value FROM latest_observations WHERE patient_id = $1 AND metric = 'heart_rate'", ward.patient_id
    )
    assert latest == 97
    device = await db_pool.fetchrow(
        "SELECT clock_correction_ms, clock_estimate_ms FROM devices WHERE id = $1", ward.device_id
    )
    assert abs(device["clock_estimate_ms"] - fast / timedelta(milliseconds=1)) < 30_000
    assert device["clock_correction_ms"] == rows[0]["clock_correction_ms"]
