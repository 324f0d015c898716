"""An in-process API client signed in as a user of a given role, for integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx

from vward.api.app import create_app
from vward.api.passwords import hash_password
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage.users import upsert_user

TEST_SECRET = "test-secret-key-0123456789abcdef"


async def make_user(pool: asyncpg.Pool, role: Role, wards: tuple[str, ...] = ()) -> tuple[str, str]:
    """A new user with a unique name; returns (username, password)."""
    username = f"{role.value}-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    await upsert_user(pool, username=username, password_hash=hash_password(password), role=role, wards=wards)
    return username, password


@asynccontextmanager
async def api_client(
    settings: Settings, pool: asyncpg.Pool, role: Role | None = Role.CLINICIAN, wards: tuple[str, ...] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the API app; signed in as a fresh user of `role` unless role is None."""
    app = create_app(settings, pool, TEST_SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        if role is not None:
            username, password = await make_user(pool, role, wards)
            response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
            response.raise_for_status()
            client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client
