"""Reconnect backoff, the thread-to-asyncio inbox, and what a batch confirms to devices."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from ingest.batch import confirmations, decode, last_seen, staged, status_updates
from ingest.core.backoff import backoff_delay
from ingest.core.wire import encode_readings, encode_status
from ingest.inbox import Delivery, Inbox
from tests.support.waiting import budget, finishes
from vward.domain.metrics import Metric

AT = datetime(2026, 11, 22, 9, 15, tzinfo=UTC)


def delivery(topic: str, payload: bytes, qos: int = 1) -> Delivery:
    return Delivery(topic, payload, 1, qos, 1, AT, 0.0)


@pytest.mark.parametrize(("attempt", "low", "high"), [(0, 0.1, 0.2), (3, 0.8, 1.6), (10, 15.0, 30.0), (99, 15.0, 30.0)])
def test_backoff_doubles_with_jitter_and_is_capped(attempt: int, low: float, high: float) -> None:
    assert backoff_delay(attempt, 0.0) == pytest.approx(low)
    assert backoff_delay(attempt, 0.999999) == pytest.approx(high, rel=1e-5)


async def test_inbox_wakes_the_collector_from_another_thread() -> None:
    inbox = Inbox(asyncio.get_running_loop(), qos0_limit=10)
    waiting = asyncio.create_task(inbox.wait(budget(30)))
    await asyncio.sleep(0)  # the task runs to its wait
    threading.Thread(target=inbox.put, args=(delivery("t", b"x"),)).start()
    await finishes(waiting, within=30, what="the inbox's wake-up")
    assert [d.payload for d in inbox.take(10)] == [b"x"]


async def test_inbox_wait_times_out_when_nothing_arrives() -> None:
    inbox = Inbox(asyncio.get_running_loop(), qos0_limit=10)
    await inbox.wait(0.01)
    assert len(inbox) == 0


async def test_inbox_drops_qos0_beyond_its_limit_but_never_qos1() -> None:
    inbox = Inbox(asyncio.get_running_loop(), qos0_limit=2)
    for qos in (0, 0, 0, 1, 1):
        inbox.put(delivery("t", b"x", qos))
    assert [d.qos for d in inbox.take(10)] == [0, 0, 1, 1]


def test_a_batch_confirms_stored_and_dead_lettered_messages_and_touches_devices() -> None:
    readings = encode_readings("m-1", AT, [(Metric.SPO2, 94, AT), (Metric.HEART_RATE, 80, AT)])
    entries = [
        decode("p/", delivery("p/vward/v1/devices/a/readings", readings)),
        decode("p/", delivery("p/vward/v1/devices/a/readings", b'{"msg_id": "m-2", "readings": 7}')),
        decode("p/", delivery("p/vward/v1/devices/b/status", encode_status(True, 50, AT))),
        decode("p/", delivery("p/vward/v1/devices/c/readings", b"garbage")),
        decode("p/", delivery("p/vward/v1/devices/d d/readings", readings)),
    ]
    assert confirmations(entries) == {"a": ["m-1", "m-2"]}
    assert [seq for seq, _ in staged(entries)] == [0, 0]
    assert [(u.device_id, u.online, u.battery) for u in status_updates(entries)] == [("b", True, 50)]
    assert set(last_seen(entries)) == {"a", "b", "c"}
