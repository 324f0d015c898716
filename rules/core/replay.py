"""Replay a candidate rule set over one patient's stored readings: which alerts would have opened, and when.

Public API:
- `replay(patient, readings, ruleset, until=None, staff=ASSUMED_RESPONSE) -> ReplayResult` (openings and
  episodes with times, and how many readings and evaluations it took). `readings` are
  `(measured_at, metric, value)` rows, oldest first.
- `replay_sides(patient, readings, rulesets, until=None) -> list[ReplayResult]`: several rule sets over
  one pass of the readings, each `(microseconds since the Unix epoch, metric, value)` in (time, metric)
  order (what preview fetches). Each reading is folded once into what every rule set shares (latest
  values, numeric history); only what a rule set could react to reaches its own state.

It runs the live code (evaluate -> reconcile -> AlertBook, with the context PatientWindow would build) but
only when what evaluate() finds could change the alerts. A reading set is evaluated when it makes a NEWS2
finding come or go or rise above the open alert (completeness, the most severe trigger matched), crosses a
threshold without a hold, moves a value with an open threshold alert across its first bound's hysteresis
margin, presses the concern button, brings back a stale value, or feeds a trend (a metric's new value, at
most every TREND_STEP). Between readings it evaluates at the next deadline: a value going stale, a plan
falling overdue, the concern window ending, a run outside a bound having been held for `hold_minutes`, a
gap in NEWS2 having lasted `incomplete_after_minutes`, an alert clearing, or staff closing an alert.
A deadline is derived again before it is used (from the readings folded in since the last evaluation), so
a value superseded by a newer one does not cost one, and at once when a run outside a bound begins. The
equivalence tests compare this with the live loop run every minute. Times are integer microseconds inside
the loop (exact, and far cheaper to compare and subtract than datetimes); datetimes are made only for
evaluations.

Assumptions of a backtest: staff close a clinical alert `staff.resolve_after` its severity after it opened
(as observed on the ward, rules.core.alertbook.StaffResponse), and a condition still there then opens a
new one; device status and per-patient overrides are not replayed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rules.core.alertbook import ASSUMED_RESPONSE, AlertBook, Episode, Opening, StaffResponse
from rules.core.evaluate import evaluate
from rules.core.model import EvaluationContext, Finding
from rules.core.news2 import PARAMETERS, score_parameter
from rules.core.reconcile import reconcile
from rules.core.ruleset import RuleSet
from rules.core.thresholds import Side, threshold_rule_id
from rules.core.window import lookbacks
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric
from vward.domain.patients import Patient
from vward.domain.readings import Observation, ReadingValue

TREND_STEP = timedelta(hours=1)  # trends move over days: a new value within the hour waits for the next check
_NEWS2 = frozenset(str(m) for m in PARAMETERS)
_CONCERN = str(Metric.PATIENT_CONCERN)
_UNSCORED = -1  # no score known yet (a parameter the chart cannot score has None)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NEVER = 1 << 62  # a deadline that never comes, in microseconds

Reading = tuple[datetime, str, ReadingValue]
Stamped = tuple[int, str, ReadingValue]  # measured_at in microseconds since the Unix epoch
_Bound = tuple[float, Severity, bool]  # value, severity, low side
_Signature = tuple[bool, Severity | None]  # NEWS2 complete, the most severe alert trigger matched
_Class = tuple[tuple[bool, bool], ...] | None  # per bound: outside it, outside it less the margin
_Kind = tuple[int | None, _Class]  # a value's NEWS2 score and threshold class: equal kinds, equal outcomes


def micros(at: datetime) -> int:
    """A time as microseconds since the Unix epoch: exact, as PostgreSQL keeps microseconds."""
    return (at - _EPOCH) // _MICROSECOND


def _micros(span: timedelta) -> int:
    return span // _MICROSECOND


_STEP = _micros(TREND_STEP)
_JUST_AFTER = 1_000_000  # stale means older than the window: look a second after it ends


@dataclass(frozen=True, slots=True)
class ReplayResult:
    openings: tuple[Opening, ...]
    readings: int
    evaluations: int
    episodes: tuple[Episode, ...] = ()


def _number(value: ReadingValue) -> float | None:
    return None if isinstance(value, bool | str) else float(value)


class _Fold:
    """What every rule set reads of the readings folded so far: each metric's latest reading and the numeric
    readings of the metrics some rule looks back over (all of them: a span is a bisect away). The readings
    themselves are kept, which saves making a tuple per reading."""

    def __init__(self, metrics: Iterable[str]) -> None:
        self.latest: dict[str, Stamped] = {}
        self.history: dict[str, list[Stamped]] = {m: [] for m in metrics}
        self._datetimes: dict[int, datetime] = {}

    def when(self, at: int) -> datetime:
        known = self._datetimes.get(at)
        if known is None:
            known = self._datetimes[at] = _EPOCH + timedelta(microseconds=at)
        return known

    def series(self, metric: str, start: int) -> tuple[tuple[datetime, float], ...]:
        """The values from `start` on plus the one before: PatientWindow's series for a lookback."""
        points = self.history[metric]
        span = points[max(bisect_right(points, start, key=_time) - 1, 0) :]
        return tuple((self.when(at), float(value)) for at, _, value in span)

    def run_start(self, metric: str, bound: float, low: bool, floor: int) -> int | None:
        """When the latest run of values outside `bound` began (None: the latest is inside); the walk stops
        at `floor`, as any start at or before it is as good as the true one to whoever asks."""
        start = None
        for at, _, value in reversed(self.history[metric]):
            if not (float(value) <= bound if low else float(value) >= bound):
                break
            start = at
            if at <= floor:
                break
        return start


