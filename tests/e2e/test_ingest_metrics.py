"""A scaled-out ingest process (no api role) serves its counters on VWARD_METRICS_PORT."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.core.topics import device_topic
from tests.support.platform import VwardProcess
from tests.support.servers import Mosquitto, free_port
from tests.support.waiting import budget, wait_until

pytestmark = pytest.mark.e2e


def _rejected_bad_json(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("vward_ingest_rejected_total{") and "bad_json" in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_ingest_role_counts_rejections_on_its_metrics_port(
    database_url: str, mosquitto: Mosquitto, topic_prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    ingest = VwardProcess(
        ["run", "ingest"],
        {
            "VWARD_DATABASE_URL": database_url,
            "VWARD_MQTT_URL": mosquitto.url,
            "VWARD_MQTT_TOPIC_PREFIX": topic_prefix,
            "VWARD_METRICS_PORT": str(port),
            "VWARD_INGEST_CLIENT_ID": f"metrics-{uuid.uuid4().hex[:8]}",
        },
        tmp_path / "ingest.log",
    )
    ingest.start()
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        ingest.wait_http(url, timeout=30)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"garbage-{uuid.uuid4().hex[:8]}")
        client.connect("127.0.0.1", mosquitto.port)
        client.loop_start()

        def counted() -> float:
            # Resent until counted: the subscription may not be in place for the first one.
            client.publish(device_topic(topic_prefix, "dev-garbage", "readings"), b"{not json", qos=1)
            return _rejected_bad_json(httpx.get(url, timeout=budget(10)).text)

        wait_until(counted, within=60, what="ingest counting the bad JSON on /metrics", every=0.5)
        client.loop_stop()
        client.disconnect()
    finally:
        assert ingest.stop() == 0, ingest.output()[-3000:]
