"""Deliver the notification outbox to a webhook, at least once: lease due rows, POST each with an
HMAC-SHA256 signature and an Idempotency-Key, mark sent on 2xx, otherwise retry with exponential backoff."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg
import httpx

from vward.settings import Settings
from vward.storage import outbox
from vward.storage.outbox import OutboxItem
from vward.storage.pool import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Vward-Signature"
_BASE_BACKOFF_S = 1.0
_BATCH = 50


def sign(secret: bytes, body: bytes) -> str:
    """`sha256=<hex>` over the exact body bytes, the way GitHub and Stripe sign webhooks."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def backoff(attempts: int, cap_s: float) -> timedelta:
    """1 s, 2 s, 4 s ... after the 1st, 2nd, 3rd failure, capped: a dead receiver is not hammered."""
    return timedelta(seconds=min(cap_s, _BASE_BACKOFF_S * 2 ** max(0, attempts - 1)))


def encode(item: OutboxItem) -> bytes:
    return json.dumps(item.payload, sort_keys=True, separators=(",", ":")).encode()


class WebhookNotifier:
    """One of any number of senders sharing the outbox; rows are leased, so none is sent twice at once."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        *,
        clock: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.notify_webhook_url:
            raise ValueError("VWARD_NOTIFY_WEBHOOK_URL is not set")
        self.url = settings.notify_webhook_url
        secret = settings.notify_webhook_secret or settings.secret_key
        self.secret = secret.get_secret_value().encode() if secret else b""
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self.transport = transport

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=self.settings.notify_timeout_s, transport=self.transport) as client:
            while not stop.is_set():
                try:
                    sent = await self.deliver_due(client)
                except DATABASE_UNAVAILABLE as exc:
                    log.warning("notifier paused, database unavailable: %s", exc)
                    sent = 0
                if sent == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.rules_poll_ms / 1000)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Send every due row once, concurrently; returns how many were attempted."""
        # Sends run at once, so a batch takes about one timeout at worst; a sender that dies mid-batch
        # leaves its rows to be sent again (at least once) when this lease runs out.
        lease = timedelta(seconds=2 * self.settings.notify_timeout_s + 1)
        async with self.pool.acquire() as conn:
            items = await outbox.lease_due(conn, self.clock(), limit=_BATCH, lease=lease)
        errors = await asyncio.gather(*(self._send(client, item) for item in items))
        async with self.pool.acquire() as conn:
            for item, error in zip(items, errors, strict=True):
                if error is None:
                    await outbox.mark_sent(conn, item.id, self.clock())
                else:
                    retry_at = self.clock() + backoff(item.attempts, self.settings.notify_max_backoff_s)
                    await outbox.mark_failed(conn, item.id, error, retry_at)
                    log.warning("notification %s attempt %d failed: %s", item.id, item.attempts, error)
        return len(items)

    async def _send(self, client: httpx.AsyncClient, item: OutboxItem) -> str | None:
        """None when the receiver took it (2xx), else why not."""
        body = encode(item)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": item.idempotency_key,
            SIGNATURE_HEADER: sign(self.secret, body),
        }
        try:
            response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"
