"""The demo's embedded broker carries a long QoS 1 run into one ingest connection: past packet-id rollover."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from ingest.core.topics import device_topic
from tests.e2e.support.flood import LIMIT_S as flood_limit_s
from tests.e2e.support.flood import flood
from tests.integration.ingest.support import bound_device, running_ingest
from tests.support.servers import REPO, discard_embedded_postgres
from tests.support.waiting import budget, finishes, sized
from vward.bootstrap import open_database
from vward.embedded import BrokerChoice, EmbeddedServers
from vward.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Beyond 65,535: the broker's packet ids to ingest wrap around at least once.
MESSAGES = sized(ci=70_000, full=85_000)
# A stall (nothing new stored for NO_PROGRESS_S) is what fails the run. amqtt is pure Python and shares the
# cores: 1,500 messages/s on a quiet 2-core machine, 410/s with both cores busy. The whole run's bound is
# for a loaded machine (flood.LIMIT_S, the publisher's own, is the same), never a throughput target:
# that is bench/'s (docs/performance.md, "Embedded broker").
LIMIT_S = flood_limit_s
NO_PROGRESS_S = budget(30)


async def _stored(pool: asyncpg.Pool, device_id: str) -> tuple[int, int]:
    row = await pool.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT msg_id) AS ids FROM readings WHERE device_id = $1", device_id
    )
    assert row is not None
    return int(row["n"]), int(row["ids"])


async def _wait_stored(pool: asyncpg.Pool, device_id: str, wanted: int, limit_s: float) -> int:
    """Stored rows once `wanted` are in, nothing new arrived for NO_PROGRESS_S, or `limit_s` passed."""
    deadline = time.monotonic() + limit_s
    stored, progress_at = 0, time.monotonic()
    while stored < wanted and time.monotonic() < min(deadline, progress_at + NO_PROGRESS_S):
        await asyncio.sleep(1)
        now_stored, _ = await _stored(pool, device_id)
        if now_stored > stored:
            stored, progress_at = now_stored, time.monotonic()
    return stored


@dataclass(frozen=True)
class Rig:
    settings: Settings
    url: str
    pool: asyncpg.Pool
    device_id: str
    topic: str


@asynccontextmanager
async def embedded_platform(tmp_path: Path, broker: BrokerChoice) -> AsyncIterator[Rig]:
    """Embedded PostgreSQL and broker configured as `vward demo` does, with one bound device."""
    servers = EmbeddedServers(tmp_path / "servers")
    try:
        url = await servers.start_broker(broker)
        settings = Settings(
            database_url=servers.start_postgres(), mqtt_url=url, ingest_client_id=f"soak-{broker}"
        ).model_copy(update=servers.client_settings())
        pool = await open_database(settings)
        try:
            device = await bound_device(pool, datetime.now(UTC) - timedelta(days=2), tag=broker)
            topic = device_topic(settings.mqtt_topic_prefix, device.device_id, "readings")
            yield Rig(settings, url, pool, device.device_id, topic)
        finally:
            await pool.close()
    finally:
        await servers.stop()
        discard_embedded_postgres(tmp_path / "servers")


@pytest.mark.parametrize("broker", ["amqtt", "mosquitto"])
async def test_a_long_qos1_run_is_stored_exactly_once(tmp_path: Path, broker: BrokerChoice) -> None:
    start = datetime.now(UTC) - timedelta(hours=12)
    async with embedded_platform(tmp_path, broker) as rig, running_ingest(rig.settings, rig.pool):
        publisher = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.e2e.support.flood",
            rig.url,
            rig.topic,
            "0",
            str(MESSAGES),
            start.isoformat(),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        began = time.monotonic()
        stored = await _wait_stored(rig.pool, rig.device_id, MESSAGES, LIMIT_S)
        took = time.monotonic() - began
        # The publisher stops itself at flood.LIMIT_S, done or not.
        output, _ = await finishes(publisher.communicate(), within=60, what="the publisher's exit")
        print(f"\n{broker}: {output.decode().strip()}; stored {stored} in {took:.1f} s ({stored / took:.0f}/s)")
        assert stored == MESSAGES, f"{broker} stalled: {stored} of {MESSAGES} stored after {took:.0f} s"

        await asyncio.to_thread(flood, rig.url, rig.topic, MESSAGES, 1, start)
        assert await _wait_stored(rig.pool, rig.device_id, MESSAGES + 1, budget(30)) == MESSAGES + 1, "ingest stopped"
        assert await _stored(rig.pool, rig.device_id) == (MESSAGES + 1, MESSAGES + 1)


async def test_on_amqtt_ingest_gets_what_was_published_while_it_was_away(tmp_path: Path) -> None:
    async with embedded_platform(tmp_path, "amqtt") as rig:
        async with running_ingest(rig.settings, rig.pool):
            pass  # subscribed: the broker now keeps ingest's session
        await asyncio.to_thread(flood, rig.url, rig.topic, 0, 10, datetime.now(UTC) - timedelta(hours=1))
        await asyncio.sleep(2)  # past amqtt's 1 s sweep, which would drop an anonymous session
        async with running_ingest(rig.settings, rig.pool):
            assert await _wait_stored(rig.pool, rig.device_id, 10, budget(30)) == 10
