"""Shared fixtures: one throwaway migrated database per run, one private Mosquitto per run,
and a unique topic prefix per test so tests never see each other's messages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.support.servers import Mosquitto, create_migrated_database, drop_database
from vward.settings import Settings
from vward.storage.pool import create_pool


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    name, dsn = await create_migrated_database()
    yield dsn
    await drop_database(name)


@pytest.fixture(scope="session")
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    broker = Mosquitto(workdir=Path(tmp_path_factory.mktemp("mosquitto")))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    return f"test/{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def settings(database_url: str, mosquitto: Mosquitto, topic_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        mqtt_url=mosquitto.url,
        mqtt_topic_prefix=topic_prefix,
        secret_key="test-secret-key-0123456789abcdef",
        data_dir=tmp_path,
        ingest_client_id=f"vward-ingest-{uuid.uuid4().hex[:8]}",
    )
