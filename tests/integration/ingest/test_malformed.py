"""Fuzzed payloads through the real broker and service: every one lands in dead_letter with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.core.rejections import Reason
from tests.integration.ingest.support import Fleet, bound_device, running_ingest, wait_for
from tests.support.servers import Mosquitto
from tests.unit.ingest.malformed import malformed_payloads
from vward.settings import Settings

pytestmark = pytest.mark.integration

CASES = 300


def generated_payloads() -> list[bytes]:
    found: list[bytes] = []

    @settings(max_examples=CASES, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        found.append(data.draw(malformed_payloads))

    collect()
    return found


async def test_malformed_payloads_land_in_dead_letter(
    settings: Settings, db_pool: asyncpg.Pool, mosquitto: Mosquitto, topic_prefix: str
) -> None:
    device = await bound_device(db_pool, datetime.now(UTC))
    payloads = generated_payloads()
    fleet = Fleet(mosquitto.port, topic_prefix)
    try:
        async with running_ingest(settings, db_pool):
            for payload in payloads:
                fleet.publish(device.device_id, payload)
            await wait_for(
                db_pool,
                "SELECT count(*) FROM dead_letter WHERE topic LIKE $1 || '%'",
                topic_prefix,
                expect=len(payloads),
                within=60,
            )
    finally:
        fleet.close()
    reasons = await db_pool.fetch(
        "SELECT reason, count(*) FROM dead_letter WHERE topic LIKE $1 || '%' GROUP BY reason", topic_prefix
    )
    assert {r["reason"] for r in reasons} <= {r.value for r in Reason}
    assert await db_pool.fetchval("SELECT count(*) FROM readings WHERE device_id = $1", device.device_id) == 0
