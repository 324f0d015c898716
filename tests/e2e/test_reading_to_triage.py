"""The whole chain as separate roles: MQTT reading -> ingest -> PostgreSQL -> NEWS2 -> triage API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.core.topics import device_topic
from ingest.core.wire import encode_readings
from tests.support.api import TEST_SECRET, make_user
from tests.support.platform import VwardProcess, signed_in
from tests.support.servers import Mosquitto, free_port
from tests.support.waiting import budget, wait_until
from vward.domain.alerts import Role
from vward.domain.metrics import Metric
from vward.storage.pool import create_pool

pytestmark = pytest.mark.e2e

# RR 22 (2) + SpO2 95 on scale 1 (1) + air (0) + SBP 105 (1) + pulse 95 (1) + Alert (0) + 38.5 C (1) = 6
OBSERVATIONS: list[tuple[Metric, float | bool | str]] = [
    (Metric.RESPIRATORY_RATE, 22),
    (Metric.SPO2, 95),
    (Metric.ON_OXYGEN, False),
    (Metric.SYSTOLIC_BP, 105),
    (Metric.HEART_RATE, 95),
    (Metric.CONSCIOUSNESS, "A"),
    (Metric.TEMPERATURE, 38.5),
]


async def _clinician(database_url: str, ward: str) -> tuple[str, str]:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        return await make_user(pool, Role.CLINICIAN, (ward,))
    finally:
        await pool.close()


def _publish(broker: Mosquitto, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=budget(20))
    finally:
        client.loop_stop()
        client.disconnect()


def test_published_readings_reach_the_triage_list_with_news2(
    database_url: str, mosquitto: Mosquitto, topic_prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    ward = f"E2E-{uuid.uuid4().hex[:6]}"
    platform = VwardProcess(
        ["run", "all"],
        {
            "VWARD_DATABASE_URL": database_url,
            "VWARD_MQTT_URL": mosquitto.url,
            "VWARD_MQTT_TOPIC_PREFIX": topic_prefix,
            "VWARD_SECRET_KEY": TEST_SECRET,
            "VWARD_HTTP_PORT": str(port),
            "VWARD_INGEST_CLIENT_ID": f"e2e-ingest-{uuid.uuid4().hex[:8]}",
        },
        tmp_path / "platform.log",
    )
    platform.start()
    try:
        base = f"http://127.0.0.1:{port}"
        platform.wait_http(f"{base}/healthz", timeout=30)
        username, password = asyncio.run(_clinician(database_url, ward))
        client = signed_in(base, username, password)
        admitted = client.post(
            "/api/v1/patients", json={"mrn": f"E2E-{uuid.uuid4().hex[:8]}", "display_name": "E2E Patient", "ward": ward}
        )
        patient_id = admitted.json()["id"]
        device_id = f"e2e-{uuid.uuid4().hex[:8]}"
        bound = client.post(f"/api/v1/patients/{patient_id}/devices", json={"device_id": device_id, "kind": "patch"})
        assert bound.status_code == 201

        now = datetime.now(UTC)
        payload = encode_readings(f"{device_id}-1", now, [(m, v, now) for m, v in OBSERVATIONS])
        _publish(mosquitto, device_topic(topic_prefix, device_id, "readings"), payload)

        def scored() -> dict[str, object] | None:
            row = next(r for r in client.get("/api/v1/patients").json() if r["id"] == patient_id)
            return row if row["news2_score"] is not None else None

        row = wait_until(scored, within=60, what="the patient scored on the worklist", every=0.2)
        assert row["news2_score"] == 6, platform.output()[-3000:]
        assert row["news2_band"] == "medium"
        assert row["news2_complete"] is True
    finally:
        assert platform.stop() == 0, platform.output()[-3000:]
