"""Replay a candidate rule set over one patient's stored readings: which alerts would have opened, and when.

Public API: `replay(patient, readings, ruleset, until=None) -> ReplayResult` (openings with times, and how
many readings and evaluations it took). `readings` are `(measured_at, metric, value)` rows (asyncpg
records work), oldest first. It runs the live code (PatientWindow -> evaluate -> reconcile -> AlertBook)
but only when something evaluate() reacts to has changed (measured on this project's shared 2-core box:
~3.5 us per reading and rule set on the preview bench, evaluations included). A reading set is
evaluated when it moves a NEWS2 alert trigger (total crossing a min_score, red score, completeness),
crosses a threshold bound or hysteresis margin, presses the concern button, brings back a stale value, or
feeds a trend (a metric's new value, at most every TREND_STEP). Between readings it evaluates at the next
deadline: a value going stale, a plan falling overdue, the concern window ending, or a value outside a
threshold having been held for `hold_minutes`. A deadline is derived again from the readings folded in
since the last evaluation before it is used, so a value superseded by a newer one does not cost one.

Assumptions of a backtest: staff close a clinical alert as soon as its condition has gone (so it can open
again); device status and per-patient overrides are not replayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.core.alertbook import AlertBook, Opening
from rules.core.evaluate import evaluate
from rules.core.model import Finding
from rules.core.news2 import PARAMETERS, score_parameter
from rules.core.reconcile import reconcile
from rules.core.ruleset import RuleSet
from rules.core.thresholds import Side, run_start, threshold_rule_id
from rules.core.window import PatientWindow
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric
from vward.domain.patients import Patient
from vward.domain.readings import ReadingValue

TREND_STEP = timedelta(hours=1)  # trends move over days: a new value within the hour waits for the next check
_JUST_AFTER = timedelta(seconds=1)  # stale means older than the window: look just after it ends
_NEWS2 = frozenset(str(m) for m in PARAMETERS)
_CONCERN = str(Metric.PATIENT_CONCERN)
_UNSCORED = -1  # no score known yet (a parameter the chart cannot score has None)

Reading = tuple[datetime, str, ReadingValue]
_Bound = tuple[float, Severity, bool]  # value, severity, low side


@dataclass(frozen=True, slots=True)
class ReplayResult:
    openings: tuple[Opening, ...]
    readings: int
    evaluations: int


def _number(value: ReadingValue) -> float | None:
    return None if isinstance(value, bool | str) else float(value)


class _Replay:
    """One patient's replay state: the live window and alerts plus cheap signatures of what could change."""

    def __init__(self, patient: Patient, ruleset: RuleSet) -> None:
        self.patient, self.ruleset = patient, ruleset
        self.window = PatientWindow(patient, ruleset)
        self.book = AlertBook(patient.id, close_cleared=True)
        rules = ruleset.for_pathway(patient.pathway)
        self.overdue = rules.overdue
        self.trend_metrics = frozenset(str(t.metric) for t in rules.trends)
        self.bounds: dict[str, list[_Bound]] = {
            str(m): [(b.at_or_below, b.severity, True) for b in t.low]
            + [(b.at_or_above, b.severity, False) for b in t.high]
            for m, t in rules.thresholds.items()
        }
        self.margins = {str(m): t.hysteresis for m, t in rules.thresholds.items()}
        self.holds = {str(m): timedelta(minutes=t.hold_minutes) for m, t in rules.thresholds.items()}
        lifetimes: dict[str, set[timedelta]] = {m: {age} for m, age in ruleset.news2.freshness().items()}
        for metric, threshold in rules.thresholds.items():
            if threshold.max_age_minutes is not None:
                lifetimes.setdefault(metric, set()).add(timedelta(minutes=threshold.max_age_minutes))
        lifetimes.setdefault(_CONCERN, set()).add(timedelta(minutes=ruleset.patient_concern.window_minutes))
        # How long a value counts, per rule that ages it: each end is a deadline, the first one makes it stale.
        self.lifetimes = {m: sorted(ages) for m, ages in lifetimes.items()}
        self.stale_after = {m: ages[0] for m, ages in self.lifetimes.items()}
        self.classed = frozenset(self.bounds) | {_CONCERN}
        self.triggers = [(a.min_score, a.red_score) for a in ruleset.news2.alerts]
        self.scores: dict[str, int | None] = {}
        self.total, self.reds, self.known, self.oxygen = 0, 0, 0, False
        self.signatures: dict[tuple[bool, int, bool], tuple[bool, tuple[bool, ...]]] = {}
        self.classes: dict[str, object] = {}
        self.score_memo: dict[tuple[str, ReadingValue, bool], int | None] = {}
        self.class_memo: dict[tuple[str, ReadingValue], object] = {}
        self.news2_signature: object = None
        self.next_due: datetime | None = None
        self.evaluated_at: datetime | None = None
        self.trend_checked: dict[str, datetime] = {}
        self.trends_due = False
        self.trend_findings: list[Finding] | None = None
        self.evaluations = 0

    def _score(self, metric: str, value: ReadingValue, oxygen: bool) -> int | None:
        key = (metric, value, oxygen)
        score = self.score_memo.get(key, _UNSCORED)
        if score == _UNSCORED:
            try:
                score = score_parameter(Metric(metric), value, scale=self.patient.spo2_scale, on_oxygen=oxygen)
            except ValueError:
                score = None
            self.score_memo[key] = score
        return score

    def _threshold_class(self, metric: str, value: ReadingValue) -> object:
        """Every comparison thresholds make with this value: equal classes, equal threshold outcomes."""
        key = (metric, value)
        if key not in self.class_memo:
            number, margin = _number(value), self.margins[metric]
            self.class_memo[key] = (
                None
                if number is None
                else tuple(
                    (number <= b, number <= b + margin) if low else (number >= b, number >= b - margin)
                    for b, _, low in self.bounds[metric]
                )
            )
        return self.class_memo[key]

    def _set_score(self, metric: str, score: int | None) -> None:
        """Keep the NEWS2 total, red-score count and number of scored parameters up to date in O(1)."""
        old = self.scores.get(metric)
        if old is not None:
            self.total, self.reds, self.known = self.total - old, self.reds - (old == 3), self.known - 1
        if score is not None:
            self.total, self.reds, self.known = self.total + score, self.reds + (score == 3), self.known + 1
        self.scores[metric] = score

    def _news2(self, metric: str, value: ReadingValue) -> bool:
        if metric == "on_oxygen":
            self.oxygen = value is True
            spo2 = self.window.latest.get("spo2")
            if spo2 is not None:
                self._set_score("spo2", self._score("spo2", spo2[1], self.oxygen))
        score = self._score(metric, value, self.oxygen)
        if self.scores.get(metric, _UNSCORED) == score and metric != "on_oxygen":
            return False  # same total, red scores and completeness
        self._set_score(metric, score)
        key = (self.known == len(_NEWS2), self.total, self.reds > 0)
        signature = self.signatures.get(key)
        if signature is None:
            matched = tuple((m is not None and key[1] >= m) or (r and key[2]) for m, r in self.triggers)
            signature = self.signatures[key] = (key[0], matched)
        changed = signature != self.news2_signature
        self.news2_signature = signature
        return changed

    def add(self, measured_at: datetime, metric: str, value: ReadingValue) -> bool:
        """Fold in one reading; True when evaluate() could now answer differently."""
        previous = self.window.add(measured_at, metric, value)
        # a value back from stale changes NEWS2 completeness or a threshold whatever it is
        changed = previous is not None and measured_at - previous[0] > self.stale_after.get(metric, timedelta.max)
        if metric in self.trend_metrics:
            checked = self.trend_checked.get(metric)
            if checked is None or measured_at - checked >= TREND_STEP:
                self.trend_checked[metric] = measured_at
                self.trends_due = changed = True
        if previous is not None and previous[1] == value:
            return changed  # the same value scores and compares the same
        if metric in _NEWS2:
            changed = self._news2(metric, value) or changed
        if metric in self.classed:
            cls = self._threshold_class(metric, value) if metric in self.bounds else value
            changed = changed or cls != self.classes.get(metric)
            self.classes[metric] = cls
        return changed

    def _maturing(self, now: datetime) -> list[datetime]:
        """When values outside a bound more severe than the open alert will have been held long enough."""
        times = []
        for metric, bounds in self.bounds.items():
            point = self.window.latest.get(metric)
            number = None if point is None else _number(point[1])
            lifetimes = self.lifetimes.get(metric)
            if point is None or number is None or (lifetimes and now - point[0] > lifetimes[0]):
                continue
            cls = self._threshold_class(metric, point[1])
            if isinstance(cls, tuple) and not any(beyond for beyond, _ in cls):
                continue  # inside every bound: no run to mature (saves walking the history)
            for bound, severity, low in bounds:
                side: Side = "low" if low else "high"
                alert = self.book.open.get(threshold_rule_id(metric, side))
                current = None if alert is None or alert.cleared else alert.severity
                since = run_start(self.window.history[metric], bound, side)
                if since is not None and (current is None or severity > current):
                    times.append(since + self.holds[metric])
        return times

    def _deadline(self, now: datetime) -> datetime | None:
        latest = self.window.latest
        times = [seen + age + _JUST_AFTER for m, (seen, _) in latest.items() for age in self.lifetimes.get(m, ())]
        for plan in self.overdue:
            last = max((latest[m][0] for m in plan.metrics if m in latest), default=self.patient.admitted_at)
            times.append(last + plan.due_after() + _JUST_AFTER)
        times += self._maturing(now)
        return min((t for t in times if t > now), default=None)

    def evaluate_at(self, now: datetime) -> None:
        active = self.book.active()
        if self.trends_due or self.trend_findings is None:
            findings = evaluate(self.window.context(now), self.ruleset, now, active=active)
            self.trend_findings = [f for f in findings if f.rule_id.startswith("trend:")]
            self.trends_due = False
        else:
            context = self.window.context(now, trend_history=False)
            findings = evaluate(context, self.ruleset, now, active=active, trends=self.trend_findings)
        self.book.apply(reconcile(self.book.alerts(), findings, now), now)
        self.evaluations += 1
        self.evaluated_at, self.next_due = now, self._deadline(now)

    def _due_by(self, limit: datetime) -> datetime | None:
        """The next deadline if it falls at or before `limit`. A stored deadline is derived again before it
        is used: readings folded in since the last evaluation (all before it) may have moved it on, as a
        newer value does not go stale when the one before it would have."""
        if self.next_due is not None and self.next_due <= limit and self.evaluated_at is not None:
            self.next_due = self._deadline(self.evaluated_at)
        return self.next_due if self.next_due is not None and self.next_due <= limit else None

    def catch_up(self, before: datetime) -> None:
        """Evaluate every deadline that falls before `before` (each evaluation moves the deadline on)."""
        while (due := self._due_by(before)) is not None and due < before:
            self.evaluate_at(due)

    def settle(self, at: datetime, changed: bool) -> None:
        if changed or self._due_by(at) is not None:
            self.evaluate_at(at)


def replay(
    patient: Patient, readings: Iterable[Reading], ruleset: RuleSet, *, until: datetime | None = None
) -> ReplayResult:
    """The alerts `ruleset` would have opened for `patient` over `readings` (oldest first), up to `until`."""
    run = _Replay(patient, ruleset)
    group: datetime | None = None
    changed, count = False, 0
    for measured_at, metric, value in readings:
        if measured_at != group:
            # settle() and catch_up() check again (deriving the deadline anew): these tests only skip the calls
            if group is not None and (changed or (run.next_due is not None and run.next_due <= group)):
                run.settle(group, changed)
            if run.next_due is not None and run.next_due < measured_at:
                run.catch_up(measured_at)
            group, changed = measured_at, False
        changed = run.add(measured_at, metric, value) or changed
        count += 1
    if group is not None:
        run.settle(group, changed)
    if until is not None:
        run.catch_up(until)
    return ReplayResult(tuple(run.book.openings), count, run.evaluations)