def _time(reading: Stamped) -> int:
    return reading[0]


class _Cell:
    """One scored or bounded metric in one rule set: its values by kind (SpO2's under the oxygen state it
    is scored with) and the kind of its latest value. A new value of the same kind changes nothing."""

    __slots__ = ("kind", "memo")

    def __init__(self, memo: dict[ReadingValue, _Kind]) -> None:
        self.memo = memo
        self.kind: _Kind | None = None


class _Replay:
    """One rule set's replay state over the shared fold: alerts plus cheap signatures of what could change."""

    def __init__(self, patient: Patient, ruleset: RuleSet, fold: _Fold, staff: StaffResponse) -> None:
        self.patient, self.ruleset, self.fold = patient, ruleset, fold
        self.book = AlertBook(patient.id, staff=staff)
        self.clear_after = ruleset.clear_after()
        rules = ruleset.for_pathway(patient.pathway)
        self.keep = {m: _micros(d) for m, d in lookbacks(patient, ruleset).items()}
        self.holds = {m: _micros(d) for m, d in lookbacks(patient, ruleset, trends=False).items()}
        self.admitted = micros(patient.admitted_at)
        self.overdue = [
            ([str(m) for m in p.metrics], _micros(p.due_after()) + _JUST_AFTER) for p in ruleset.overdue_plans(patient)
        ]
        self.trend_metrics = frozenset(str(t.metric) for t in rules.trends)
        # NEWS2 scores these from a summary of their recent samples while they are dense: then any new sample
        # may change the score (sparse, the newest value counts as measured and its kind decides).
        self.streams = {
            str(m): (_micros(timedelta(seconds=r.window_seconds)), r.min_samples)
            for m, r in ruleset.news2.streams.items()
        }
        self.stream_metrics = frozenset(self.streams)
        self.bounds: dict[str, list[_Bound]] = {
            str(m): [(b.at_or_below, b.severity, True) for b in t.low]
            + [(b.at_or_above, b.severity, False) for b in t.high]
            for m, t in rules.thresholds.items()
        }
        self.margins = {str(m): t.hysteresis for m, t in rules.thresholds.items()}
        unbounded: dict[str, set[int]] = {m: {_micros(age)} for m, age in ruleset.news2.freshness().items()}
        unbounded.setdefault(_CONCERN, set()).add(_micros(timedelta(minutes=ruleset.patient_concern.window_minutes)))
        lifetimes = {m: set(ages) for m, ages in unbounded.items()}
        for metric, threshold in rules.thresholds.items():
            if threshold.max_age_minutes is not None:
                lifetimes.setdefault(metric, set()).add(_micros(timedelta(minutes=threshold.max_age_minutes)))
        # How long a value counts, per rule that ages it: each end is a deadline, the first one makes it stale.
        self.lifetimes = {m: sorted(ages) for m, ages in lifetimes.items()}
        self.stale_after = {m: ages[0] for m, ages in self.lifetimes.items()}
        # The gap a NEWS2 value leaves when its window ends alerts news2_incomplete `incomplete_hold` later,
        # exactly then (the value is stale by then: that deadline needs no second's grace).
        self.incomplete_hold = _micros(timedelta(minutes=ruleset.news2.incomplete_after_minutes))
        gaps = {m: ages for m, ages in unbounded.items() if m in _NEWS2 and self.incomplete_hold}
        # Each end after a reading, and whether only a threshold's max_age ends there (see _deadline).
        self.expiries = [
            (
                m,
                sorted(
                    [(age + _JUST_AFTER, age not in unbounded.get(m, ())) for age in ages]
                    + [(age + self.incomplete_hold, False) for age in gaps.get(m, ())]
                ),
            )
            for m, ages in self.lifetimes.items()
        ]
        self.triggers = [(a.min_score, a.red_score, a.severity) for a in ruleset.news2.alerts]
        # A threshold without a hold fires on the reading that crosses it. With a hold, a crossing only
        # starts or ends a run, which matters when the run matures (a deadline), and an open alert (which
        # only ever worsens) fires on until the value is back inside its side's first bound by the margin.
        self.immediate = {str(m): t.hold_minutes == 0 for m, t in rules.thresholds.items()}
        self.firsts = {
            str(m): [(threshold_rule_id(m, "low"), 0)] * bool(t.low)
            + [(threshold_rule_id(m, "high"), len(t.low))] * bool(t.high)
            for m, t in rules.thresholds.items()
        }
        self.scores: dict[str, int | None] = {}
        self.total, self.reds, self.known, self.oxygen = 0, 0, 0, False
        self.signatures: dict[tuple[bool, int, bool], _Signature] = {}
        self.spo2_kinds: dict[bool, dict[ReadingValue, _Kind]] = {False: {}, True: {}}
        self.cells = {m: _Cell(self.spo2_kinds[False] if m == "spo2" else {}) for m in _NEWS2 | set(self.bounds)}
        self.interned: dict[_Kind, _Kind] = {}
        self.concern: ReadingValue | None = None
        self.class_memo: dict[tuple[str, ReadingValue], _Class] = {}
        self.news2_signature: _Signature | None = None
        self.changed = False  # evaluate() could answer differently since the current reading time began
        self.rederive = False  # a run outside a bound began since then: its maturing is a new deadline
        self.next_due = _NEVER
        self.evaluated_at = 0
        self.trend_checked: dict[str, int] = {}
        self.trends_due = False
        self.trend_findings: list[Finding] | None = None
        self.evaluations = 0

    def _kind(self, metric: str, value: ReadingValue) -> _Kind:
        """The value's kind, worked out once per value (and oxygen state, for SpO2)."""
        score = None  # also for a value the chart cannot score
        if metric in _NEWS2:
            with suppress(ValueError):
                score = score_parameter(Metric(metric), value, scale=self.patient.spo2_scale, on_oxygen=self.oxygen)
        cls = self._threshold_class(metric, value) if metric in self.bounds else None
        kind = self.cells[metric].memo[value] = self.interned.setdefault((score, cls), (score, cls))
        return kind

    def _threshold_class(self, metric: str, value: ReadingValue) -> _Class:
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

    def _news2(self, metric: str, value: ReadingValue, score: int | None) -> bool:
        if metric == "on_oxygen":
            self.oxygen = value is True
            cell = self.cells["spo2"]
            cell.memo = self.spo2_kinds[self.oxygen]
            spo2 = self.fold.latest.get("spo2")
            if spo2 is not None:
                kind = cell.kind = cell.memo.get(spo2[2]) or self._kind("spo2", spo2[2])
                self._set_score("spo2", kind[0])
        if self.scores.get(metric, _UNSCORED) == score and metric != "on_oxygen":
            return False  # same total, red scores and completeness
        self._set_score(metric, score)
        key = (self.known == len(_NEWS2), self.total, self.reds > 0)
        signature = self.signatures.get(key)
        if signature is None:
            # evaluate() reports the most severe trigger matched: only that and completeness matter
            matched = [s for m, r, s in self.triggers if (m is not None and key[1] >= m) or (r and key[2])]
            signature = self.signatures[key] = (key[0], max(matched, default=None))
        old, self.news2_signature = self.news2_signature, signature
        if signature == old:
            return False
        if old is None or signature[0] != old[0] or (signature[1] is None) != (old[1] is None):
            return True  # a finding comes or goes
        alert, severity = self.book.open.get("news2"), signature[1]
        return alert is None or (severity is not None and severity > alert.severity)  # else it never falls

    def add(self, at: int, metric: str, value: ReadingValue, previous: Stamped | None) -> None:
        """Take in one reading the fold has just folded (`previous`: the metric's latest before it); marks
        `changed` when evaluate() could now answer differently."""
        # a value back from stale changes NEWS2 completeness or a threshold whatever it is
        changed = previous is not None and at - previous[0] > self.stale_after.get(metric, _NEVER)
        changed = changed or (metric in self.streams and self._dense(metric, at))
        if metric in self.trend_metrics:
            checked = self.trend_checked.get(metric)
            if checked is None or at - checked >= _STEP:
                self.trend_checked[metric] = at
                self.trends_due = changed = True
        cell = self.cells.get(metric)
        if cell is not None:
            kind, old = cell.memo.get(value) or self._kind(metric, value), cell.kind
            if kind is not old:
                cell.kind = kind
                if metric in _NEWS2 and (old is None or kind[0] != old[0] or metric == "on_oxygen"):
                    changed = self._news2(metric, value, kind[0]) or changed
                if metric in self.bounds and (old is None or kind[1] != old[1]):
                    self._crossed(metric, kind[1], None if old is None else old[1])
        elif metric == _CONCERN:
            changed = changed or value != self.concern
            self.concern = value
        if changed:
            self.changed = True

    def _dense(self, metric: str, at: int) -> bool:
        """Whether the stream's window back from `at` holds enough samples to be summarised."""
        window, needed = self.streams[metric]
        points = self.fold.history[metric]
        for count, (stamp, _, _) in enumerate(reversed(points), start=1):
            if stamp < at - window:
                return False
            if count >= needed:
                return True
        return False

    def _crossed(self, metric: str, cls: _Class, old: _Class) -> None:
        """A new threshold class: mark whether evaluate() could find otherwise now, or a run outside a bound
        began (its maturing is a new deadline). A run that ends leaves a deadline that is derived again
        before it is used; a margin crossed with no alert open changes nothing."""
        open_alerts = self.book.open
        if (
            cls is None
            or old is None
            or self.immediate[metric]
            or any(rule_id in open_alerts and cls[i][1] != old[i][1] for rule_id, i in self.firsts[metric])
        ):
            self.changed = True
        elif any(outside and not before for (outside, _), (before, _) in zip(cls, old, strict=True)):
            self.rederive = True

    def _maturing(self, now: int) -> list[int]:
        """When values outside a bound more severe than the open alert will have been held long enough."""
        times = []
        for metric, bounds in self.bounds.items():
            kind = self.cells[metric].kind  # the latest value's
            cls = None if kind is None else kind[1]
            if cls is None or not any(cls[i][0] for _, i in self.firsts[metric]):  # outside a first bound
                continue  # no number, or inside every bound: no run to mature (saves walking the history)
            lifetimes = self.lifetimes.get(metric)
            if lifetimes and now - self.fold.latest[metric][0] > lifetimes[0]:
                continue
            hold = self.holds[metric]
            for bound, severity, low in bounds:
                side: Side = "low" if low else "high"
                alert = self.book.open.get(threshold_rule_id(metric, side))
                current = None if alert is None or alert.cleared else alert.severity
                since = self.fold.run_start(metric, bound, low, now - hold)
                if since is not None and (current is None or severity > current):
                    times.append(since + hold)
        return times

    def _may_fire(self, metric: str) -> bool:
        """Whether the metric's thresholds may find something: its latest value is outside a bound (or not a
        number) or an alert of it is open. If not, its value going stale changes nothing, and whatever
        changes that (a value crossing a bound, an alert opening) derives the deadline again."""
        kind = self.cells[metric].kind
        cls = None if kind is None else kind[1]
        firsts = self.firsts[metric]
        return cls is None or any(cls[i][0] or rule_id in self.book.open for rule_id, i in firsts)

    def _deadline(self, now: int) -> int:
        """The first deadline after `now` (a value going stale, a plan overdue, a run maturing, an alert
        clearing)."""
        latest, first = self.fold.latest, _NEVER
        for metric, ends in self.expiries:
            reading = latest.get(metric)
            if reading is None:
                continue
            for end, threshold_only in ends:  # sorted: the first end after now is the value's next deadline
                due = reading[0] + end
                if due > now and (not threshold_only or self._may_fire(metric)):
                    first = min(first, due)
                    break
        for metrics, due_after in self.overdue:
            due = max((latest[m][0] for m in metrics if m in latest), default=self.admitted) + due_after
            if now < due < first:
                first = due
        if not latest.keys() >= _NEWS2:  # a parameter not measured since admission: its gap alerts then
            due = self.admitted + self.incomplete_hold
            if now < due < first:
                first = due
        closings = [micros(at) for at in self.book.closing_times()]
        return min([first, *(due for due in [*self._maturing(now), *self._clearing(), *closings] if due > now)])

    def _clearing(self) -> list[int]:
        """When alerts whose condition has gone will have stayed gone long enough to clear."""
        return [
            micros(alert.absent_since + self.clear_after)
            for alert in self.book.open.values()
            if alert.absent_since is not None and not alert.cleared
        ]

    def _context(self, now: int, *, trend_history: bool) -> EvaluationContext:
        """What PatientWindow.context(now, trend_history=...) builds from the same readings."""
        fold = self.fold
        latest = {m: Observation(Metric(m), v, fold.when(t)) for m, (t, _, v) in fold.latest.items() if t <= now}
        spans = self.keep if trend_history else self.holds
        series = {m: fold.series(m, now - spans.get(m, 0)) for m in self.keep}
        return EvaluationContext(self.patient, latest, series=series)

    def evaluate_at(self, now: int) -> None:
        at = self.fold.when(now)
        self.book.close_due(at)  # a person closed it: a condition still there opens a new alert now
        active = self.book.active()
        if self.trends_due or self.trend_findings is None:
            findings = evaluate(self._context(now, trend_history=True), self.ruleset, at, active=active)
            self.trend_findings = [f for f in findings if f.rule_id.startswith("trend:")]
            self.trends_due = False
        else:
            context = self._context(now, trend_history=False)
            findings = evaluate(context, self.ruleset, at, active=active, trends=self.trend_findings)
        self.book.apply(reconcile(self.book.alerts(), findings, at, clear_after=self.clear_after), at)
        self.evaluations += 1
        self.evaluated_at, self.next_due = now, self._deadline(now)

    def _due_by(self, limit: int) -> int | None:
        """The next deadline if it falls at or before `limit`. A stored deadline is derived again before it
        is used: readings folded in since the last evaluation (all before it) may have moved it on, as a
        newer value does not go stale when the one before it would have."""
        if self.next_due <= limit:
            self.next_due = self._deadline(self.evaluated_at)
        return self.next_due if self.next_due <= limit else None

    def catch_up(self, before: int) -> None:
        """Evaluate every deadline that falls before `before` (each evaluation moves the deadline on)."""
        while (due := self._due_by(before)) is not None and due < before:
            self.evaluate_at(due)

    def settle(self, at: int) -> None:
        """The reading time `at` is complete: evaluate if it changed something or a deadline has come."""
        if self.rederive:
            if self.evaluations:
                self.next_due = self._deadline(self.evaluated_at)  # as in _due_by: the same deadlines after it
            else:
                self.changed = True
        if self.changed or self._due_by(at) is not None:
            self.evaluate_at(at)
        self.changed = self.rederive = False


