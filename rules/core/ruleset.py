"""Rule sets as versioned data: pydantic models (extra keys refused) loaded from YAML or JSON.

Public API:
- `parse_ruleset(text, source="<text>") -> RuleSet` and `load_ruleset(path) -> RuleSet`; both raise
  `RuleSetError` whose message lists every problem as `line N: path.to.field: what is wrong` (shown to ops
  staff, who fix it in the text).
- `default_ruleset() -> RuleSet`: the shipped rules/rulesets/default.yaml.
- `RuleSet.for_pathway(pathway) -> PathwayRules`: the thresholds, trends and overdue plans in force for a
  pathway (the template's thresholds replace the base ones of the same metric; `enable`/`disable` switch
  named trend and overdue rules).
- `RuleSet.policy_snapshot(severity, policy_name=None) -> dict`: the escalation policy copied into a finding.
- `RuleSet.history_window() -> timedelta`: how much history the worker must load for trends and `hold_minutes`.
- `ThresholdOverride`: a per-patient bound with a reason and an expiry (EvaluationContext.overrides).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from rules.core.news2 import NUMERIC_PARAMETERS, PARAMETERS
from rules.core.streams import StreamWindow
from rules.core.yaml_lines import document_root, line_of
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric
from vward.domain.patients import Pathway, Patient

DEFAULT_RULESET_PATH = Path(__file__).resolve().parents[1] / "rulesets" / "default.yaml"


class RuleSetError(ValueError):
    """A rule set that cannot be used; the message names every offending field."""


def _severity(value: Any) -> Any:
    """Accept severity names as people write them ("medium", "HIGH") as well as numbers."""
    if not isinstance(value, str):
        return value
    if value.upper() not in Severity.__members__:
        names = ", ".join(s.name.lower() for s in Severity)
        raise ValueError(f"severity must be one of {names}, not {value!r}")
    return Severity[value.upper()]


SeverityName = Annotated[Severity, BeforeValidator(_severity)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,48}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with fresh derived caches: cached pathway rules or windows of the original would be stale."""
        copied = super().model_copy(update=update, deep=deep)
        for name, private in self.__private_attributes__.items():
            setattr(copied, name, private.get_default(call_default_factory=True))
        return copied


class Tier(_Strict):
    """One step of an escalation: who is told, how, and how long after the alert opened."""

    after_minutes: int = Field(ge=0)
    target: str = Field(min_length=1)
    channel: str = Field(min_length=1)


class EscalationPolicy(_Strict):
    """Tiers in order; the last tier is re-notified every `renotify_minutes` until someone acknowledges."""

    tiers: list[Tier] = Field(min_length=1)
    renotify_minutes: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _tiers_in_order(self) -> EscalationPolicy:
        delays = [t.after_minutes for t in self.tiers]
        if delays != sorted(delays):
            raise ValueError(f"tiers must be in order of after_minutes, got {delays}")
        return self


class News2Alert(_Strict):
    """Fires at `min_score` and above, or (with `red_score`) when any single parameter scores 3."""

    severity: SeverityName
    min_score: int | None = Field(default=None, ge=0, le=20)
    red_score: bool = False

    @model_validator(mode="after")
    def _has_trigger(self) -> News2Alert:
        if self.min_score is None and not self.red_score:
            raise ValueError("give min_score, red_score: true, or both")
        return self


class News2Stream(_Strict):
    """How a continuous stream's samples become the value NEWS2 scores (rules.core.streams)."""

    window_seconds: int = Field(gt=0, le=3600)
    min_samples: int = Field(default=3, ge=2)
    spike: float = Field(gt=0, description="an isolated sample this far from its agreeing neighbours is artefact")

    def stream(self) -> StreamWindow:
        return StreamWindow(timedelta(seconds=self.window_seconds), self.min_samples, self.spike)


