"""Golden tests for rule sets, in the spirit of `promtool test rules` (`vward rules test FILE...`).

A test file names a rule set (relative to the file) and lists cases; each case has a patient, input series
over time, optional device status and overrides, and expected alerts at given times (an empty list asserts
nothing is open). Times are offsets from `start` ("0m", "90m", "2h", "3d", "-1d") or RFC 3339 times.
Replay uses the same code as the live worker: PatientWindow -> evaluate -> reconcile -> AlertBook.

    rule_set: default.yaml
    start: 2026-11-22T08:00:00Z
    tests:
      - name: copd patient at 89% on scale 2 raises nothing
        patient: {pathway: copd, spo2_scale: 2}
        series:
          - {metric: spo2, every: 5m, values: [89, 89, 89, 89]}   # at 0m, 5m, 10m, 15m (null skips one)
          - {metric: temperature, values: {0m: 37.0}}             # offset -> value
        devices:
          - {device_id: ox-1, kind: oximeter, metrics: [spo2], status: {0m: {online: true, battery: 80}}}
        expect:
          - {at: 15m, alerts: []}
          - {at: 2h, alerts: [{rule_id: news2, severity: medium}]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from rules.core.alertbook import AlertBook
from rules.core.evaluate import evaluate
from rules.core.model import DeviceStatus
from rules.core.reconcile import reconcile
from rules.core.ruleset import RuleSet, RuleSetError, SeverityName, load_ruleset
from rules.core.window import PatientWindow
from vward.domain.patients import Pathway, Patient
from vward.domain.readings import ReadingValue

_OFFSET = re.compile(r"^(-?\d+(?:\.\d+)?)(s|m|h|d)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _time(value: Any) -> datetime | timedelta:
    """Offsets like "90m" become timedeltas; RFC 3339 strings and YAML timestamps stay datetimes."""
    if isinstance(value, datetime | timedelta):
        return value
    text = str(value).strip()
    match = _OFFSET.match(text)
    if match:
        return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither an offset like 90m, 2h, 3d nor an RFC 3339 time") from None


When = Annotated[datetime | timedelta, BeforeValidator(_time)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldenPatient(_Strict):
    pathway: Pathway = Pathway.GENERAL
    spo2_scale: int = Field(default=1, ge=1, le=2)
    date_of_birth: date | None = date(1955, 6, 1)
    pregnant: bool = False
    admitted: When = timedelta(days=-1)


class SeriesInput(_Strict):
    metric: str
    values: dict[str, ReadingValue] | list[ReadingValue | None]
    every: When | None = None
    start: When = Field(default=timedelta(0), alias="from")


class DeviceInput(_Strict):
    device_id: str
    kind: str
    metrics: list[str] = []
    status: dict[str, dict[str, Any]] = {}


class ExpectedAlert(_Strict):
    rule_id: str
    severity: SeverityName
    muted: bool | None = None
    cleared: bool | None = None


class Expectation(_Strict):
    at: When
    alerts: list[ExpectedAlert]


class GoldenCase(_Strict):
    name: str
    patient: GoldenPatient = GoldenPatient()
    series: list[SeriesInput] = []
    devices: list[DeviceInput] = []
    overrides: list[dict[str, Any]] = []
    evaluate_every: When | None = None
    expect: list[Expectation] = Field(min_length=1)


class GoldenFile(_Strict):
    rule_set: str
    start: datetime = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    tests: list[GoldenCase] = Field(min_length=1)


@dataclass
class Report:
    """Every case's outcome; `text()` is what the CLI prints."""

    lines: list[str] = field(default_factory=list)
    failed: int = 0
    passed_cases: int = 0

    @property
    def passed(self) -> bool:
        return self.failed == 0 and self.passed_cases > 0

    def text(self) -> str:
        summary = f"{self.passed_cases} passed, {self.failed} failed"
        return "\n".join([*self.lines, summary])


class _Clock:
    """Turns offsets into times from the file's start."""

    def __init__(self, start: datetime) -> None:
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)

    def __call__(self, when: datetime | timedelta | str) -> datetime:
        value = _time(when)
        if isinstance(value, timedelta):
            return self.start + value
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def _readings(case: GoldenCase, at: _Clock) -> list[tuple[datetime, str, ReadingValue]]:
    readings = []
    for series in case.series:
        if isinstance(series.values, dict):
            readings += [(at(k), series.metric, v) for k, v in series.values.items()]
            continue
        step = series.every if isinstance(series.every, timedelta) else timedelta(minutes=1)
        first = at(series.start)
        readings += [(first + i * step, series.metric, v) for i, v in enumerate(series.values) if v is not None]
    return sorted(readings, key=lambda r: r[0])


