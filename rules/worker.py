"""The rules process role: drain the evaluation queue on every `vward_eval` notification (polling as a
fallback), and run the timer loop and the notifier beside it (`vward run rules`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from rules.core.urgency import quiet_ranges
from rules.notifier import WebhookNotifier
from rules.service import LiveRules, RuleSetCache, evaluate_batch, seed_default_ruleset
from rules.timers import TimerLoop
from vward.settings import Settings
from vward.storage.evaluation import EVAL_CHANNEL, claim_queued, replace_quiet_ranges
from vward.storage.pool import DATABASE_UNAVAILABLE, Conn

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def next_batch_limit(evaluated: int, took_s: float, budget_s: float, most: int) -> int:
    """How many patients to claim next so a batch takes about `budget_s`: an urgent patient queued while a
    batch runs waits for that batch, and on a busy machine 50 patients can take seconds."""
    per_patient = took_s / evaluated
    return max(1, min(most, int(budget_s / per_patient) if per_patient > 0 else most))


async def _write_quiet_ranges(conn: Conn, live: LiveRules) -> None:
    record = live.published.record
    rows = [
        (str(r.metric), r.above, r.up_to, None if r.usual_text is None else list(r.usual_text))
        for r in quiet_ranges(live.published.rules).values()
    ]
    await replace_quiet_ranges(conn, rows, record.name, record.version)


class RulesWorker:
    """Evaluates queued patients; any number of workers may share one database."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self.rulesets = RuleSetCache(settings.rules_ruleset)
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._ranges_shared_for: LiveRules | None = None
        self._batch_limit = settings.rules_batch_size

    async def run(self, stop: asyncio.Event) -> None:
        """Seed the default rule set if needed, then evaluate, tick timers and notify until `stop`."""
        async with self.pool.acquire() as conn:
            await seed_default_ruleset(conn)
        await self.share_quiet_ranges()
        loops = [self._evaluate_loop(stop), TimerLoop(self.settings, self.pool, clock=self.clock).run(stop)]
        if self.settings.notify_webhook_url:
            loops.append(WebhookNotifier(self.settings, self.pool, clock=self.clock).run(stop))
        await asyncio.gather(*loops)

    async def drain(self) -> int:
        """Evaluate batches until the queue is empty; returns how many patients were evaluated."""
        total = 0
        while True:
            done = await self.evaluate_once()
            total += done
            if done == 0:
                return total

    async def share_quiet_ranges(self) -> None:
        """Tell ingest which readings are urgent under the published rule set (rules.core.urgency), so
        those patients are evaluated first. At start; `evaluate_once` refreshes them when it changes."""
        async with self.pool.acquire() as conn, conn.transaction():
            live = await self.rulesets.current(conn)
            await _write_quiet_ranges(conn, live)
        self._ranges_shared_for = live

    async def evaluate_once(self) -> int:
        """Claim one batch and evaluate it in one transaction: a crash loses nothing, the claim rolls back."""
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            patient_ids = await claim_queued(conn, self._batch_limit)
            if not patient_ids:
                return 0
            live = await self.rulesets.current(conn)
            if live is not self._ranges_shared_for:  # a new version was published
                await _write_quiet_ranges(conn, live)
            await evaluate_batch(conn, patient_ids, live, self.clock(), notify=bool(self.settings.notify_webhook_url))
        self._ranges_shared_for = live
        self._batch_limit = next_batch_limit(
            len(patient_ids),
            time.perf_counter() - started,
            self.settings.rules_batch_budget_ms / 1000,
            self.settings.rules_batch_size,
        )
        return len(patient_ids)

    async def _evaluate_loop(self, stop: asyncio.Event) -> None:
        poll_s = self.settings.rules_poll_ms / 1000
        try:
            while not stop.is_set():
                await self._ensure_listening()
                self._wake.clear()
                try:
                    await self.drain()
                except DATABASE_UNAVAILABLE as exc:
                    # The database is away: the claim rolled back, so nothing is lost; try again shortly.
                    log.warning("evaluation paused, database unavailable: %s", exc)
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            await self._close_listener()

    async def _ensure_listening(self) -> None:
        """(Re)open the LISTEN connection; while the database is away, polling carries on alone."""
        if self._listener is not None and not self._listener.is_closed():
            return
        assert self.settings.database_url is not None
        try:
            self._listener = await asyncpg.connect(self.settings.database_url)
            await self._listener.add_listener(EVAL_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot LISTEN on %s (%s); polling every %d ms", EVAL_CHANNEL, exc, self.settings.rules_poll_ms)
            self._listener = None

    async def _close_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=5)
        self._listener = None
