"""The composition root: settings -> pool -> services -> process roles.

The CLI's `run` and `demo` commands and the end-to-end tests all start the platform through here;
the one-process demo and a scaled-out deployment differ only in which roles a process runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import prometheus_client
import uvicorn
from fastapi import FastAPI

from dashboard.app import mount_dashboard
from ingest.service import IngestService
from rules.worker import RulesWorker
from vward.api.app import create_app
from vward.settings import Settings
from vward.storage.migrate import migrate
from vward.storage.partitions import ensure_partitions
from vward.storage.pool import create_pool

log = logging.getLogger(__name__)

ROLES = ("ingest", "rules", "api")
Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


async def open_database(settings: Settings) -> asyncpg.Pool:
    """A pool on a migrated database with today's partitions in place."""
    if not settings.database_url:
        raise ValueError("VWARD_DATABASE_URL is not set")
    pool = await create_pool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    async with pool.acquire() as conn:
        applied = await migrate(conn)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        await ensure_partitions(conn, datetime.now(UTC))
    return pool


def build_app(settings: Settings, pool: asyncpg.Pool, secret: str) -> FastAPI:
    app = create_app(settings, pool, secret)
    mount_dashboard(app)
    return app


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the process: `stop` shuts it down with the other roles."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_http(app: FastAPI, settings: Settings, stop: asyncio.Event) -> None:
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", access_log=False, lifespan="off"
    )
    server = _QuietServer(config)
    serving = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await serving


def serve_metrics_without_api(roles: Iterable[str], settings: Settings) -> None:
    """An ingest or rules process has no HTTP app, so it exposes its counters on their own port."""
    if "api" not in roles and settings.metrics_port is not None:
        prometheus_client.start_http_server(settings.metrics_port, addr=settings.http_host)


def role_runners(roles: Iterable[str], settings: Settings, pool: asyncpg.Pool, secret: str | None) -> list[Runner]:
    """The `run(stop)` coroutine functions of the requested process roles (ingest keeps partitions ahead)."""
    runners: list[Runner] = []
    for role in roles:
        if role == "ingest":
            runners.append(IngestService(settings, pool).run)
        elif role == "rules":
            runners.append(RulesWorker(settings, pool).run)
        elif role == "api":
            if secret is None:
                raise ValueError("the api role needs a signing secret")
            runners.append(functools.partial(serve_http, build_app(settings, pool, secret), settings))
        else:
            raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    return runners


async def run_until_stopped(runners: list[Runner], stop: asyncio.Event) -> None:
    """Run every role; if one fails, stop the others and re-raise, so a supervisor restarts the process."""
    tasks = [asyncio.create_task(r(stop)) for r in runners]
    stop_waiter = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stop_waiter and t.exception() is not None]
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
    finally:
        stop_waiter.cancel()
