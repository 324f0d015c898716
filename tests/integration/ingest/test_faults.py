"""While readings flow: broker restarts (SIGTERM, SIGKILL), ingest SIGKILLed mid-batch, two workers on one
shared subscription, and PostgreSQL down for 30 s. Afterwards every reading sent is stored exactly once.

Loopback only, bounded in time, and each test stops only the processes it started. CI sends 10,000
readings per test; the full run is `VWARD_FAULT_READINGS=200000 pytest -m slow tests/integration/ingest`.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from bench._support.stack import IngestProcess, bind_fleet, fleet_result, start_fleet
from tests.integration.ingest.faults import READINGS, PrivatePostgres, tally
from tests.support.servers import Mosquitto
from tests.support.waiting import budget
from vward.storage.migrate import migrate

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEVICES = 20
MESSAGES = max(1, READINGS // 5 // DEVICES)  # per device, 5 readings each
FLOW_S = max(12.0, READINGS / 5 / 1000)  # spread the messages so the faults hit a flowing stream
DEADLINE_S = budget(FLOW_S + 90.0)  # the fleet stops itself by then, done or not


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own: it is restarted and killed."""
    b = Mosquitto(workdir=tmp_path / "mosquitto")
    b.start()
    yield b
    b.stop(signal.SIGKILL)


def ingest_env(dsn: str, broker: Mosquitto, prefix: str, client_id: str) -> dict[str, str]:
    return {
        "VWARD_DATABASE_URL": dsn,
        "VWARD_MQTT_URL": broker.url,
        "VWARD_MQTT_TOPIC_PREFIX": prefix,
        "VWARD_INGEST_CLIENT_ID": client_id,
        "VWARD_INGEST_SHARED_GROUP": "g-" + prefix.replace("/", "-").strip("-"),
        "VWARD_LOG_LEVEL": "DEBUG",
    }


async def run_flow(
    dsn: str, broker: Mosquitto, workers: list[IngestProcess], fault: Callable[[], None], prefix: str, fleet: str
) -> dict[str, object]:
    """Bind a fleet, start the workers, publish while `fault` runs, and return the fleet's account."""
    conn = await asyncpg.connect(dsn)
    try:
        await bind_fleet(conn, fleet, DEVICES)
    finally:
        await conn.close()
    for w in workers:
        w.start(wait_subscribed=budget(60))
    proc = start_fleet(
        broker.port,
        prefix,
        fleet,
        DEVICES,
        MESSAGES,
        window=200,
        rate=DEVICES * MESSAGES / FLOW_S,
        resend_after=3.0,
        deadline=DEADLINE_S,
    )
    try:
        await asyncio.to_thread(fault)
        result = await asyncio.to_thread(fleet_result, proc, DEADLINE_S + budget(30))
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in workers:
            w.stop()
    return result


async def assert_exactly_once(dsn: str, fleet: str, result: dict[str, object], logs: str) -> None:
    expected = DEVICES * MESSAGES * 5
    assert result["unconfirmed"] == 0, logs[-3000:]
    counted = await tally(dsn, fleet)
    assert counted.rows == expected, (counted, logs[-3000:])
    assert counted.distinct == expected


def test_broker_restarts_with_sigterm_and_sigkill(database_url: str, broker: Mosquitto, tmp_path: Path) -> None:
    prefix, fleet = f"f/{uuid.uuid4().hex[:8]}/", f"br{uuid.uuid4().hex[:6]}-"
    ingest = IngestProcess(ingest_env(database_url, broker, prefix, f"ing-{fleet}"), tmp_path / "ingest.log")

    def restarts() -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL, signal.SIGTERM, signal.SIGKILL):
            time.sleep(2.0)
            broker.stop(sig)
            time.sleep(0.5)
            broker.start()

    result = asyncio.run(run_flow(database_url, broker, [ingest], restarts, prefix, fleet))
    asyncio.run(assert_exactly_once(database_url, fleet, result, ingest.output()))


def test_ingest_killed_mid_batch(database_url: str, broker: Mosquitto, tmp_path: Path) -> None:
    prefix, fleet = f"f/{uuid.uuid4().hex[:8]}/", f"ik{uuid.uuid4().hex[:6]}-"
    ingest = IngestProcess(ingest_env(database_url, broker, prefix, f"ing-{fleet}"), tmp_path / "ingest.log")

    def kills() -> None:
        for _ in range(4):
            time.sleep(2.0)
            ingest.stop(signal.SIGKILL)
            ingest.start(wait_subscribed=budget(60))

    result = asyncio.run(run_flow(database_url, broker, [ingest], kills, prefix, fleet))
    asyncio.run(assert_exactly_once(database_url, fleet, result, ingest.output()))
    assert ingest.output().count("subscribed") == 5


def test_two_workers_share_one_subscription(database_url: str, broker: Mosquitto, tmp_path: Path) -> None:
    prefix, fleet = f"f/{uuid.uuid4().hex[:8]}/", f"tw{uuid.uuid4().hex[:6]}-"
    workers = [
        IngestProcess(ingest_env(database_url, broker, prefix, f"ing{i}-{fleet}"), tmp_path / f"ingest{i}.log")
        for i in range(2)
    ]

    def one_worker_killed_and_back() -> None:
        time.sleep(4.0)
        workers[0].stop(signal.SIGKILL)
        time.sleep(1.0)
        workers[0].start(wait_subscribed=budget(60))

    result = asyncio.run(run_flow(database_url, broker, workers, one_worker_killed_and_back, prefix, fleet))
    logs = workers[0].output() + workers[1].output()
    asyncio.run(assert_exactly_once(database_url, fleet, result, logs))
    assert all("committed" in w.output() for w in workers)  # both took a share


def test_postgres_down_for_30_seconds(broker: Mosquitto, tmp_path: Path) -> None:
    pg = PrivatePostgres(Path(f"/tmp/vward-pg-{uuid.uuid4().hex[:8]}"))
    pg.init()
    pg.start()
    try:
        asyncio.run(_migrate(pg.dsn))
        prefix, fleet = f"f/{uuid.uuid4().hex[:8]}/", f"pg{uuid.uuid4().hex[:6]}-"
        ingest = IngestProcess(ingest_env(pg.dsn, broker, prefix, f"ing-{fleet}"), tmp_path / "ingest.log")
        peak_rss = [0]

        def outage() -> None:
            time.sleep(3.0)
            pg.stop()
            assert ingest.proc is not None
            until = time.monotonic() + 30
            while time.monotonic() < until:
                peak_rss[0] = max(peak_rss[0], psutil.Process(ingest.proc.pid).memory_info().rss)
                time.sleep(0.5)
            pg.start()

        result = asyncio.run(run_flow(pg.dsn, broker, [ingest], outage, prefix, fleet))
        asyncio.run(assert_exactly_once(pg.dsn, fleet, result, ingest.output()))
        assert "database unavailable" in ingest.output()
        assert peak_rss[0] < 300 * 2**20  # bounded: the broker holds what ingest has not acknowledged
    finally:
        pg.stop("immediate")
        shutil.rmtree(pg.root, ignore_errors=True)


async def _migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