class News2Rules(_Strict):
    enabled: bool = True
    freshness_minutes: dict[Metric, Annotated[int, Field(gt=0)]]
    # Continuous streams scored from a robust summary of their last samples; other sources as measured.
    streams: dict[Metric, News2Stream] = {}
    alerts: list[News2Alert] = Field(min_length=1)
    incomplete_severity: SeverityName = Severity.LOW
    # news2_incomplete waits this long after a gap begins (admission, a window running out); the lower-bound
    # NEWS2 alert of an incomplete set never waits.
    incomplete_after_minutes: int = Field(default=10, ge=0, le=1440)
    escalation: str | None = None
    _freshness: dict[str, timedelta] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _every_parameter_has_a_window(self) -> News2Rules:
        absent = [str(m) for m in PARAMETERS if m not in self.freshness_minutes]
        if absent:
            raise ValueError(f"freshness_minutes needs a window for {', '.join(absent)}")
        return self

    @model_validator(mode="after")
    def _streams_are_numeric_parameters(self) -> News2Rules:
        wrong = [str(m) for m in self.streams if m not in NUMERIC_PARAMETERS]
        if wrong:
            raise ValueError(f"streams are numeric NEWS2 parameters; not {', '.join(wrong)}")
        return self

    def freshness(self) -> dict[str, timedelta]:
        if not self._freshness:
            self._freshness.update({str(m): timedelta(minutes=v) for m, v in self.freshness_minutes.items()})
        return self._freshness


class LowBound(_Strict):
    at_or_below: float
    severity: SeverityName


class HighBound(_Strict):
    at_or_above: float
    severity: SeverityName


class MetricThreshold(_Strict):
    """Bounds on one metric; `hold_minutes` is the "outside for N minutes" of continuous wearables and
    `hysteresis` how far back inside a bound a value must come before an open alert stops firing; a value
    older than `max_age_minutes` fires nothing (the no-data rules speak for it)."""

    metric: Metric
    low: list[LowBound] = []
    high: list[HighBound] = []
    hold_minutes: int = Field(default=0, ge=0)
    hysteresis: float = Field(default=0, ge=0)
    max_age_minutes: int | None = Field(default=None, gt=0)
    auto_resolve: bool = False
    escalation: str | None = None

    @model_validator(mode="after")
    def _tiers_step_outwards(self) -> MetricThreshold:
        if not self.low and not self.high:
            raise ValueError(f"{self.metric}: give at least one low or high bound")
        lows = [(-b.at_or_below, b.severity) for b in self.low]
        highs = [(b.at_or_above, b.severity) for b in self.high]
        for side, bounds in (("low", lows), ("high", highs)):
            if any(a[0] >= b[0] or a[1] >= b[1] for a, b in itertools.pairwise(bounds)):
                raise ValueError(
                    f"{self.metric}: each further-out {side} bound needs a more extreme value and a higher severity"
                )
        return self


class TrendWindow(_Strict):
    """A change of at least `change` (in the metric's unit) within `hours`."""

    hours: float = Field(gt=0)
    change: float = Field(gt=0)


class BaselineChange(_Strict):
    """A change from the patient's own baseline: the median over `days` before the latest `exclude_hours`."""

    days: float = Field(gt=0)
    exclude_hours: float = Field(default=24, ge=0)
    change: float | None = Field(default=None, gt=0)
    percent: float | None = Field(default=None, gt=0)
    min_samples: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _one_measure(self) -> BaselineChange:
        if (self.change is None) == (self.percent is None):
            raise ValueError("give exactly one of change (absolute) or percent")
        return self


class TrendRule(_Strict):
    """Rule id `trend:<name>`: a rise or fall within windows, or away from the patient's baseline."""

    name: Name
    metric: Metric
    direction: Literal["rise", "fall"]
    windows: list[TrendWindow] = []
    baseline: BaselineChange | None = None
    severity: SeverityName = Severity.MEDIUM
    enabled: bool = True
    auto_resolve: bool = False
    escalation: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TrendRule:
        if bool(self.windows) == (self.baseline is not None):
            raise ValueError(f"trend {self.name}: give either windows or baseline, not both or neither")
        return self

    def lookback(self) -> timedelta:
        if self.baseline is not None:
            return timedelta(days=self.baseline.days, hours=self.baseline.exclude_hours)
        return timedelta(hours=max(w.hours for w in self.windows))


