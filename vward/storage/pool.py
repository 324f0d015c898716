"""The one asyncpg pool, with JSON codecs so jsonb columns arrive as Python objects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg

# Anything that runs a query: a connection, a pooled connection, or the pool itself.
Conn: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy | asyncpg.Pool

# What a background loop catches to ride out a database outage and retry: socket errors, server errors, and
# the client-side errors asyncpg raises when a connection dies mid-operation (InternalClientError comes from
# resetting such a connection on its way back to the pool).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


@asynccontextmanager
async def transaction(conn: Conn) -> AsyncIterator[asyncpg.Connection]:
    """A transaction on `conn`, or on a connection borrowed from it when it is a pool."""
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as borrowed, borrowed.transaction():
            yield borrowed
    else:
        async with conn.transaction():
            yield conn


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
    assert pool is not None
    return pool
