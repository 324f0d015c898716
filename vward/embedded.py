"""Servers `vward demo` starts for itself when none are configured, bound to 127.0.0.1 only.

PostgreSQL comes from pgserver (a PyPI wheel with its own binaries). The broker is the system
mosquitto when its binary exists, else amqtt in-process (see docs/performance.md, "Embedded broker"):
mosquitto is several times faster and speaks MQTT v5 with shared subscriptions; amqtt 0.12 speaks 3.1.1
only, so on it ingest uses 3.1.1 and a plain subscription (`client_settings`).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vward.settings import SettingsError

log = logging.getLogger(__name__)

BrokerChoice = Literal["auto", "mosquitto", "amqtt"]
BROKER_CHOICES: tuple[BrokerChoice, ...] = ("auto", "mosquitto", "amqtt")
# amqtt keeps a session's messages while it is disconnected only for a client that named a user:
# every client of the demo connects as this one (anonymous sessions would be dropped on a reconnect).
AMQTT_USER = "vward"

_MOSQUITTO_CONF = """\
# Written by vward demo. See deploy/mosquitto/mosquitto.conf for the reasoning behind each value.
listener {port} 127.0.0.1
allow_anonymous true
max_inflight_messages 5000
max_queued_messages 1000000
persistence true
persistence_location {data}/
autosave_interval 60
log_dest file {data}/mosquitto.log
# Run as whoever started the demo (as root, mosquitto would switch to a user that cannot write here).
user {user}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _others_can_reach(path: Path) -> bool:
    """Whether a user other than the owner can traverse every directory down to `path`."""
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in [*reversed(path.parents), path] if p.exists())


def postgres_data_dir(data_dir: Path) -> Path:
    """Where the embedded PostgreSQL keeps its data: `data_dir/pgdata`, unless that cannot work.

    Run as root, pgserver starts PostgreSQL as its own unprivileged user, which must be able to reach the
    data directory; under a private home (/root is 0700) it cannot, so the data goes to a per-path
    directory under /var/lib/vward (root-owned, so no other user can plant it) instead, and the demo says so.
    """
    wanted = (data_dir / "pgdata").resolve()
    if os.geteuid() != 0 or _others_can_reach(wanted.parent):
        return wanted
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:12]
    elsewhere = Path("/var/lib/vward") / f"demo-pgdata-{digest}"
    log.warning("PostgreSQL cannot run from %s as root's private directory; using %s", wanted, elsewhere)
    return elsewhere


@dataclass
class EmbeddedServers:
    """What the demo started; `stop()` leaves nothing running."""

    data_dir: Path
    database_url: str | None = None
    mqtt_url: str | None = None
    broker_kind: str = ""
    _pg: Any = None
    _mosquitto: subprocess.Popen[bytes] | None = None
    _amqtt: Any = None
    _stopped: list[str] = field(default_factory=list)

    def start_postgres(self) -> str:
        from pgserver.postgres_server import get_server

        logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every initdb line at INFO
        pgdata = postgres_data_dir(self.data_dir)
        pgdata.mkdir(parents=True, exist_ok=True)
        self._pg = get_server(pgdata, cleanup_mode="stop")
        self.database_url = str(self._pg.get_uri())
        return self.database_url

    def start_mosquitto(self, binary: str) -> str:
        port = free_port()
        data = self.data_dir / "mosquitto"
        data.mkdir(parents=True, exist_ok=True)
        conf = data / "mosquitto.conf"
        conf.write_text(_MOSQUITTO_CONF.format(port=port, data=data, user=getpass.getuser()))
        self._mosquitto = subprocess.Popen([binary, "-c", str(conf)], stdin=subprocess.DEVNULL)
        wait_listening(port, 10)
        self.broker_kind = "mosquitto"
        self.mqtt_url = f"mqtt://127.0.0.1:{port}"
        return self.mqtt_url

    async def start_amqtt(self) -> str:
        from amqtt.broker import Broker

        for name in ("amqtt", "transitions"):  # both log every connection and state change at INFO
            logging.getLogger(name).setLevel(logging.WARNING)
        port = free_port()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}", "max_connections": 100}},
            "sys_interval": 0,
            "auth": {"allow-anonymous": False, "plugins": ["auth_anonymous"]},  # any named user is let in
            "topic-check": {"enabled": False},
        }
        self._amqtt = Broker(config)
        await self._amqtt.start()
        self.broker_kind = "amqtt"
        self.mqtt_url = f"mqtt://{AMQTT_USER}@127.0.0.1:{port}"
        return self.mqtt_url

    async def start_broker(self, choice: BrokerChoice = "auto") -> str:
        """mosquitto if its binary exists (or `choice` says so), else amqtt in-process."""
        binary = shutil.which("mosquitto", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/usr/local/sbin")
        if choice == "amqtt" or (choice == "auto" and binary is None):
            return await self.start_amqtt()
        if binary is None:
            raise SettingsError("no mosquitto binary on PATH: install mosquitto, or use --broker amqtt")
        return self.start_mosquitto(binary)

    def client_settings(self) -> dict[str, str]:
        """Settings ingest needs on the started broker: amqtt has neither MQTT v5 nor shared subscriptions."""
        if self.broker_kind == "amqtt":
            return {"ingest_mqtt_version": "3.1.1", "ingest_shared_group": ""}
        return {}

    async def stop(self) -> None:
        if self._amqtt is not None:
            await self._amqtt.shutdown()
            self._amqtt = None
        if self._mosquitto is not None and self._mosquitto.poll() is None:
            self._mosquitto.send_signal(signal.SIGTERM)
            try:
                self._mosquitto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._mosquitto.kill()
                self._mosquitto.wait()
        self._mosquitto = None
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None
