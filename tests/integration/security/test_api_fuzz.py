"""Schemathesis against /openapi.json: every operation, a bounded number of generated requests each, as an
admin; 0 server errors and every answer (status, content type, body) as the description documents it.

The API runs in uvicorn on a loopback port on a database of its own, because fuzzing as an admin
discharges and rebinds whatever ids it guesses.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import TEST_SECRET, make_user
from tests.support.servers import create_database, drop_database, free_port, wait_port
from tests.support.waiting import budget
from vward.api.app import create_app
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage.migrate import migrate
from vward.storage.pool import create_pool

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 25


def _serve(dsn: str, port: int, started: dict[str, Any]) -> None:
    async def main() -> None:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        settings = Settings(database_url=dsn, secret_key=TEST_SECRET, http_port=port)
        config = uvicorn.Config(
            create_app(settings, pool, TEST_SECRET), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        started["server"] = server = uvicorn.Server(config)
        try:
            await server.serve()
        finally:
            await pool.close()

    asyncio.run(main())


async def _prepare(dsn: str) -> tuple[str, str]:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        return await make_user(pool, Role.ADMIN)
    finally:
        await pool.close()


@pytest.fixture(scope="module")
def served_api() -> Iterator[tuple[str, str]]:
    """(base URL, an admin's bearer token) of the API on its own database."""
    name, dsn = asyncio.run(create_database())
    username, password = asyncio.run(_prepare(dsn))
    port = free_port()
    started: dict[str, Any] = {}
    thread = threading.Thread(target=_serve, args=(dsn, port, started), daemon=True)
    thread.start()
    try:
        wait_port(port)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": username, "password": password}, timeout=budget(30)
        )
        yield base, token.json()["access_token"]
    finally:
        started["server"].should_exit = True
        thread.join(30)
        asyncio.run(drop_database(name))


def test_every_operation_answers_as_documented(served_api: tuple[str, str]) -> None:
    base, token = served_api
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=base,
                headers={"Authorization": f"Bearer {token}"},
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
                timeout=budget(30),
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; failures are reported together
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 10
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
