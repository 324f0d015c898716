"""Escalation timing: which tier of an alert's policy snapshot is due now, and when to look again.

Public API: `plan(policy, opened_at=..., tier=..., next_due_at=..., acknowledged=..., now=...) -> EscalationStep`.
- `policy` is the snapshot copied into the alert when it opened (Finding.escalation_policy), so editing the
  rule set never changes a running escalation.
- `tier` counts the tiers already notified (0 for a new alert); tier i is due `after_minutes` after opening.
  A late timer notifies every overdue tier at once (fail open: a duplicate beats a miss).
- Once every tier is notified, the last one is re-notified every `renotify_minutes` until acknowledged;
  `next_due_at` is what the service stores as the alert's next_escalation_at and passes back next time.
- An acknowledged alert escalates no further (next_due_at None).

`notices_until(policy, opened_at, until)`: what those steps send before an alert is acknowledged or closed,
for the preview's and the evaluation's notification counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rules.core.ruleset import Tier


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to put in the outbox: which tier, to whom, how, and whether it is a reminder."""

    tier: int
    target: str
    channel: str
    renotify: bool = False


@dataclass(frozen=True, slots=True)
class EscalationStep:
    notify: tuple[Notification, ...]
    tier: int  # tiers notified after this step
    next_due_at: datetime | None
    escalated: bool  # a tier beyond the first went out now: the alert moves to "escalated"


def plan(
    policy: Mapping[str, Any],
    *,
    opened_at: datetime,
    tier: int,
    next_due_at: datetime | None,
    acknowledged: bool,
    now: datetime,
) -> EscalationStep:
    """The notifications due at `now` and when the next one falls due."""
    if acknowledged:
        return EscalationStep((), tier, None, False)
    # A snapshot without tiers (an alert raised outside any policy) escalates nowhere; it is still shown.
    tiers = [Tier.model_validate(t) for t in policy.get("tiers", ())]
    due = [i for i in range(tier, len(tiers)) if opened_at + timedelta(minutes=tiers[i].after_minutes) <= now]
    notify = [Notification(i, tiers[i].target, tiers[i].channel) for i in due]
    reached = tier + len(due)
    if reached < len(tiers):
        upcoming = opened_at + timedelta(minutes=tiers[reached].after_minutes)
        return EscalationStep(tuple(notify), reached, upcoming, any(i > 0 for i in due))
    renotify = policy.get("renotify_minutes")
    if renotify is None:
        return EscalationStep(tuple(notify), reached, None, any(i > 0 for i in due))
    if not notify and next_due_at is not None and next_due_at <= now:
        last = tiers[-1]
        notify = [Notification(len(tiers) - 1, last.target, last.channel, renotify=True)]
    elif not notify:
        return EscalationStep((), reached, next_due_at, False)
    return EscalationStep(tuple(notify), reached, now + timedelta(minutes=renotify), any(i > 0 for i in due))


def notices_until(policy: Mapping[str, Any], opened_at: datetime, until: datetime) -> tuple[int, int, int]:
    """(first notices, reminders, escalations) the policy sends from the opening until `until`, when the alert
    is acknowledged or closed: the live timer's steps (`plan`), replayed. The opening's tier always goes out."""
    tier, due, now = 0, None, opened_at
    firsts = reminders = escalations = 0
    while True:
        step = plan(policy, opened_at=opened_at, tier=tier, next_due_at=due, acknowledged=False, now=now)
        reminders += sum(n.renotify for n in step.notify)
        firsts += sum(not n.renotify for n in step.notify)
        escalations += step.escalated
        tier, due = step.tier, step.next_due_at
        if due is None or due >= until:
            return firsts, reminders, escalations
        now = due
