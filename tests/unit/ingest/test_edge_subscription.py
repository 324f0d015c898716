"""The MQTT edge calls itself subscribed on the broker's SUBACK, not when it sends SUBSCRIBE: until then a
device's message is not routed to ingest, so tests and benchmarks that wait on `subscribed` would publish
into nothing. A subscription the broker refuses is logged for ops."""

from __future__ import annotations

import asyncio
import logging

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from ingest.inbox import Inbox
from ingest.mqtt import MqttEdge

FILTERS = ["vward/v1/devices/+/readings", "vward/v1/devices/+/status"]


class Client:
    """Stands in for paho's client in the callbacks: records what the edge asks of it."""

    def __init__(self) -> None:
        self.subscribed: list[list[tuple[str, int]]] = []

    def subscribe(self, topics: list[tuple[str, int]]) -> None:
        self.subscribed.append(topics)


def _edge(loop: asyncio.AbstractEventLoop) -> MqttEdge:
    return MqttEdge(
        url="mqtt://127.0.0.1:1",
        client_id="edge-test",
        filters=FILTERS,
        inbox=Inbox(loop, qos0_limit=10),
        topic_prefix="",
        receive_maximum=10,
    )


def _granted(qos: int = 1) -> ReasonCode:
    return ReasonCode(PacketTypes.SUBACK, identifier=qos)


def _refused() -> ReasonCode:
    return ReasonCode(PacketTypes.SUBACK, "Not authorized")


async def test_subscribed_waits_for_the_suback() -> None:
    edge, client = _edge(asyncio.get_running_loop()), Client()
    edge._on_connect(client, None, None, ReasonCode(PacketTypes.CONNACK, "Success"), None)  # type: ignore[arg-type]
    assert client.subscribed == [[(f, 1) for f in FILTERS]]
    assert not edge.subscribed.is_set()  # SUBSCRIBE sent, not yet granted
    edge._on_subscribe(client, None, 1, [_granted(), _granted()], None)  # type: ignore[arg-type]
    assert edge.subscribed.is_set()


async def test_a_refused_subscription_is_logged_and_all_refused_is_not_subscribed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    edge, client = _edge(asyncio.get_running_loop()), Client()
    with caplog.at_level(logging.ERROR, logger="ingest.mqtt"):
        edge._on_subscribe(client, None, 1, [_refused(), _refused()], None)  # type: ignore[arg-type]
    assert not edge.subscribed.is_set()
    assert "broker refused subscriptions: vward/v1/devices/+/readings: Not authorized" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="ingest.mqtt"):
        edge._on_subscribe(client, None, 2, [_granted(), _refused()], None)  # type: ignore[arg-type]
    assert edge.subscribed.is_set()  # readings flow; the refused status topic is ops' to fix, and said
    assert "vward/v1/devices/+/status: Not authorized" in caplog.text
