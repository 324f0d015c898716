"""A fast QoS 1 publisher: `python -m tests.e2e.support.flood URL TOPIC FIRST COUNT START` (own process).

Publishes COUNT one-reading messages (msg ids m{FIRST}.., measured 0.5 s apart from START) on one
MQTT 3.1.1 connection, waits for every PUBACK and prints `published COUNT in SECONDS s`; exit 1 if
the broker did not acknowledge them all within the time limit. At most WINDOW messages are unacknowledged:
paho reuses its 16-bit packet ids without checking, so a client holding more than 65,535 unacknowledged
messages (queued included) overwrites its own and stalls, on any broker.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.core.wire import encode_readings
from tests.support.waiting import budget
from vward.domain.metrics import Metric

LIMIT_S = budget(600)  # the whole run, publishing and waiting for the last PUBACK, on a loaded machine
WINDOW = 10_000


def flood(url: str, topic: str, first: int, count: int, start: datetime) -> float:
    """Seconds until the broker acknowledged all `count` messages."""
    parts = urlsplit(url)
    acked = 0
    done = threading.Event()
    window = threading.Semaphore(WINDOW)

    def on_publish(*_: object) -> None:
        nonlocal acked
        acked += 1
        window.release()
        if acked == count:
            done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"flood-{uuid.uuid4().hex[:8]}")
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    began = time.monotonic()
    for i in range(first, first + count):
        if not window.acquire(timeout=max(0.0, began + LIMIT_S - time.monotonic())):
            break
        at = start + timedelta(milliseconds=500 * i)
        client.publish(topic, encode_readings(f"m{i}", at, [(Metric.HEART_RATE, 60 + i % 40, at)]), qos=1)
    finished = done.wait(max(0.0, began + LIMIT_S - time.monotonic()))
    took = time.monotonic() - began
    client.disconnect()
    client.loop_stop()
    if not finished:
        raise TimeoutError(f"the broker acknowledged {acked} of {count} messages in {LIMIT_S:.0f} s")
    return took


if __name__ == "__main__":
    url, topic, first, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    print(f"published {count} in {flood(url, topic, first, count, datetime.fromisoformat(start)):.1f} s", flush=True)
