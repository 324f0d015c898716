"""Commit micro-batches: one transaction per batch holding its readings, dead letters, device updates and
evaluation queue entries. A database outage is waited out (nothing is acknowledged meanwhile); a batch the
database refuses for its content is bisected until the one offending message is dead-lettered alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from ingest import metrics
from ingest.batch import (
    Batch,
    Entry,
    dead_letter,
    decode_rejections,
    last_seen,
    staged,
    status_updates,
    unknown_status_devices,
)
from ingest.core.backoff import backoff_delay
from ingest.core.rejections import Reason, Rejection
from ingest.core.skew import FUTURE
from vward.storage.dead_letter import insert_dead_letters
from vward.storage.devices import ClockUpdate, apply_statuses, record_clocks, touch_devices
from vward.storage.readings import insert_staged, prepare_staging, resolve_patients, stage

log = logging.getLogger(__name__)

# Connection problems, rollbacks (deadlock, serialization), resources and operator intervention
# (shutdown, crash recovery): retry the same batch. Anything else is about the batch's content.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
COMMIT_TIMEOUT_S = 30.0  # a stopped (SIGSTOP) database must not hang the writer forever
ACQUIRE_TIMEOUT_S = 10.0
_NO_PATIENT = "no admitted patient bound to the device at measured_at"


@dataclass(frozen=True, slots=True)
class Committed:
    entries: Sequence[Entry]
    rejections: dict[int, Rejection]  # by index into entries
    readings: int  # readings of accepted messages
    inserted: int  # of which new (the rest were resends)


OnCommit = Callable[[Committed], None]


def is_transient(error: BaseException) -> bool:
    if isinstance(error, asyncpg.PostgresError):
        return str(getattr(error, "sqlstate", "") or "")[:2] in _TRANSIENT_SQLSTATE_CLASSES
    if isinstance(error, asyncpg.exceptions.DataError):  # client-side: a value asyncpg cannot encode
        return False
    return isinstance(error, OSError | TimeoutError | asyncpg.InterfaceError | asyncpg.InternalClientError)


class BatchWriter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._conn: asyncpg.pool.PoolConnectionProxy | None = None
        self._rng = random.Random()  # jitter, not security

    async def write(self, batch: Batch, stop: asyncio.Event, on_commit: OnCommit) -> bool:
        """Commit the batch (calling `on_commit` per committed part); False if stopped during an outage."""
        entries = batch.entries
        attempt = 0
        while True:
            try:
                await self._write_or_bisect(entries, batch.clocks, on_commit)
                return True
            except Exception as e:
                if not is_transient(e):
                    raise
                metrics.DB_ERRORS.labels("transient").inc()
                await self._discard_connection()
                if stop.is_set():
                    log.warning("database unavailable while stopping; %d messages left unacknowledged", len(entries))
                    return False
                delay = backoff_delay(attempt, self._rng.random(), cap=5.0)
                log.warning("database unavailable (%s); retrying the batch in %.1fs", type(e).__name__, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._conn is not None:
            await self._pool.release(self._conn)
            self._conn = None

    async def _write_or_bisect(
        self, entries: Sequence[Entry], clocks: Sequence[ClockUpdate], on_commit: OnCommit
    ) -> None:
        """Clock judgements go with every part (writing one twice is harmless: newest wins)."""
        try:
            on_commit(await self._commit(entries, clocks))
            return
        except Exception as e:
            if is_transient(e):
                raise
            metrics.DB_ERRORS.labels("permanent").inc()
            await self._discard_connection()
            log.error("database refused a batch of %d messages (%s); isolating", len(entries), type(e).__name__)
            if len(entries) > 1:
                half = len(entries) // 2
                await self._write_or_bisect(entries[:half], clocks, on_commit)
                await self._write_or_bisect(entries[half:], clocks, on_commit)
                return
        try:
            on_commit(await self._commit(entries, (), refused=True))
        except Exception as e:
            if is_transient(e):
                raise
            metrics.UNSTORABLE.inc()
            log.error("a message could not be stored even as a dead letter (%s); acknowledging it", type(e).__name__)
            on_commit(Committed(entries, {}, 0, 0))

    async def _commit(
        self, entries: Sequence[Entry], clocks: Sequence[ClockUpdate], *, refused: bool = False
    ) -> Committed:
        """One transaction; `refused` dead-letters every entry (the database would not take it)."""
        conn = await self._connection()
        if refused:
            rejections = dict.fromkeys(range(len(entries)), Rejection(Reason.STORAGE_REJECTED, "database refused"))
        else:
            rejections = decode_rejections(entries)
        readings = [] if refused else staged(entries)
        updates = [] if refused else status_updates(entries)
        inserted = 0
        async with asyncio.timeout(COMMIT_TIMEOUT_S), conn.transaction():
            if readings:
                await stage(conn, readings)
                unresolved = await resolve_patients(conn)
                rejections |= {seq: Rejection(Reason(reason), _NO_PATIENT) for seq, reason in unresolved.items()}
                inserted = await insert_staged(conn, unresolved, not_latest_flag=FUTURE)
            if updates:
                rejections |= unknown_status_devices(entries, await apply_statuses(conn, updates))
            await insert_dead_letters(conn, [dead_letter(entries[seq], r) for seq, r in sorted(rejections.items())])
            await touch_devices(conn, last_seen(entries))
            await record_clocks(conn, clocks)
        accepted = sum(1 for seq, _ in readings if seq not in rejections)
        return Committed(entries, rejections, accepted, inserted)

    async def _connection(self) -> asyncpg.pool.PoolConnectionProxy:
        """The writer keeps one connection, so its staging table is created once."""
        if self._conn is None:
            conn = await self._pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
            try:
                await prepare_staging(conn)
            except BaseException:
                await self._pool.release(conn)
                raise
            self._conn = conn
        return self._conn

    async def _discard_connection(self) -> None:
        """Drop the connection after any failure: its state (mid-COPY, cancelled) cannot be trusted."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        # When the server goes away the pool detaches the proxy itself, and terminate() then refuses.
        with contextlib.suppress(asyncpg.InterfaceError):
            conn.terminate()
        await self._pool.release(conn)