def _devices(
    case: GoldenCase, at: _Clock, readings: list[tuple[datetime, str, ReadingValue]], now: datetime
) -> list[DeviceStatus]:
    devices = []
    for device in case.devices:
        reports = sorted((at(k), v) for k, v in device.status.items() if at(k) <= now)
        state: dict[str, Any] = {}
        for _, report in reports:
            state |= report
        seen = [t for t, _ in reports] + [t for t, m, _ in readings if m in device.metrics and t <= now]
        devices.append(
            DeviceStatus(
                device.device_id, device.kind, state.get("online"), state.get("battery"), max(seen, default=None)
            )
        )
    return devices


def _overrides(case: GoldenCase, at: _Clock) -> list[dict[str, Any]]:
    return [o | {"expires_at": at(o["expires_at"])} if "expires_at" in o else o for o in case.overrides]


def _eval_times(case: GoldenCase, at: _Clock, readings: list[tuple[datetime, str, ReadingValue]]) -> list[datetime]:
    times = {t for t, _, _ in readings} | {at(e.at) for e in case.expect}
    times |= {at(k) for d in case.devices for k in d.status}
    if isinstance(case.evaluate_every, timedelta) and case.evaluate_every > timedelta(0):
        tick, end = at(timedelta(0)), max(times)
        while tick <= end:
            times.add(tick)
            tick += case.evaluate_every
    return sorted(times)


def _describe(rule_id: str, severity: str, muted: bool | None, cleared: bool | None) -> str:
    flags = [name for name, on in (("muted", muted), ("cleared", cleared)) if on]
    return f"{rule_id} ({severity}{', ' + ', '.join(flags) if flags else ''})"


def _compare(expected: list[ExpectedAlert], book: AlertBook) -> list[str]:
    actual = {a.rule_id: a for a in book.open.values()}
    wanted = {e.rule_id: e for e in expected}
    problems = []
    for rule_id, e in sorted(wanted.items()):
        got = actual.get(rule_id)
        want_text = _describe(rule_id, e.severity.name.lower(), e.muted, e.cleared)
        if got is None:
            problems.append(f"  - missing:    {want_text}")
            continue
        same = got.severity == e.severity and e.muted in (None, got.muted) and e.cleared in (None, got.cleared)
        if not same:
            got_text = _describe(rule_id, got.severity.name.lower(), got.muted, got.cleared)
            problems.append(f"  ~ expected:   {want_text}\n    got:        {got_text}")
    problems += [
        f"  + unexpected: {_describe(r, a.severity.name.lower(), a.muted, a.cleared)}"
        for r, a in sorted(actual.items())
        if r not in wanted
    ]
    return problems


def run_case(case: GoldenCase, ruleset: RuleSet, start: datetime) -> list[str]:
    """Replay one case; the differences from its expectations, one line each (empty: it passed)."""
    at = _Clock(start)
    p = case.patient
    patient = Patient(
        1, "GOLDEN-1", case.name, "golden", p.pathway, p.spo2_scale, p.date_of_birth, p.pregnant, at(p.admitted)
    )
    readings = _readings(case, at)
    window, book = PatientWindow(patient, ruleset), AlertBook(patient.id)
    expectations = {at(e.at): e for e in case.expect}
    overrides, added, problems = _overrides(case, at), 0, []
    for now in _eval_times(case, at, readings):
        while added < len(readings) and readings[added][0] <= now:
            window.add(*readings[added])
            added += 1
        context = window.context(now, _devices(case, at, readings, now), overrides)
        findings = evaluate(context, ruleset, now, active=book.active())
        book.apply(reconcile(book.alerts(), findings, now, clear_after=ruleset.clear_after()), now)
        diff = _compare(expectations[now].alerts, book) if now in expectations else []
        if diff:
            problems += [f"  at {now.isoformat()} (+{now - at.start}):", *diff]
    return problems


def _load(path: Path) -> tuple[GoldenFile, RuleSet]:
    try:
        spec = GoldenFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RuleSetError(f"{path}: golden test file is not valid: {where}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise RuleSetError(f"{path}: cannot read golden test file: {exc}") from None
    return spec, load_ruleset(path.parent / spec.rule_set)


def run_files(paths: list[Path]) -> Report:
    report = Report()
    for path in paths:
        try:
            spec, ruleset = _load(path)
        except (RuleSetError, OSError) as exc:
            report.failed += 1
            report.lines.append(f"ERROR {exc}")
            continue
        for case in spec.tests:
            problems = run_case(case, ruleset, spec.start)
            if problems:
                report.failed += 1
                report.lines += [f"FAIL {path}: {case.name}", *problems]
            else:
                report.passed_cases += 1
                report.lines.append(f"ok   {path}: {case.name}")
    return report
