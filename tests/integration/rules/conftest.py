"""Every rules test runs against the shipped default rule set, published as the worker would seed it."""

from __future__ import annotations

import asyncpg
import pytest

from rules.service import seed_default_ruleset


@pytest.fixture(autouse=True)
async def default_ruleset(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        await seed_default_ruleset(conn)
