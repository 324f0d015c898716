"""Queue an alert's notifications in the alert's own transaction (the outbox), one row per tier notified."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rules.core.escalation import Notification
from vward.storage import outbox
from vward.storage.alerts import StoredAlert
from vward.storage.pool import Conn


def latest_tier(alert: StoredAlert) -> Notification:
    """Whoever was told last (tier 0 before any): the recipient of news about an alert already raised."""
    tiers = alert.escalation_policy["tiers"]
    index = min(max(alert.escalation_tier - 1, 0), len(tiers) - 1)
    return Notification(index, tiers[index]["target"], tiers[index]["channel"])


async def notify(
    conn: Conn, alert: StoredAlert, event: str, notifications: Sequence[Notification], now: datetime
) -> None:
    """Outbox rows carrying ids and reason codes only, never names or MRNs."""
    for note in notifications:
        payload = {
            "event": event,
            "alert_id": alert.id,
            "patient_id": alert.patient_id,
            "rule_id": alert.rule_id,
            "severity": alert.severity.name.lower(),
            "state": alert.state.value,
            "title": alert.title,
            "tier": note.tier,
            "renotify": note.renotify,
            "target": note.target,
            "channel": note.channel,
            "policy": alert.escalation_policy.get("name"),
            "rule_set": f"{alert.rule_set_name}@{alert.rule_set_version}",
            "at": now.isoformat(),
        }
        await outbox.enqueue(
            conn,
            alert_id=alert.id,
            idempotency_key=f"alert-{alert.id}-{event}-{note.tier}-{now.isoformat()}",
            channel=note.channel,
            target=note.target,
            payload=payload,
        )
