"""The alerts and rule set routers in a bare app, acting as a given principal (sign-in is tested elsewhere)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI

from vward.api.deps import current_principal
from vward.api.routers import alerts, rulesets
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.settings import Settings


@asynccontextmanager
async def rules_api(
    settings: Settings, pool: asyncpg.Pool, role: Role, wards: tuple[str, ...] = (), username: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Acting as `username` (default: `<role>-tester`), e.g. two people of one role for four eyes."""
    app = FastAPI()
    app.state.settings = settings
    app.state.pool = pool
    app.include_router(alerts.router)
    app.include_router(rulesets.router)
    principal = Principal(username=username or f"{role.value}-tester", role=role, wards=wards)
    app.dependency_overrides[current_principal] = lambda: principal
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client
