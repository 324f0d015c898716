"""The ingest process role: MQTT edge -> micro-batches -> one transaction each -> acks after commit.

Three concurrent parts: paho's network thread (ingest.mqtt) fills the inbox; the collector decodes and
closes a batch at `ingest_batch_rows` readings or `ingest_batch_ms` after its first message; a committer
writes it and only then acknowledges to the broker and confirms to the devices. `ingest_writers` committers,
each with its own connection, take batches from a short queue, so batches fill while others commit and the
database can use more than one core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import UTC, datetime

import asyncpg

from ingest import metrics
from ingest.batch import Batch, Entry, confirmations, decode, reading_count
from ingest.clocks import Clocks
from ingest.core.backoff import backoff_delay
from ingest.core.topics import subscription
from ingest.inbox import Inbox
from ingest.mqtt import MqttEdge
from ingest.writer import BatchWriter, Committed
from vward.settings import Settings
from vward.storage.devices import clock_judgements
from vward.storage.partitions import ensure_partitions
from vward.storage.pool import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

PARTITION_INTERVAL_S = 3600.0
PARTITION_RETRY_S = 60.0
_IDLE_WAIT_S = 0.25  # how often an idle collector looks at the stop flag

Batches = asyncio.Queue[Batch | None]  # None: no more batches


class IngestService:
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        if not settings.mqtt_url:
            raise ValueError("VWARD_MQTT_URL is not set")
        if set(settings.ingest_shared_group) & set("/+#"):
            raise ValueError("VWARD_INGEST_SHARED_GROUP must be a name without '/', '+' or '#' (or empty)")
        self._settings = settings
        self._pool = pool
        self._edge: MqttEdge | None = None

    @property
    def edge(self) -> MqttEdge | None:
        """The MQTT edge while running (tests wait on `edge.subscribed`)."""
        return self._edge

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then commit and acknowledge what was received, and disconnect."""
        s = self._settings
        assert s.mqtt_url is not None
        inbox = Inbox(asyncio.get_running_loop(), qos0_limit=2 * s.ingest_receive_maximum)
        group = f"$share/{s.ingest_shared_group}/" if s.ingest_shared_group else ""  # empty: a plain subscription
        self._edge = edge = MqttEdge(
            url=s.mqtt_url,
            client_id=s.ingest_client_id,
            filters=[group + subscription(s.mqtt_topic_prefix, k) for k in ("readings", "status")],
            inbox=inbox,
            topic_prefix=s.mqtt_topic_prefix,
            receive_maximum=s.ingest_receive_maximum,
            v5=s.ingest_mqtt_version == "5",
        )
        batches: Batches = asyncio.Queue(maxsize=s.ingest_writers)
        partitions = asyncio.create_task(self._maintain_partitions(stop))
        edge.start()
        try:
            tasks = [asyncio.create_task(self._commit_loop(batches, edge, stop)) for _ in range(s.ingest_writers)]
            tasks.append(asyncio.create_task(self._collect(inbox, batches, stop, s.ingest_writers)))
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:  # after a failure, don't leave the others blocked on the queue
                    task.cancel()
        finally:
            partitions.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await partitions
            await asyncio.to_thread(edge.stop)
            self._edge = None

    async def _collect(self, inbox: Inbox, out: Batches, stop: asyncio.Event, committers: int) -> None:
        clocks = await self._resume_clocks(stop)
        while not stop.is_set():
            await inbox.wait(_IDLE_WAIT_S)
            if len(inbox):
                entries = await self._fill(inbox, stop, clocks)
                await out.put(Batch(entries, clocks.take_changes()))
            metrics.INBOX.set(len(inbox))
        left = len(inbox)  # drain what arrived before the stop; later arrivals stay with the broker
        prefix = self._settings.mqtt_topic_prefix
        while left > 0:
            taken = inbox.take(min(left, self._settings.ingest_batch_rows))
            left -= len(taken)
            entries = [clocks.correct(decode(prefix, d)) for d in taken]
            await out.put(Batch(entries, clocks.take_changes()))
        for _ in range(committers):
            await out.put(None)

    async def _resume_clocks(self, stop: asyncio.Event) -> Clocks:
        """The device clock corrections in force, before the first batch is decoded (a database outage at
        start is waited out: messages wait in the inbox and at the broker, unacknowledged)."""
        attempt = 0
        while True:
            try:
                async with self._pool.acquire() as conn:
                    return Clocks(await clock_judgements(conn))
            except DATABASE_UNAVAILABLE as e:
                if stop.is_set():
                    return Clocks({})  # nothing will be committed: the drain's batches wait out the outage
                delay = backoff_delay(attempt, 0.5, cap=5.0)
                log.warning("device clocks not loaded (%s); retrying in %.1fs", type(e).__name__, delay)
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

    async def _fill(self, inbox: Inbox, stop: asyncio.Event, clocks: Clocks) -> list[Entry]:
        """One batch: until it holds ingest_batch_rows readings or ingest_batch_ms have passed."""
        s = self._settings
        prefix = s.mqtt_topic_prefix
        deadline = time.monotonic() + s.ingest_batch_ms / 1000
        entries: list[Entry] = []
        rows = 0
        while True:
            for delivery in inbox.take(max(1, s.ingest_batch_rows - rows)):
                entry = clocks.correct(decode(prefix, delivery))
                entries.append(entry)
                rows += max(1, reading_count(entry))
            remaining = deadline - time.monotonic()
            if rows >= s.ingest_batch_rows or remaining <= 0 or stop.is_set():
                return entries
            await inbox.wait(remaining)

    async def _commit_loop(self, batches: Batches, edge: MqttEdge, stop: asyncio.Event) -> None:
        def acknowledge(done: Committed) -> None:
            edge.ack([e.delivery for e in done.entries])
            edge.confirm(confirmations(done.entries), datetime.now(UTC))
            _record(done)

        writer = BatchWriter(self._pool)
        try:
            while (batch := await batches.get()) is not None:
                started = time.monotonic()
                if await writer.write(batch, stop, acknowledge):
                    took = time.monotonic() - started
                    metrics.BATCH_SECONDS.observe(took)
                    log.debug("committed %d messages in %.1f ms", len(batch.entries), took * 1000)
        finally:
            await writer.close()

    async def _maintain_partitions(self, stop: asyncio.Event) -> None:
        """Daily partitions a week ahead; a failure only delays it (readings fall into the default partition)."""
        while not stop.is_set():
            try:
                async with self._pool.acquire() as conn:
                    await ensure_partitions(conn, datetime.now(UTC))
                pause = PARTITION_INTERVAL_S
            except DATABASE_UNAVAILABLE as e:
                log.warning("partition maintenance failed (%s); retrying", type(e).__name__)
                pause = PARTITION_RETRY_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)


def _record(done: Committed) -> None:
    now = time.monotonic()
    for entry in done.entries:
        metrics.RECEIVE_TO_COMMIT.observe(now - entry.delivery.received_mono)
    reasons = Counter(r.reason.value for r in done.rejections.values())
    for reason, count in reasons.items():
        metrics.REJECTED.labels(reason).inc(count)
        log.info("dead-lettered %d message(s): %s", count, reason)
    metrics.MESSAGES.labels("rejected").inc(len(done.rejections))
    metrics.MESSAGES.labels("accepted").inc(len(done.entries) - len(done.rejections))
    metrics.READINGS.inc(done.inserted)
    metrics.DUPLICATES.inc(done.readings - done.inserted)