class OverduePlan(_Strict):
    """Rule id `overdue:<name>`: one of `metrics` is expected every `every_hours` (plus grace)."""

    name: Name
    metrics: list[Metric] = Field(min_length=1)
    every_hours: float = Field(gt=0)
    grace_minutes: int = Field(default=0, ge=0)
    severity: SeverityName = Severity.LOW
    enabled: bool = True
    auto_resolve: bool = True
    escalation: str | None = None

    def due_after(self) -> timedelta:
        return timedelta(hours=self.every_hours, minutes=self.grace_minutes)


class DeviceRules(_Strict):
    """Rule ids `device_offline:<device_id>`, `battery_low:<device_id>` and `clock_skew:<device_id>` (a device
    clock ahead or behind by more than `clock_skew_after_seconds`: for ops); machines may auto-resolve."""

    offline_after_minutes: int = Field(default=60, gt=0)
    offline_severity: SeverityName = Severity.LOW
    battery_low_below: int = Field(default=20, ge=0, le=100)
    battery_severity: SeverityName = Severity.LOW
    clock_skew_after_seconds: int = Field(default=60, ge=30)
    clock_skew_severity: SeverityName = Severity.LOW
    auto_resolve: bool = True
    escalation: str | None = None


class ConcernRule(_Strict):
    """Rule id `patient_concern`: the "I feel unwell" button pressed within `window_minutes`."""

    enabled: bool = True
    severity: SeverityName = Severity.MEDIUM
    window_minutes: int = Field(default=1440, gt=0)
    auto_resolve: bool = False
    escalation: str | None = None


class PathwayTemplate(_Strict):
    """How a pathway differs from the base rules: replacement thresholds, rules switched on or off."""

    description: str = ""
    thresholds: list[MetricThreshold] = []
    enable: list[str] = []
    disable: list[str] = []


