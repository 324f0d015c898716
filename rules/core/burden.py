"""Alert burden of a replay, for rule set preview: how many alerts per patient-day, per rule and per shift.

Public API: `alert_burden(openings, tz=UTC, shift_starts=(07:00, 19:00)) -> Burden`. Days and shifts are
the ward's local ones (pass its tzinfo, e.g. ZoneInfo(settings.timezone)); a night shift belongs to the
day it starts, so 02:00 on the 23rd counts in the 19:00-07:00 shift of the 22nd.
`hours_by_shift(start, end, tz, starts)`: how the hours of a span fall into shifts (open alert-hours, the
hours a shift was staffed), for the live meter's alerts open per nurse.
`episode_costs(episodes, staff, end)`: what replayed alerts cost the nurses, as the live meter counts it:
state changes (the rules' events, escalations, the acknowledgement, the close), notifications (each tier
reached before the acknowledgement, reminders, a notice per worsening) and the hours alerts stay open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from rules.core.alertbook import Episode, Opening, StaffResponse
from rules.core.escalation import notices_until

DAY_AND_NIGHT = (time(7), time(19))


@dataclass(frozen=True, slots=True)
class Burden:
    total: int
    per_rule: dict[str, int]
    per_severity: dict[str, int]
    per_patient_day: dict[tuple[int, date], int]
    per_shift: dict[tuple[date, str], int]

    def mean_per_patient_day(self, patient_days: float) -> float:
        """Alerts per patient-day of monitoring (patient_days: the exposure, e.g. admitted days in the window)."""
        return self.total / patient_days if patient_days > 0 else 0.0


@dataclass(frozen=True, slots=True)
class EpisodeCosts:
    alerts: int
    state_changes: int
    notifications: int  # every notice: first per tier, reminders, worsenings
    reminders: int
    open_alert_hours: float

    def per_alert_hour(self) -> float:
        return self.state_changes / self.open_alert_hours if self.open_alert_hours else 0.0


def episode_costs(episodes: Iterable[Episode], staff: StaffResponse, end: datetime) -> EpisodeCosts:
    """The alerts' cost with staff acknowledging `staff.acknowledge_after` their opening severity after they
    open (an alert closed sooner is never acknowledged); an alert still open at `end` counts until then."""
    alerts = changes = notices = reminders = 0
    hours = 0.0
    for e in episodes:
        closed = e.closed_at or end
        acknowledged_at = e.opened_at + staff.acknowledge_after[e.opened_as]
        firsts, repeats, escalations = notices_until(e.policy, e.opened_at, min(acknowledged_at, closed))
        alerts += 1
        changes += e.events + escalations + (acknowledged_at < closed) + e.closed_by_staff
        notices += firsts + repeats + e.worsened
        reminders += repeats
        hours += (closed - e.opened_at).total_seconds() / 3600
    return EpisodeCosts(alerts, changes, notices, reminders, hours)


def shift_of(at: datetime, starts: Sequence[time]) -> tuple[date, str]:
    """The shift (its start date and "HH:MM-HH:MM" label) that a local time falls in."""
    ordered = sorted(starts)
    earlier = [s for s in ordered if s <= at.time()]
    day = at.date() if earlier else at.date() - timedelta(days=1)
    start = earlier[-1] if earlier else ordered[-1]
    end = ordered[(ordered.index(start) + 1) % len(ordered)]
    return day, f"{start:%H:%M}-{end:%H:%M}"


def hours_by_shift(
    start: datetime, end: datetime, *, tz: tzinfo = UTC, starts: Sequence[time] = DAY_AND_NIGHT
) -> dict[tuple[date, str], float]:
    """The hours of [start, end) in each shift (ward time); a span that crosses a shift change is split there."""
    hours: dict[tuple[date, str], float] = {}
    cursor = start
    while cursor < end:
        local = cursor.astimezone(tz)
        boundary = min(_next_start(local, starts, tz), end)
        shift = shift_of(local, starts)
        hours[shift] = hours.get(shift, 0.0) + (boundary - cursor).total_seconds() / 3600
        cursor = boundary
    return hours


def _next_start(local: datetime, starts: Sequence[time], tz: tzinfo) -> datetime:
    """The first shift start after `local` (an aware ward-time datetime)."""
    candidates = [
        datetime.combine(local.date() + timedelta(days=days), start, tzinfo=tz) for days in (0, 1) for start in starts
    ]
    return min(c for c in candidates if c > local)


def alert_burden(
    openings: Iterable[Opening], *, tz: tzinfo = UTC, shift_starts: Sequence[time] = DAY_AND_NIGHT
) -> Burden:
    if not shift_starts:
        raise ValueError("give at least one shift start time")
    per_rule: Counter[str] = Counter()
    per_severity: Counter[str] = Counter()
    per_patient_day: Counter[tuple[int, date]] = Counter()
    per_shift: Counter[tuple[date, str]] = Counter()
    for opening in openings:
        local = opening.at.astimezone(tz)
        per_rule[opening.rule_id] += 1
        per_severity[opening.severity.name.lower()] += 1
        per_patient_day[(opening.patient_id, local.date())] += 1
        per_shift[shift_of(local, shift_starts)] += 1
    return Burden(sum(per_rule.values()), dict(per_rule), dict(per_severity), dict(per_patient_day), dict(per_shift))
