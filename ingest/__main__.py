"""`python -m ingest`: the ingest role alone, configured from VWARD_* (fault tests run it as a process)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from ingest.service import IngestService
from vward.settings import Settings
from vward.storage.pool import create_pool


async def _main() -> None:
    settings = Settings()
    if not settings.database_url:
        raise SystemExit("VWARD_DATABASE_URL is not set")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings.database_url, min_size=1, max_size=settings.db_pool_max)
    try:
        await IngestService(settings, pool).run(stop)
    finally:
        await pool.close()


if __name__ == "__main__":
    level = os.environ.get("VWARD_LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_main())
