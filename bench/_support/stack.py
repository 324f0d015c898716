"""The servers a benchmark or fault test runs against: a private broker, a throwaway database with a
bound fleet, the ingest role as its own process, and fleet processes; all on loopback, all stopped by us."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from bench._support.fleet import device_ids
from tests.support.servers import REPO
from vward.storage.migrate import migrate
from vward.storage.partitions import ensure_partitions


async def prepare_database(dsn: str, device_prefixes: list[str], devices: int) -> None:
    """Migrate, create today's partitions, and admit one patient per fleet device, bound since yesterday."""
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        await ensure_partitions(conn, await conn.fetchval("SELECT now()"))
        for prefix in device_prefixes:
            await bind_fleet(conn, prefix, devices)
    finally:
        await conn.close()


async def bind_fleet(conn: asyncpg.Connection, device_prefix: str, devices: int) -> None:
    ids = device_ids(device_prefix, devices)
    await conn.execute(
        "INSERT INTO patients (mrn, display_name, ward, admitted_at)"
        " SELECT 'FLEET-' || d, 'Fleet patient', 'FLEET', now() - interval '1 day' FROM unnest($1::text[]) d",
        ids,
    )
    await conn.execute("INSERT INTO devices (id, kind) SELECT d, 'patch' FROM unnest($1::text[]) d", ids)
    await conn.execute(
        "INSERT INTO device_bindings (device_id, patient_id, valid)"
        " SELECT d, p.id, tstzrange(p.admitted_at, NULL) FROM unnest($1::text[]) d"
        " JOIN patients p ON p.mrn = 'FLEET-' || d",
        ids,
    )


class IngestProcess:
    """`python -m ingest` with VWARD_* settings; its log goes to a file we can wait on."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {"PYTHONUNBUFFERED": "1", **os.environ, **env}
        self.env.setdefault("VWARD_INGEST_CLIENT_ID", f"ingest-{uuid.uuid4().hex[:8]}")
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self, wait_subscribed: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "ingest"]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait_subscribed
        while b"subscribed" not in self.log_path.read_bytes()[self._log_offset :]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ingest did not start: {self.output()[-2000:]}")
            time.sleep(0.05)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def start_fleet(
    port: int, prefix: str, device_prefix: str, devices: int, messages: int, **options: object
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "bench._support.fleet",
        "--port",
        str(port),
        "--prefix",
        prefix,
        "--device-prefix",
        device_prefix,
        "--devices",
        str(devices),
        "--messages",
        str(messages),
    ]
    for name, value in options.items():
        flag = f"--{name.replace('_', '-')}"
        if value is not False:  # a switch is given as the bare flag when True, left out when False
            cmd += [flag] if value is True else [flag, str(value)]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE)


def fleet_result(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, object]:
    out, _ = proc.communicate(timeout=timeout)
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result
