"""Fault-test scaffolding: a private PostgreSQL cluster we may stop, and the exactly-once check."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.support.servers import free_port
from tests.support.waiting import budget

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Readings per fault test: CI default; the full run is VWARD_FAULT_READINGS=200000.
READINGS = int(os.environ.get("VWARD_FAULT_READINGS", "10000"))


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PrivatePostgres:
    """A throwaway cluster in a temp dir on a free loopback port, started and stopped only by this test."""

    root: Path
    port: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self.port = self.port or free_port()
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.root / "pg.log"),
                    "-w",
                    "-t",
                    str(round(budget(120))),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )


@dataclass(frozen=True)
class Tally:
    rows: int
    distinct: int


async def tally(dsn: str, device_prefix: str) -> Tally:
    """Stored readings of one fleet, and how many distinct (device, msg_id, metric) they are."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS rows, count(DISTINCT (device_id, msg_id, metric)) AS distinct_"
            " FROM readings WHERE device_id LIKE $1 || '%'",
            device_prefix,
        )
        return Tally(row["rows"], row["distinct_"])
    finally:
        await conn.close()
