"""The webhook notifier against a real loopback receiver that refuses the first attempts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from rules.notifier import SIGNATURE_HEADER, WebhookNotifier, sign
from tests.integration.rules.api import rules_api
from tests.integration.rules.webhook import webhook_receiver
from tests.support.waiting import budget
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage import outbox

pytestmark = pytest.mark.integration


class SteppedClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_failed_deliveries_are_retried_with_backoff_signed_and_counted(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    key = f"test-{uuid.uuid4().hex}"
    payload = {"event": "opened", "alert_id": None, "severity": "high"}
    before = await outbox.outbox_health(db_pool)
    with webhook_receiver(fail_first=2) as receiver:
        configured = settings.model_copy(
            update={"notify_webhook_url": receiver.url, "notify_webhook_secret": SecretStr("hook-secret-0123456789")}
        )
        await outbox.enqueue(
            db_pool, alert_id=None, idempotency_key=key, channel="app", target="ward_nurse", payload=payload
        )
        clock = SteppedClock()
        notifier = WebhookNotifier(configured, db_pool, clock=clock)
        async with httpx.AsyncClient(timeout=budget(20)) as client:
            await notifier.deliver_due(client)  # attempt 1: 503
            failing = await outbox.outbox_health(db_pool)
            await notifier.deliver_due(client)  # not due yet: backoff 1 s
            assert len(receiver.by_key(key)) == 1
            clock.advance(1.1)
            await notifier.deliver_due(client)  # attempt 2: 503, next in 2 s
            clock.advance(1.1)
            await notifier.deliver_due(client)
            assert len(receiver.by_key(key)) == 2
            clock.advance(1.0)
            await notifier.deliver_due(client)  # attempt 3: 204
            clock.advance(600)
            await notifier.deliver_due(client)  # sent rows are never sent again
    after = await outbox.outbox_health(db_pool)

    attempts = receiver.by_key(key)
    assert len(attempts) == 3
    for attempt in attempts:
        assert json.loads(attempt.body) == payload
        assert attempt.headers[SIGNATURE_HEADER] == sign(b"hook-secret-0123456789", attempt.body)
    assert failing.failing >= 1
    assert failing.last_error == "HTTP 503"
    # Other tests' rows share the outbox (and this receiver): count ours at least.
    assert after.sent >= before.sent + 1
    assert after.failed_attempts >= before.failed_attempts + 2
    row = await db_pool.fetchrow("SELECT attempts, sent_at FROM notification_outbox WHERE idempotency_key = $1", key)
    assert row["attempts"] == 3
    assert row["sent_at"] is not None


async def test_an_unreachable_receiver_keeps_the_row_pending_and_visible(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    key = f"test-{uuid.uuid4().hex}"
    with webhook_receiver() as receiver:
        dead_url = receiver.url  # the receiver is shut down when the block ends: nothing listens there
    configured = settings.model_copy(update={"notify_webhook_url": dead_url})
    await outbox.enqueue(db_pool, alert_id=None, idempotency_key=key, channel="app", target="t", payload={})
    async with httpx.AsyncClient(timeout=budget(20)) as client:
        await WebhookNotifier(configured, db_pool, clock=SteppedClock()).deliver_due(client)
    row = await db_pool.fetchrow(
        "SELECT attempts, sent_at, last_error FROM notification_outbox WHERE idempotency_key = $1", key
    )
    assert row["attempts"] == 1
    assert row["sent_at"] is None
    assert row["last_error"].startswith("ConnectError")
    assert (await outbox.outbox_health(db_pool)).pending >= 1


async def test_ops_see_the_outbox_health_over_the_api(settings: Settings, db_pool: asyncpg.Pool) -> None:
    key = f"test-{uuid.uuid4().hex}"
    await outbox.enqueue(db_pool, alert_id=None, idempotency_key=key, channel="app", target="t", payload={})
    async with rules_api(settings, db_pool, Role.OPS) as api:
        status = (await api.get("/api/v1/notifications/outbox")).json()
    async with rules_api(settings, db_pool, Role.CLINICIAN) as api:
        refused = await api.get("/api/v1/notifications/outbox")
    assert status["pending"] >= 1
    assert refused.status_code == 403
