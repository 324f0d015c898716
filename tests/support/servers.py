"""Start and stop the real servers tests talk to: a throwaway database and a private Mosquitto."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.support.waiting import Deadline, budget
from vward.embedded import free_port, postgres_data_dir
from vward.embedded import wait_listening as wait_port
from vward.storage.migrate import migrate

ADMIN_DSN = os.environ.get("VWARD_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[2]


async def create_database() -> tuple[str, str]:
    """Create a fresh database; returns (name, dsn)."""
    name = f"vward_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = ADMIN_DSN.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


async def create_migrated_database() -> tuple[str, str]:
    """A fresh database with the platform's schema; returns (name, dsn)."""
    name, dsn = await create_database()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return name, dsn


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class BrokerDidNotStart(RuntimeError):
    pass


@dataclass
class Mosquitto:
    """A private broker from deploy/mosquitto/mosquitto.conf on a free loopback port."""

    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    extra_conf: str = ""

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start on `port`, or on a free port when it is 0; a port taken between choosing and binding it
        (another test's client may grab it) makes mosquitto exit, so a chosen port is chosen again."""
        attempts = 3 if self.port == 0 else 1
        for attempt in range(attempts):
            if attempts > 1:
                self.port = free_port()
            try:
                self._launch()
                return
            except BrokerDidNotStart:
                if attempt == attempts - 1:
                    raise

    def _launch(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = (REPO / "deploy/mosquitto/mosquitto.conf").read_text()
        conf = conf.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")
        conf += f"\npersistence_location {self.workdir}/\nlog_dest file {self.workdir}/mosquitto.log\n"
        # Started as root, mosquitto drops to user `mosquitto`, which cannot write our temp dir.
        conf += f"user {getpass.getuser()}\n"
        conf += self.extra_conf
        (self.workdir / "mosquitto.conf").write_text(conf)
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([binary, "-c", str(self.workdir / "mosquitto.conf")])
        self.wait_listening(self.port)

    def wait_listening(self, port: int, timeout: float = 20.0) -> None:
        """Wait for `port` to accept connections; fail at once, with the broker's log, if it exited."""
        deadline = Deadline(timeout, f"mosquitto listening on 127.0.0.1:{port}")
        while not deadline.passed():
            if self.proc is None or self.proc.poll() is not None:
                log = self.workdir / "mosquitto.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise BrokerDidNotStart(f"mosquitto exited before listening on {port}:\n{tail}")
            with contextlib.suppress(TimeoutError):
                wait_port(port, timeout=0.5)
                return
        raise deadline.fail()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=budget(30))
        self.proc = None


def discard_embedded_postgres(data_dir: Path) -> None:
    """Remove the embedded PostgreSQL's data when it lives outside `data_dir` (root, private temp dir)."""
    pgdata = postgres_data_dir(data_dir)
    if not pgdata.is_relative_to(data_dir.resolve()):
        shutil.rmtree(pgdata, ignore_errors=True)
