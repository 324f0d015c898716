"""The timer loop. Timers live in the database (next_escalation_at, snoozed_until, the last evaluation), so
they survive restarts; every tick claims what is due with SKIP LOCKED, so any number of loops share it:
- escalations and reminders of unacknowledged alerts, and snoozes that ran out;
- quiet patients re-queued, so time-based rules (stale data, overdue readings) fire without readings;
- a stalled ingest (no reading from any device for a while) raises ONE system alert, not one per patient."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from rules.actions import act, snapshot
from rules.core.lifecycle import Action, Rejection, Request
from rules.core.model import Finding
from rules.core.reconcile import reconcile
from rules.decisions import Origin, apply_decision
from rules.escalations import advance
from rules.service import INGEST_STALLED_RULE, RULES_ACTOR, LiveRules, RuleSetCache
from vward.domain.alerts import AlertState, Severity
from vward.settings import Settings
from vward.storage import alerts as alert_store
from vward.storage.evaluation import EVAL_CHANNEL, last_reading_at, requeue_quiet
from vward.storage.pool import DATABASE_UNAVAILABLE, Conn

log = logging.getLogger(__name__)

_DUE_BATCH = 100


class TimerLoop:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, *, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self.rulesets = RuleSetCache(settings.rules_ruleset)
        self.notify_enabled = bool(settings.notify_webhook_url)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except DATABASE_UNAVAILABLE as exc:
                log.warning("timer tick failed, retrying next tick: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.rules_tick_s)

    async def tick(self) -> None:
        now = self.clock()
        await self.watch_ingest(now)
        while await self.fire_due(now) == _DUE_BATCH:
            pass
        await self.requeue_quiet(now)

    async def fire_due(self, now: datetime) -> int:
        """Escalate or re-open one batch of due alerts; returns how many were claimed."""
        async with self.pool.acquire() as conn, conn.transaction():
            due = await alert_store.claim_due(conn, now, _DUE_BATCH)
            for alert in due:
                if alert.state is AlertState.SNOOZED:
                    await self._reopen(conn, alert, now)
                else:
                    await advance(conn, alert, now, actor=RULES_ACTOR, notify_enabled=self.notify_enabled)
            return len(due)

    async def _reopen(self, conn: Conn, alert: alert_store.StoredAlert, now: datetime) -> None:
        reopened = await act(
            conn,
            alert,
            Request(Action.REOPEN, RULES_ACTOR.username),
            now,
            principal=RULES_ACTOR,
            request_id=None,
            notify_enabled=self.notify_enabled,
        )
        if isinstance(reopened, Rejection):
            log.warning("alert %d not reopened: %s", alert.id, reopened.code)
            return
        await advance(conn, reopened, now, actor=RULES_ACTOR, notify_enabled=self.notify_enabled)

    async def requeue_quiet(self, now: datetime) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            queued = await requeue_quiet(conn, now, now - timedelta(seconds=self.settings.rules_reeval_s))
            if queued:
                await conn.execute("SELECT pg_notify($1, '')", EVAL_CHANNEL)
        return queued

    async def watch_ingest(self, now: datetime) -> None:
        """Open the system alert when no reading arrived platform-wide for `rules_ingest_stall_s`; it
        resolves itself when readings return."""
        async with self.pool.acquire() as conn, conn.transaction():
            live = await self.rulesets.current(conn)
            last = await last_reading_at(conn)
            silent = None if last is None else now - last
            findings = []
            if silent is not None and silent > timedelta(seconds=self.settings.rules_ingest_stall_s):
                findings.append(_stall_finding(live, last, silent))
            alerts = await alert_store.open_alerts_for_update(conn, None)
            decision = reconcile([snapshot(a) for a in alerts], findings, now)
            published = live.published.record
            origin = Origin(RULES_ACTOR, published.name, published.version, self.notify_enabled)
            await apply_decision(conn, None, decision, alerts, origin, now)


def _stall_finding(live: LiveRules, last: datetime | None, silent: timedelta) -> Finding:
    rules = live.published.rules
    minutes = round(silent.total_seconds() / 60, 1)
    return Finding(
        rule_id=INGEST_STALLED_RULE,
        severity=Severity.HIGH,
        title=f"No readings from any device for {minutes:g} minutes: ingest or broker down?",
        reason={"last_reading_at": None if last is None else last.isoformat(), "silent_minutes": minutes},
        auto_resolve=True,
        escalation_policy=rules.policy_snapshot(Severity.HIGH, rules.devices.escalation),
    )
