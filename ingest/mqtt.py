"""The MQTT edge: one paho client, its own network thread, reconnect loop and manual acknowledgement.

Every paho call happens on the network thread (paho is not safe to drive from two threads without its
own loop_start). The asyncio side asks for acks and device confirmations through a command queue and a
wake-up socket. Deliveries carry the connection generation they arrived on: after a reconnect the broker
redelivers what was not acknowledged, and a stale packet id must never acknowledge a different message.
MQTT v5 is the default; 3.1.1 (for brokers without v5, such as amqtt) keeps manual acks and a persistent
session through clean_session=False, but has no Receive Maximum: the broker may send without limit.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import random
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest import metrics
from ingest.core.backoff import backoff_delay
from ingest.core.topics import device_topic
from ingest.core.wire import encode_ack
from ingest.inbox import Delivery, Inbox

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
SESSION_EXPIRY_S = 7 * 24 * 3600  # matches persistent_client_expiration in deploy/mosquitto
_READS_PER_WAKEUP = 512  # drain what the socket holds before going back to select()


def broker_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ValueError("VWARD_MQTT_URL must look like mqtt://host:port")
    return parts.hostname, parts.port or 1883


class MqttEdge:
    """Subscribes to `filters`, feeds `inbox`, and acks only what the caller says is committed."""

    def __init__(
        self,
        *,
        url: str,
        client_id: str,
        filters: Sequence[str],
        inbox: Inbox,
        topic_prefix: str,
        receive_maximum: int,
        v5: bool = True,
    ) -> None:
        self._host, self._port = broker_address(url)
        self._filters = list(filters)
        self._inbox = inbox
        self._prefix = topic_prefix
        self._receive_maximum = receive_maximum
        self._v5 = v5
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        parts = urlsplit(url)
        if parts.username:
            self._client.username_pw_set(parts.username, parts.password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._commands: collections.deque[Callable[[], None]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._generation = 0
        self._received = 0
        self._subscribed = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-mqtt", daemon=True)

    @property
    def subscribed(self) -> threading.Event:
        """Set once the first subscription is granted (tests and the benchmark wait on it)."""
        return self._subscribed

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued (acks first), disconnect cleanly (the session persists) and join the thread."""
        self._stopping.set()
        self._wake()
        self._thread.join(timeout)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge committed deliveries (thread-safe); those of an earlier connection are skipped."""
        self._call(lambda: self._ack_now(deliveries))

    def confirm(self, msg_ids: Mapping[str, Sequence[str]], at: datetime) -> None:
        """Publish the end-to-end confirmation to each device's ack topic (thread-safe)."""
        self._call(lambda: self._confirm_now(msg_ids, at))

    def _call(self, command: Callable[[], None]) -> None:
        self._commands.append(command)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # a wake-up is already pending
            self._wake_w.send(b"\0")

    # --- network thread -------------------------------------------------------------------------------

    def _ack_now(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            if d.qos > 0 and d.generation == self._generation:
                self._client.ack(d.mid, d.qos)

    def _confirm_now(self, msg_ids: Mapping[str, Sequence[str]], at: datetime) -> None:
        for device_id, ids in msg_ids.items():
            # QoS 0: a lost confirmation only makes the device resend, and the resend is a duplicate.
            self._client.publish(device_topic(self._prefix, device_id, "ack"), encode_ack(ids, at), qos=0)

    def _run(self) -> None:
        attempt = 0
        rng = random.Random()  # jitter, not security
        while not self._stopping.is_set():
            self._generation += 1
            try:
                self._connect()
            except (OSError, ValueError) as e:
                metrics.CONNECTS.labels("failed").inc()
                delay = backoff_delay(attempt, rng.random())
                log.warning("broker %s:%s unreachable (%s); retrying in %.1fs", self._host, self._port, e, delay)
                attempt += 1
                self._stopping.wait(delay)
                continue
            metrics.CONNECTS.labels("connected").inc()
            served = self._serve()
            attempt = 0 if served else attempt + 1
            if not self._stopping.is_set():
                delay = backoff_delay(attempt, rng.random())
                log.warning("connection to the broker lost; reconnecting in %.1fs", delay)
                self._stopping.wait(delay)
        self._commands.clear()

    def _connect(self) -> None:
        if not self._v5:  # the session persists through clean_session=False, set on the client
            self._client.connect(self._host, self._port, keepalive=KEEPALIVE_S)
            return
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = self._receive_maximum
        self._client.connect(self._host, self._port, keepalive=KEEPALIVE_S, clean_start=False, properties=props)

    def _serve(self) -> bool:
        """Pump one connection until it drops or we stop; True if it was ever accepted (resets backoff)."""
        client = self._client
        sock = client.socket()
        accepted = False
        while sock is not None:
            if self._stopping.is_set() and not self._commands:
                client.disconnect()
                self._flush()
                return accepted
            wlist = [sock] if client.want_write() else []
            try:
                readable, _, _ = select.select([sock, self._wake_r], wlist, [], 1.0)
            except (OSError, ValueError):  # the socket was closed under us
                break
            if self._wake_r in readable:
                self._drain_wakeups()
                self._run_commands()
            if sock in readable and self._read(client) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
            if client.want_write() and client.loop_write() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
            if client.loop_misc() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
            accepted = accepted or client.is_connected()
        client.loop_write()  # let paho close the dead socket before the next connect
        return accepted

    def _read(self, client: mqtt.Client) -> MQTTErrorCode:
        for _ in range(_READS_PER_WAKEUP):
            before = self._received
            rc = client.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._received == before:
                return rc
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _flush(self) -> None:
        deadline = time.monotonic() + 5
        while self._client.want_write() and time.monotonic() < deadline:
            sock = self._client.socket()
            if sock is None:
                return
            select.select([], [sock], [], 0.1)
            if self._client.loop_write() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _run_commands(self) -> None:
        while self._commands:
            command = self._commands.popleft()
            try:
                command()
            except Exception:  # one failed command must not stop the network loop
                log.exception("MQTT command failed")

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        client.subscribe([(f, 1) for f in self._filters])

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        refused = [f"{f}: {r}" for f, r in zip(self._filters, reasons, strict=False) if r.is_failure]
        if refused:  # the devices' messages on these topics would never reach us: ops must see it
            log.error("broker refused subscriptions: %s", "; ".join(refused))
        if len(refused) == len(reasons):
            return
        self._subscribed.set()  # on the SUBACK: from now on the broker routes the devices' messages to us
        log.info("connected to %s:%s and subscribed", self._host, self._port)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._received += 1
        try:
            self._inbox.put(
                Delivery(
                    message.topic,
                    bytes(message.payload),
                    message.mid,
                    message.qos,
                    self._generation,
                    datetime.now(UTC),
                    time.monotonic(),
                )
            )
        except Exception:  # e.g. a topic that is not UTF-8: never let it stop the loop
            metrics.HANDLER_ERRORS.inc()
            log.exception("could not accept a message")
            if message.qos > 0:  # unreadable even as a dead letter: acknowledge, or it comes back forever
                self._client.ack(message.mid, message.qos)