class ThresholdOverride(_Strict):
    """A clinician's per-patient bound for one metric; ignored (and flagged for review) once expired."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    metric: Metric
    low: float | None = None
    high: float | None = None
    reason: str = Field(min_length=1)
    expires_at: datetime


class PathwayRules(_Strict):
    """The rules in force for one pathway, ready to evaluate."""

    thresholds: dict[Metric, MetricThreshold]
    trends: list[TrendRule]
    overdue: list[OverduePlan]


class RuleSet(_Strict):
    name: str = Field(min_length=1)
    version: int = Field(default=1, ge=1)
    description: str = ""
    escalation_policies: dict[Name, EscalationPolicy] = Field(min_length=1)
    escalation_by_severity: dict[SeverityName, str]
    news2: News2Rules
    thresholds: list[MetricThreshold] = []
    trends: list[TrendRule] = []
    overdue: list[OverduePlan] = []
    devices: DeviceRules = DeviceRules()
    patient_concern: ConcernRule = ConcernRule()
    override_review_severity: SeverityName = Severity.LOW
    # An alert episode: a clinical alert whose condition goes away clears only after it has stayed away this
    # long; back sooner, it is the same episode (no new event, notification or lost acknowledgement).
    clear_after_minutes: int = Field(default=15, ge=0, le=24 * 60)
    pathways: dict[Pathway, PathwayTemplate] = {}
    # Derived once per rule set: evaluation asks for them on every patient, replay millions of times.
    _pathway_rules: dict[Pathway, PathwayRules] = PrivateAttr(default_factory=dict)
    _overdue_plans: dict[tuple[Pathway, tuple[tuple[Metric, float], ...]], list[OverduePlan]] = PrivateAttr(
        default_factory=dict
    )
    _policies: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references_resolve(self) -> RuleSet:
        problems = self._policy_problems() + self._name_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def clear_after(self) -> timedelta:
        return timedelta(minutes=self.clear_after_minutes)

    def _every_threshold(self) -> list[MetricThreshold]:
        return self.thresholds + [t for p in self.pathways.values() for t in p.thresholds]

    def _policy_problems(self) -> list[str]:
        problems = [
            f"escalation_by_severity has no policy for {s.name.lower()}"
            for s in (Severity.LOW, Severity.MEDIUM, Severity.HIGH)
            if s not in self.escalation_by_severity
        ]
        named: list[str | None] = [*self.escalation_by_severity.values()]
        named += [self.news2.escalation, self.devices.escalation, self.patient_concern.escalation]
        named += [t.escalation for t in self._every_threshold()]
        named += [r.escalation for r in self.trends] + [r.escalation for r in self.overdue]
        problems += [
            f"escalation policy {p!r} is not defined in escalation_policies"
            for p in dict.fromkeys(named)
            if p is not None and p not in self.escalation_policies
        ]
        return problems

    def _name_problems(self) -> list[str]:
        names = [r.name for r in self.trends] + [r.name for r in self.overdue]
        problems = [f"rule name {n!r} is used twice" for n in dict.fromkeys(names) if names.count(n) > 1]
        metrics = [t.metric for t in self.thresholds]
        problems += [f"thresholds for {m} are given twice" for m in dict.fromkeys(metrics) if metrics.count(m) > 1]
        for pathway, template in self.pathways.items():
            problems += [
                f"pathways.{pathway}: no trend or overdue rule is named {n!r}"
                for n in [*template.enable, *template.disable]
                if n not in names
            ]
        return problems

    def for_pathway(self, pathway: Pathway) -> PathwayRules:
        cached = self._pathway_rules.get(pathway)
        if cached is None:
            cached = self._pathway_rules[pathway] = self._build_pathway(pathway)
        return cached

    def _build_pathway(self, pathway: Pathway) -> PathwayRules:
        template = self.pathways.get(pathway, PathwayTemplate())
        thresholds = {t.metric: t for t in self.thresholds} | {t.metric: t for t in template.thresholds}

        def on(name: str, enabled: bool) -> bool:
            return name not in template.disable and (enabled or name in template.enable)

        return PathwayRules(
            thresholds=thresholds,
            trends=[t for t in self.trends if on(t.name, t.enabled)],
            overdue=[o for o in self.overdue if on(o.name, o.enabled)],
        )

    def overdue_plans(self, patient: Patient) -> list[OverduePlan]:
        """The pathway's overdue rules and, beside them, one per entry of the patient's own monitoring plan
        (rule id `overdue:plan_<metric>`): "blood pressure every 4 h" is overdue after 4 h."""
        key = (patient.pathway, patient.monitoring_plan)  # built once per kind of plan, not per evaluation
        cached = self._overdue_plans.get(key)
        if cached is None:
            own = [
                OverduePlan(name=f"plan_{metric}", metrics=[metric], every_hours=hours)
                for metric, hours in patient.monitoring_plan
            ]
            cached = self._overdue_plans[key] = [*self.for_pathway(patient.pathway).overdue, *own]
        return cached

    def policy_snapshot(self, severity: Severity, policy_name: str | None = None) -> dict[str, Any]:
        """The policy copied into a finding, so editing the rule set never changes a running escalation."""
        name = policy_name or self.escalation_by_severity.get(severity) or self.escalation_by_severity[Severity.LOW]
        dumped = self._policies.get(name)
        if dumped is None:
            dumped = self._policies[name] = self.escalation_policies[name].model_dump(mode="json")
        return {**dumped, "name": name, "tiers": [dict(t) for t in dumped["tiers"]]}

    def history_window(self) -> timedelta:
        spans = [t.lookback() for t in self.trends]
        spans += [timedelta(minutes=t.hold_minutes) for t in self._every_threshold()]
        return max(spans, default=timedelta(0))


def _describe(error: ValidationError, text: str) -> str:
    root = document_root(text)
    lines = []
    for problem in error.errors():
        path = [part for part in problem["loc"] if not str(part).startswith("function-")]
        where = ".".join(str(part) for part in path) or "(top level)"
        line = line_of(root, path)
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"  {'' if line is None else f'line {line}: '}{where}: {message}")
    return "\n".join(lines)


def parse_ruleset(text: str, source: str = "<text>") -> RuleSet:
    """Parse YAML (or JSON, which YAML reads too) into a validated rule set."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleSetError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RuleSetError(f"{source}: a rule set is a mapping of fields, got {type(data).__name__}")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError(f"{source}: rule set is not valid:\n{_describe(exc, text)}") from None


def load_ruleset(path: Path) -> RuleSet:
    return parse_ruleset(path.read_text(encoding="utf-8"), source=str(path))


def default_ruleset() -> RuleSet:
    return load_ruleset(DEFAULT_RULESET_PATH)
