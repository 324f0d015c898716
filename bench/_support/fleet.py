"""Store-and-forward simulated devices for the benchmark and the fault tests, run as their own process.

`python -m bench._support.fleet --port P --prefix X --device-prefix D --devices K --messages M` publishes M
messages of 5 readings per device at QoS 1, as fast as a window of unconfirmed messages allows. A message is
kept until the platform confirms it on the device's ack topic (or, with --confirm puback, until the broker
acknowledges it: the broker-ceiling mode) and is resent unchanged after --resend-after seconds and after
every reconnect. Prints one JSON line: counts and per-message publish-to-confirmation latencies in ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ingest.core.topics import device_topic
from ingest.core.wire import decode_ack, encode_readings
from vward.domain.metrics import Metric


def device_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


def payload(msg_id: str, at: datetime, n: int, *, quiet: bool = False) -> bytes:
    """Five vital signs varying with `n`; `quiet` keeps every one in its NEWS2 score-0 band (a stable ward)."""
    vitals = [
        (Metric.HEART_RATE, 60 + n % (30 if quiet else 40)),
        (Metric.RESPIRATORY_RATE, 12 + n % 8),
        (Metric.SPO2, 96 + n % 4 if quiet else 92 + n % 8),
        (Metric.TEMPERATURE, 36.5 + (n % 10) / 10),
        (Metric.SYSTOLIC_BP, (115 if quiet else 100) + n % 40),
    ]
    return encode_readings(msg_id, at, [(m, v, at) for m, v in vitals])


@dataclass
class Pending:
    topic: str
    payload: bytes
    first_sent: float
    last_sent: float


class Fleet:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.devices = device_ids(args.device_prefix, args.devices)
        self.pending: dict[str, Pending] = {}
        self.latencies_ms: list[float] = []
        self.resent = 0
        self.lock = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fleet-{uuid.uuid4().hex[:10]}")
        self.client.max_inflight_messages_set(args.window)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        if args.confirm == "platform":
            self.client.on_message = self._on_ack
        self.client.on_publish = self._on_publish
        self.mids: dict[int, str] = {}
        self.early: set[int] = set()
        self.mid_lock = threading.Lock()
        self.sent = 0
        self.connected_before = False
        self.started = 0.0

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self.args.confirm == "platform":
            client.subscribe([(device_topic(self.args.prefix, d, "ack"), 1) for d in self.devices])
        with self.lock:  # resend everything unconfirmed after a reconnect
            if self.connected_before:
                for p in self.pending.values():
                    p.last_sent = 0.0
            self.connected_before = True
            self.lock.notify()

    def _settle(self, msg_ids: list[str]) -> None:
        now = time.perf_counter()
        with self.lock:
            for msg_id in msg_ids:
                p = self.pending.pop(msg_id, None)
                if p is not None:
                    self.latencies_ms.append((now - p.first_sent) * 1000)
            self.lock.notify()

    def _on_ack(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._settle(decode_ack(bytes(message.payload)))

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        # Runs under paho's own locks: take only mid_lock here, and never call paho while holding it.
        if self.args.confirm != "puback":
            return
        with self.mid_lock:
            msg_id = self.mids.pop(mid, None)
            if msg_id is None:
                self.early.add(mid)
        if msg_id is not None:
            self._settle([msg_id])

    def _send(self, msg_id: str, p: Pending) -> None:
        info = self.client.publish(p.topic, p.payload, qos=1)
        if self.args.confirm != "puback":
            return
        with self.mid_lock:
            settled = info.mid in self.early
            if settled:
                self.early.discard(info.mid)
            else:
                self.mids[info.mid] = msg_id
        if settled:
            self._settle([msg_id])

    def _next_sends(self, queue: Iterator[tuple[int, str]]) -> tuple[list[tuple[str, Pending]], bool]:
        """Under the lock: what to (re)send now, and whether every message has been created."""
        a = self.args
        now = time.perf_counter()
        sends = [(k, p) for k, p in self.pending.items() if now - p.last_sent > a.resend_after]
        for _, p in sends:
            p.last_sent = now
        self.resent += len(sends)
        allowed = a.rate * (now - self.started) if a.rate else float("inf")
        while len(self.pending) < a.window and self.sent < allowed:
            item = next(queue, None)
            if item is None:
                return sends, True
            n, device = item
            msg_id = f"{device}-{n:07d}"
            body = payload(msg_id, datetime.now(UTC), n, quiet=a.quiet)
            self.pending[msg_id] = p = Pending(device_topic(a.prefix, device, "readings"), body, now, now)
            sends.append((msg_id, p))
            self.sent += 1
        return sends, False

    def run(self) -> dict[str, Any]:
        a = self.args
        self.client.connect("127.0.0.1", a.port)
        self.client.loop_start()
        self.started = started = time.perf_counter()
        deadline = started + a.deadline
        queue = ((n, d) for n in range(a.messages) for d in self.devices)
        exhausted = False
        while time.perf_counter() < deadline:
            with self.lock:
                if exhausted and not self.pending:
                    break
                sends, done = self._next_sends(queue)
                exhausted = exhausted or done
            for msg_id, p in sends:  # outside our lock: paho callbacks take it under paho's locks
                self._send(msg_id, p)
            with self.lock:
                if not sends:
                    self.lock.wait(0.01 if a.rate else 0.05)
        elapsed = time.perf_counter() - started
        self.client.loop_stop()
        self.client.disconnect()
        return {
            "sent": self.sent,
            "confirmed": len(self.latencies_ms),
            "unconfirmed": len(self.pending),
            "resent": self.resent,
            "elapsed_s": elapsed,
            "latencies_ms": [round(x, 2) for x in self.latencies_ms],
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--device-prefix", required=True)
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--messages", type=int, required=True, help="messages per device")
    parser.add_argument("--window", type=int, default=500, help="unconfirmed messages in flight per process")
    parser.add_argument("--resend-after", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--rate", type=float, default=0.0, help="new messages per second (0: as fast as allowed)")
    parser.add_argument("--confirm", choices=["platform", "puback"], default="platform")
    parser.add_argument("--quiet", action="store_true", help="only vital signs that score 0 on NEWS2")
    result = Fleet(parser.parse_args(argv)).run()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