def replay(
    patient: Patient,
    readings: Iterable[Reading],
    ruleset: RuleSet,
    *,
    until: datetime | None = None,
    staff: StaffResponse = ASSUMED_RESPONSE,
) -> ReplayResult:
    """The alerts `ruleset` would have opened for `patient` over `readings` (oldest first), up to `until`."""
    stamped = [(micros(at), metric, value) for at, metric, value in readings]
    return replay_sides(patient, stamped, [ruleset], until=until, staff=staff)[0]


def replay_sides(
    patient: Patient,
    readings: Sequence[Stamped],
    rulesets: Sequence[RuleSet],
    *,
    until: datetime | None = None,
    staff: StaffResponse = ASSUMED_RESPONSE,
) -> list[ReplayResult]:
    """Each rule set's alerts over one pass of `readings` (microsecond times, oldest first), up to `until`."""
    fold = _Fold({m for r in rulesets for m in lookbacks(patient, r)})
    runs = [_Replay(patient, ruleset, fold, staff) for ruleset in rulesets]
    latest, history = fold.latest, fold.history
    # Per metric, the longest gap after which a reading is quiet (not back from stale in any rule set);
    # a metric some trend reads, or a NEWS2 stream, is never quiet.
    quiet_for = {m: min(run.stale_after.get(m, _NEVER) for run in runs) for run in runs for m in run.stale_after}
    quiet_for |= {m: -1 for run in runs for m in run.trend_metrics | run.stream_metrics}
    # Per metric: its history (if kept), how long it stays quiet, and each rule set's cell for it.
    slots: dict[str, tuple[list[Stamped] | None, int, list[tuple[_Replay, _Cell | None]]]] = {}
    group: int | None = None
    changed, soonest = False, _NEVER
    for reading in readings:
        at, metric, value = reading
        if at != group:
            if changed or soonest < at:
                # the same calls, in the same order, as one pass per rule set would make
                for run in runs:
                    if group is not None and (run.changed or run.rederive or run.next_due <= group):
                        run.settle(group)
                    if run.next_due < at:
                        run.catch_up(at)
                    run.changed = run.rederive = False
                soonest = min(run.next_due for run in runs)
            group, changed = at, False
        slot = slots.get(metric)
        if slot is None:
            cells = [(run, run.cells.get(metric)) for run in runs]
            slot = slots[metric] = (history.get(metric), quiet_for.get(metric, _NEVER), cells)
        points, quiet_gap, cells = slot
        previous = latest.get(metric)
        latest[metric] = reading
        if points is not None and not isinstance(value, (bool, str)):  # a tuple checks faster than a union
            points.append(reading)
        # A quiet reading only counts as a new kind of value.
        quiet = previous is not None and at - previous[0] <= quiet_gap
        if quiet and previous is not None and previous[2] == value:
            continue
        for run, cell in cells:
            if quiet and cell is not None and (kind := cell.memo.get(value)) is not None and kind is cell.kind:
                continue
            run.add(at, metric, value, previous)
            changed = changed or run.changed or run.rederive
    for run in runs:
        if group is not None:
            run.settle(group)
        if until is not None:
            run.catch_up(micros(until))
    return [
        ReplayResult(tuple(run.book.openings), len(readings), run.evaluations, tuple(run.book.episodes)) for run in runs
    ]
