"""No patient data in logs: a canary patient goes through the whole platform (admission, device readings
over MQTT, a malformed message, NEWS2 and alerts, API and FHIR reads, a mistyped sign-in) with debug
logging on, and neither the canary's name nor its identifiers appear in any log output."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
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

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

NAME = "Canary Zzyzx-4711"
MRN = "CANARY-4711"
BIRTH_DATE = "1931-07-04"
CANARIES = (NAME, "Zzyzx", MRN, BIRTH_DATE)

# NEWS2 well into the high band, so the rules worker opens an alert about the canary.
SICK: list[tuple[Metric, float | bool | str]] = [
    (Metric.RESPIRATORY_RATE, 28),
    (Metric.SPO2, 89),
    (Metric.ON_OXYGEN, False),
    (Metric.SYSTOLIC_BP, 88),
    (Metric.HEART_RATE, 135),
    (Metric.CONSCIOUSNESS, "A"),
    (Metric.TEMPERATURE, 39.4),
]


async def _admin(database_url: str) -> tuple[str, str]:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        return await make_user(pool, Role.ADMIN)
    finally:
        await pool.close()


def _publish(broker: Mosquitto, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"canary-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(timeout=budget(20))
    finally:
        client.loop_stop()
        client.disconnect()


def _exercise(client: httpx.Client, base: str, broker: Mosquitto, topic_prefix: str) -> None:
    admitted = client.post(
        "/api/v1/patients", json={"mrn": MRN, "display_name": NAME, "ward": "Canary", "date_of_birth": BIRTH_DATE}
    )
    assert admitted.status_code == 201, admitted.text
    patient = admitted.json()["id"]
    device = f"canary-{uuid.uuid4().hex[:8]}"
    assert client.post(f"/api/v1/patients/{patient}/devices", json={"device_id": device, "kind": "patch"}).is_success
    # Invalid requests that carry the canary: the refusal must not log what was refused.
    client.post("/api/v1/patients", json={"mrn": MRN, "display_name": NAME, "ward": "Canary", "surname": NAME})
    httpx.post(f"{base}/api/v1/auth/token", data={"username": MRN, "password": NAME}, timeout=budget(30))

    now = datetime.now(UTC)
    topic = device_topic(topic_prefix, device, "readings")
    malformed = json.dumps({"msg_id": "x", "patient": NAME, "mrn": MRN, "readings": "none"}).encode()
    _publish(broker, [(topic, malformed), (topic, encode_readings(f"{device}-1", now, [(m, v, now) for m, v in SICK]))])

    score = wait_until(  # ingest stored the readings and the rules scored them
        lambda: client.get(f"/api/v1/patients/{patient}").json()["summary"]["news2_score"],
        within=60,
        what="a NEWS2 score from the canary's readings",
        every=0.2,
    )
    assert score >= 7
    for path in (
        "/api/v1/patients",
        f"/api/v1/patients/{patient}",
        f"/api/v1/patients/{patient}/readings",
        "/api/v1/alerts",
        f"/fhir/r4/Patient/{patient}",
        f"/fhir/r4/Observation?patient={patient}",
        f"/fhir/r4/Flag?patient={patient}",
    ):
        client.get(path)
    assert NAME in client.get(f"/fhir/r4/Patient/{patient}").text  # the canary really went through


def test_canary_patient_appears_in_no_log(
    database_url: str, mosquitto: Mosquitto, topic_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    platform = VwardProcess(
        ["--verbose", "run", "all"],
        {
            "VWARD_DATABASE_URL": database_url,
            "VWARD_MQTT_URL": mosquitto.url,
            "VWARD_MQTT_TOPIC_PREFIX": topic_prefix,
            "VWARD_SECRET_KEY": TEST_SECRET,
            "VWARD_HTTP_PORT": str(port),
            "VWARD_INGEST_CLIENT_ID": f"canary-ingest-{uuid.uuid4().hex[:8]}",
            "VWARD_RULES_TICK_S": "0.5",
        },
        tmp_path / "platform.log",
    )
    platform.start()
    try:
        base = f"http://127.0.0.1:{port}"
        platform.wait_http(f"{base}/healthz", timeout=30)
        username, password = asyncio.run(_admin(database_url))
        _exercise(signed_in(base, username, password), base, mosquitto, topic_prefix)
    finally:
        assert platform.stop() == 0, platform.output()[-3000:]
    logs = {
        "platform (stdout and stderr, debug)": platform.output(),
        "mosquitto": (mosquitto.workdir / "mosquitto.log").read_text(errors="replace"),
        "test process": caplog.text,
    }
    assert "DEBUG" in logs["platform (stdout and stderr, debug)"]  # debug logging was really on
    found = [f"{canary!r} in {source}" for source, text in logs.items() for canary in CANARIES if canary in text]
    assert found == []
