"""A private Mosquitto with the shipped security configuration: platform-issued passwords, the ACL
(with the test's topic prefix in front of every topic, as the ACL file says to do) and a TLS listener
whose certificates deploy/tls/make-dev-ca.sh makes."""

from __future__ import annotations

import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from tests.support.servers import REPO, BrokerDidNotStart, Mosquitto, free_port
from tests.support.waiting import budget

CONNECT_TIMEOUT_S = budget(20)
START_ATTEMPTS = 3


@dataclass
class SecureBroker:
    broker: Mosquitto
    tls_port: int
    tls_dir: Path

    @property
    def port(self) -> int:
        return self.broker.port


def start_secure_broker(workdir: Path, password_lines: list[str], topic_prefix: str) -> SecureBroker:
    tls_dir = workdir / "tls"
    subprocess.run([str(REPO / "deploy/tls/make-dev-ca.sh"), str(tls_dir)], check=True, capture_output=True, timeout=60)
    (workdir / "passwd").write_text("".join(f"{line}\n" for line in password_lines))
    acl = (REPO / "deploy/mosquitto/vward.acl").read_text().replace(" vward/v1/", f" {topic_prefix}vward/v1/")
    (workdir / "vward.acl").write_text(acl)
    for attempt in range(START_ATTEMPTS):
        # Both ports are chosen afresh on each attempt: either may be taken before mosquitto binds it.
        tls_port = free_port()
        conf = (REPO / "deploy/mosquitto/mosquitto-secure.conf").read_text()
        conf = conf.replace("/etc/mosquitto/vward/", f"{workdir}/")
        conf = conf.replace("listener 8883", f"listener {tls_port} 127.0.0.1")
        broker = Mosquitto(workdir=workdir, port=free_port(), extra_conf=f"\n{conf}")
        try:
            broker.start()
            broker.wait_listening(tls_port)
            return SecureBroker(broker, tls_port, tls_dir)
        except BrokerDidNotStart:
            broker.stop()
            if attempt == START_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def connect(
    port: int,
    username: str | None,
    password: str | None,
    *,
    client_id: str,
    ca_file: Path | None = None,
    timeout: float = CONNECT_TIMEOUT_S,
) -> tuple[mqtt.Client, ReasonCode]:
    """A running client and the broker's CONNACK reason (`.is_failure` when refused)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if username is not None:
        client.username_pw_set(username, password)
    if ca_file is not None:
        client.tls_set(ca_certs=str(ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    answered = threading.Event()
    result: list[ReasonCode] = []

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        result.append(reason)
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    if not answered.wait(timeout):
        client.loop_stop()
        raise TimeoutError("no CONNACK")
    return client, result[0]


def disconnect(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()
