"""`evaluate(context, ruleset, now, active=...) -> list[Finding]`: every rule family for one patient.

Shared by the live worker, preview/backtest (rules.core.replay) and the golden tests (rules.golden).
- `active`: rule ids of the patient's alerts that are open now. Thresholds use it for hysteresis (an open
  alert keeps firing until the value is back inside by the margin); nothing else depends on it.
- `trends`: trend findings to reuse instead of running the trend rules, whose outcome depends only on the
  trend metrics' series (replay passes them between new trend values); None (the default) runs them.
- `evaluate_scored(...) -> (findings, News2Result)`: the same, with the score it rests on (the worker).
- `score_news2(context, ruleset, now) -> News2Result`: the score for the triage list (not applicable
  for under-16s and pregnancy, incomplete when a parameter is missing or older than its window).
- `stream_values(latest, scale, streams, series)`: the values NEWS2 scores, a stream's as its summary.

Rule ids: "news2", "news2_incomplete", "threshold:<metric>:<low|high>", "trend:<name>", "overdue:<name>",
"device_offline:<device_id>", "battery_low:<device_id>", "clock_skew:<device_id>", "patient_concern",
"override_review:<metric>".
Every finding carries its reason (values, thresholds, ages), `auto_resolve` and a copy of its escalation policy.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from rules.core.model import EvaluationContext, Finding, Series
from rules.core.news2 import News2Result, applicability, assess, score_parameter, values_only
from rules.core.overrides import sort_overrides
from rules.core.ruleset import News2Stream, RuleSet
from rules.core.staleness import battery_low, clock_skewed, offline, overdue
from rules.core.streams import summarise
from rules.core.thresholds import SIDES, apply_override, breach, threshold_rule_id
from rules.core.trends import trend
from vward.domain.alerts import Severity
from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.readings import Observation


def score_news2(context: EvaluationContext, ruleset: RuleSet, now: datetime) -> News2Result:
    """NEWS2 of the latest observations (a stream's as its robust summary), with the rule set's freshness
    windows."""
    return _scored(context, ruleset, now, _series(context))[0]


def _scored(
    context: EvaluationContext, ruleset: RuleSet, now: datetime, series: Mapping[str, Series]
) -> tuple[News2Result, dict[str, Any]]:
    """The score and, per stream, what entered it (median of how many samples, artefacts rejected)."""
    latest, streams = stream_values(context.latest, context.patient.spo2_scale, ruleset.news2.streams, series)
    result = assess(latest, scale=context.patient.spo2_scale, now=now, freshness=ruleset.news2.freshness())
    reason = applicability(context.patient, now)
    return (result if reason is None else values_only(result, reason)), streams


def _shown(parameter: str) -> str:
    """A NEWS2 parameter as a nurse reads it in an alert's title ("Respiratory rate", not respiratory_rate)."""
    return METRIC_SPECS[Metric(parameter)].display


def stream_values(
    observed: Mapping[str, Observation], scale: int, streams: Mapping[Metric, News2Stream], series: Mapping[str, Series]
) -> tuple[dict[str, Observation], dict[str, Any]]:
    """The latest observations with each declared stream's newest sample replaced by its summary over the
    samples in `series` (time order) up to it; shared by the worker and the NEWS2 chart."""
    latest = dict(observed)
    explained: dict[str, Any] = {}
    on_oxygen = getattr(latest.get(Metric.ON_OXYGEN), "value", False) is True
    for metric, rule in streams.items():
        newest = latest.get(metric)
        if newest is None:
            continue
        points = series.get(metric, ())
        points = points[: bisect_right(points, newest.measured_at, key=_time)]  # in time order (EvaluationContext)
        summary = summarise(points, rule.stream(), partial(_score, metric, scale, on_oxygen))
        if summary is None:
            continue
        latest[metric] = Observation(metric, summary.value, summary.measured_at)
        explained[str(metric)] = {
            "value": summary.value,
            "measured": newest.value,
            "samples": summary.samples,
            "artefacts": summary.artefacts,
            "window_seconds": rule.window_seconds,
            "confirmed_severe": summary.confirmed_severe,
        }
    return latest, explained


def _time(point: tuple[datetime, float]) -> datetime:
    return point[0]


def _score(metric: Metric, scale: int, on_oxygen: bool, value: float) -> int:
    return score_parameter(metric, value, scale=scale, on_oxygen=on_oxygen)


def _finding(
    ruleset: RuleSet,
    rule_id: str,
    severity: Severity,
    title: str,
    reason: dict[str, Any],
    *,
    auto_resolve: bool,
    policy: str | None,
) -> Finding:
    return Finding(rule_id, severity, title, reason, auto_resolve, ruleset.policy_snapshot(severity, policy))


def _gap_since(context: EvaluationContext, result: News2Result, ruleset: RuleSet) -> datetime:
    """When the oldest gap in the set began: a parameter never measured this admission, at admission; one
    that went stale, when its window ran out; one the chart cannot score, when it was measured."""
    freshness = ruleset.news2.freshness()
    starts = []
    for parameter in (*result.missing, *result.stale):
        last = context.latest.get(parameter)
        if last is None:
            starts.append(context.patient.admitted_at)
        else:
            starts.append(last.measured_at + (freshness[parameter] if parameter in result.stale else timedelta(0)))
    return min(starts)


def _news2(
    context: EvaluationContext, ruleset: RuleSet, scored: tuple[News2Result, dict[str, Any]], now: datetime
) -> list[Finding]:
    """The band alert, and for a set incomplete for `incomplete_after_minutes` the gap (a kit's first minute, a
    spot check a little late, is not a gap to alert). A missing parameter can only add points, so an
    incomplete set whose known parameters already reach a band alerts as at least that band at once ("NEWS2
    at least 7 (temperature missing)"): a gap in the data never lowers or delays an escalation."""
    rules = ruleset.news2
    result, streams = scored
    if not rules.enabled or not result.applicable:
        return []
    findings = []
    absent = ", ".join([*map(_shown, result.missing), *(f"{_shown(p)} (stale)" for p in result.stale)])
    held = timedelta(minutes=rules.incomplete_after_minutes)
    if not result.complete and now - _gap_since(context, result, ruleset) >= held:
        findings.append(
            _finding(
                ruleset,
                "news2_incomplete",
                rules.incomplete_severity,
                f"NEWS2 incomplete: {absent}",
                result.detail_json(),
                auto_resolve=True,
                policy=rules.escalation,
            )
        )
    score = result.score if result.complete else result.lower_bound
    matched = [
        a
        for a in rules.alerts
        if (a.min_score is not None and (score or 0) >= a.min_score) or (a.red_score and result.red_score)
    ]
    if not matched:
        return findings
    severity = max(a.severity for a in matched)
    reason = result.detail_json() | {"triggers": [a.model_dump(mode="json") for a in matched], "streams": streams}
    if result.complete:
        title = f"NEWS2 {score} ({result.band})"
    else:
        reason["at_least"] = score
        title = f"NEWS2 at least {score} ({absent} missing)"
    return [
        *findings,
        _finding(ruleset, "news2", severity, title, reason, auto_resolve=False, policy=rules.escalation),
    ]


def _series(context: EvaluationContext) -> Mapping[str, Series]:
    """Numeric values per metric, oldest first: the history window plus the latest value."""
    series: dict[str, Series]
    if context.series is not None:
        series = dict(context.series)
    else:
        points: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for obs in context.history:
            if not isinstance(obs.value, bool | str):
                points[obs.metric].append((obs.measured_at, float(obs.value)))
        series = dict(points)
    for metric, obs in context.latest.items():
        if isinstance(obs.value, bool | str):
            continue
        known = series.get(metric, ())
        if not known or known[-1][0] < obs.measured_at:
            series[metric] = [*known, (obs.measured_at, float(obs.value))]
    return series


def _thresholds(
    context: EvaluationContext, ruleset: RuleSet, now: datetime, active: frozenset[str], series: Mapping[str, Series]
) -> list[Finding]:
    overrides = sort_overrides(context.overrides, now)
    thresholds = dict(ruleset.for_pathway(context.patient.pathway).thresholds)
    for metric, override in overrides.active.items():
        thresholds[metric] = apply_override(thresholds.get(metric), override)
    findings = [
        _finding(
            ruleset,
            f"override_review:{metric}",
            ruleset.override_review_severity,
            f"Threshold override for {metric} needs review",
            why,
            auto_resolve=True,
            policy=None,
        )
        for metric, why in overrides.review
    ]
    for metric, threshold in thresholds.items():
        for side in SIDES:
            rule_id = threshold_rule_id(metric, side)
            hit = breach(threshold, side, series.get(metric, ()), now=now, active=rule_id in active)
            if hit is None:
                continue
            spec = METRIC_SPECS[metric]
            patient_override = overrides.active.get(metric)
            reason = {
                "metric": str(metric),
                "side": side,
                "value": hit.value,
                "bound": hit.bound,
                "measured_at": hit.measured_at.isoformat(),
                "outside_since": hit.outside_since.isoformat(),
                "age_minutes": round((now - hit.measured_at).total_seconds() / 60, 1),
                "hold_minutes": threshold.hold_minutes,
                "hysteresis": threshold.hysteresis,
                "override": None if patient_override is None else patient_override.model_dump(mode="json"),
            }
            word = "at or below" if side == "low" else "at or above"
            title = f"{spec.display} {hit.value:g} {spec.shown_unit} ({word} {hit.bound:g})"
            findings.append(
                _finding(
                    ruleset,
                    rule_id,
                    hit.severity,
                    title,
                    reason,
                    auto_resolve=threshold.auto_resolve,
                    policy=threshold.escalation,
                )
            )
    return findings


def _trends(context: EvaluationContext, ruleset: RuleSet, series: Mapping[str, Series]) -> list[Finding]:
    findings = []
    for rule in ruleset.for_pathway(context.patient.pathway).trends:
        evidence = trend(rule, series.get(rule.metric, ()))
        if evidence is not None:
            title = f"{METRIC_SPECS[rule.metric].display} {rule.direction}: {evidence['change']:g}"
            findings.append(
                _finding(
                    ruleset,
                    f"trend:{rule.name}",
                    rule.severity,
                    title,
                    {"metric": str(rule.metric)} | evidence,
                    auto_resolve=rule.auto_resolve,
                    policy=rule.escalation,
                )
            )
    return findings


def _plans(context: EvaluationContext, ruleset: RuleSet, now: datetime) -> list[Finding]:
    findings = []
    for plan in ruleset.overdue_plans(context.patient):
        evidence = overdue(plan, context.latest, context.patient.admitted_at, now)
        if evidence is not None:
            findings.append(
                _finding(
                    ruleset,
                    f"overdue:{plan.name}",
                    plan.severity,
                    f"Overdue: {', '.join(evidence['metrics'])}",
                    evidence,
                    auto_resolve=plan.auto_resolve,
                    policy=plan.escalation,
                )
            )
    return findings


def _devices(context: EvaluationContext, ruleset: RuleSet, now: datetime) -> list[Finding]:
    rules = ruleset.devices
    findings = []
    for device in context.devices:
        silent = offline(device, timedelta(minutes=rules.offline_after_minutes), now)
        if silent is not None:
            findings.append(
                _finding(
                    ruleset,
                    f"device_offline:{device.device_id}",
                    rules.offline_severity,
                    f"Device {device.device_id} offline",
                    silent,
                    auto_resolve=rules.auto_resolve,
                    policy=rules.escalation,
                )
            )
        flat = battery_low(device, rules.battery_low_below)
        if flat is not None:
            findings.append(
                _finding(
                    ruleset,
                    f"battery_low:{device.device_id}",
                    rules.battery_severity,
                    f"Device {device.device_id} battery {device.battery}%",
                    flat,
                    auto_resolve=rules.auto_resolve,
                    policy=rules.escalation,
                )
            )
        skew = clock_skewed(device, timedelta(seconds=rules.clock_skew_after_seconds))
        if skew is not None:
            findings.append(
                _finding(
                    ruleset,
                    f"clock_skew:{device.device_id}",
                    rules.clock_skew_severity,
                    _skew_title(device.device_id, skew["offset_seconds"]),
                    skew,
                    auto_resolve=rules.auto_resolve,
                    policy=rules.escalation,
                )
            )
    return findings


def _skew_title(device_id: str, offset_seconds: float) -> str:
    minutes = round(abs(offset_seconds) / 60)
    span = f"{minutes} min" if minutes else f"{abs(offset_seconds):.0f} s"
    if offset_seconds > 0:
        return f"Device {device_id} clock {span} fast: reading times corrected"
    return f"Device {device_id} readings arrive {span} late: clock slow or link delayed"


def _concern(context: EvaluationContext, ruleset: RuleSet, now: datetime) -> list[Finding]:
    rule = ruleset.patient_concern
    pressed = context.latest.get(Metric.PATIENT_CONCERN)
    if not rule.enabled or pressed is None or pressed.value is not True:
        return []
    if now - pressed.measured_at > timedelta(minutes=rule.window_minutes):
        return []
    if pressed.measured_at in context.handled_concerns:  # one press, one alert: resolved means handled
        return []
    reason = {"pressed_at": pressed.measured_at.isoformat(), "window_minutes": rule.window_minutes}
    return [
        _finding(
            ruleset,
            "patient_concern",
            rule.severity,
            "Patient reports feeling unwell",
            reason,
            auto_resolve=rule.auto_resolve,
            policy=rule.escalation,
        )
    ]


def evaluate(
    context: EvaluationContext,
    ruleset: RuleSet,
    now: datetime,
    *,
    active: frozenset[str] = frozenset(),
    trends: Sequence[Finding] | None = None,
) -> list[Finding]:
    """Every finding that holds for this patient at `now`, in a stable order (by rule id)."""
    return evaluate_scored(context, ruleset, now, active=active, trends=trends)[0]


def evaluate_scored(
    context: EvaluationContext,
    ruleset: RuleSet,
    now: datetime,
    *,
    active: frozenset[str] = frozenset(),
    trends: Sequence[Finding] | None = None,
) -> tuple[list[Finding], News2Result]:
    """`evaluate` and the NEWS2 score it rests on, computed once: the worker stores the score beside the
    findings (scoring a stream means medians over its window, not worth doing twice per evaluation)."""
    series = _series(context)
    scored = _scored(context, ruleset, now, series)
    findings = [
        *_news2(context, ruleset, scored, now),
        *_thresholds(context, ruleset, now, active, series),
        *(_trends(context, ruleset, series) if trends is None else trends),
        *_plans(context, ruleset, now),
        *_devices(context, ruleset, now),
        *_concern(context, ruleset, now),
    ]
    return sorted(findings, key=lambda f: f.rule_id), scored[0]
