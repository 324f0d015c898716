"""One patient's readings folded in time order into what evaluate() needs: latest values and recent history.

Golden tests and replay feed readings with `add(measured_at, metric, value)` and ask `context(...)` at each
evaluation time. Each metric keeps only the numeric history its rules look back over (`hold_minutes`, trend
lookback) plus the one value before that span, and hands it over as EvaluationContext.series.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rules.core.model import DeviceStatus, EvaluationContext
from rules.core.ruleset import RuleSet
from vward.domain.metrics import Metric
from vward.domain.patients import Patient
from vward.domain.readings import Observation, ReadingValue

_TRIM_AT = 64  # history points per metric before add() trims: bounds memory without trimming every reading


def lookbacks(patient: Patient, ruleset: RuleSet, *, trends: bool = True) -> dict[str, timedelta]:
    """How far back each metric's rules (NEWS2 streams, thresholds, and trends unless told not to) look for
    this patient."""
    rules = ruleset.for_pathway(patient.pathway)
    keep = {str(m): timedelta(minutes=t.hold_minutes) for m, t in rules.thresholds.items()}
    for metric, stream in ruleset.news2.streams.items():  # NEWS2 scores a stream from its recent samples
        keep[metric] = max(keep.get(metric, timedelta(0)), timedelta(seconds=stream.window_seconds))
    for trend in rules.trends if trends else ():
        keep[trend.metric] = max(keep.get(trend.metric, timedelta(0)), trend.lookback())
    return keep


def _tail(points: deque[tuple[datetime, float]], start: datetime) -> tuple[tuple[datetime, float], ...]:
    """The points from `start` on, plus the one before: read from the right, so long histories cost nothing."""
    tail = []
    for point in reversed(points):
        tail.append(point)
        if point[0] <= start:
            break
    return tuple(reversed(tail))


class PatientWindow:
    def __init__(self, patient: Patient, ruleset: RuleSet) -> None:
        self.patient = patient
        self.keep = lookbacks(patient, ruleset)
        self.holds = lookbacks(patient, ruleset, trends=False)
        self.latest: dict[str, tuple[datetime, ReadingValue]] = {}
        self.history: dict[str, deque[tuple[datetime, float]]] = {m: deque() for m in self.keep}

    def add(self, measured_at: datetime, metric: str, value: ReadingValue) -> tuple[datetime, ReadingValue] | None:
        """Fold in one reading (readings arrive oldest first); returns the metric's latest before it."""
        known = self.latest.get(metric)
        if known is None or known[0] <= measured_at:
            self.latest[metric] = (measured_at, value)
        points = self.history.get(metric)
        if points is not None and not isinstance(value, (bool, str)):  # a tuple checks faster than a union
            points.append((measured_at, float(value)))
            if len(points) > _TRIM_AT:
                self._trim(metric, measured_at)
        return known

    def _trim(self, metric: str, now: datetime) -> None:
        """Drop what the rules no longer look at, keeping the one value from before their span."""
        points = self.history[metric]
        start = now - self.keep[metric]
        while len(points) >= 2 and points[1][0] <= start:
            points.popleft()

    def context(
        self,
        now: datetime,
        devices: Sequence[DeviceStatus] = (),
        overrides: Sequence[Mapping[str, Any]] = (),
        *,
        trend_history: bool = True,
    ) -> EvaluationContext:
        """The context at `now` (every reading added so far is at or before it). Without `trend_history`
        the series cover only threshold holds: for evaluate(..., trends=...) which reuses trend findings."""
        latest = {m: Observation(Metric(m), v, t) for m, (t, v) in self.latest.items() if t <= now}
        series = {}
        for metric, points in self.history.items():
            self._trim(metric, now)
            if trend_history:
                series[metric] = tuple(points)
            else:
                series[metric] = _tail(points, now - self.holds.get(metric, timedelta(0)))
        return EvaluationContext(
            self.patient, latest, (), tuple(devices), tuple(dict(o) for o in overrides), series=series
        )
