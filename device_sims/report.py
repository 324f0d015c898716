"""The clinical evaluation as a markdown report: targets, detection per scenario, agreement and noise."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from device_sims.core.scenarios import ScenarioKind
from device_sims.evaluation import (
    EVALUATION_START,
    NEWS2_ALERT_AT,
    Agreement,
    EvaluationResult,
    PatientOutcome,
    burden,
    smoothing_delays,
    stable_alert_rate,
    targets,
)

_REASON_CHARS = 200  # keep the noise table readable; the full reason is in the alert itself


def _hours(delta: timedelta | None) -> str:
    return "-" if delta is None else f"{delta.total_seconds() / 3600:+.1f} h"


def _since_start(at: datetime | None) -> str:
    return "-" if at is None else _hours(at - EVALUATION_START)


def _pct(part: int, whole: int) -> str:
    return "-" if not whole else f"{100 * part / whole:.1f} %"


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def render(result: EvaluationResult, command: str, before: EvaluationResult | None = None) -> str:
    c = result.config
    met = targets(result)
    lines = [
        "# Clinical evaluation of the simulated ward",
        "",
        f"Rule set **{result.ruleset}**; {len(result.outcomes)} simulated patients, seed {c.seed}; patch every "
        f"{_span(c.patch_every)} (the demo's: 5 s), spot checks at their real cadence, re-evaluation every "
        f"{_span(c.reeval_every)}; stable patients followed {c.stable_days * 24:g} h, deteriorations until "
        f"{_hours(c.after_alert)} after their first alert (at most {_hours(c.after_course)} after their full "
        "course). Staff acknowledge and close alerts at the RCP's response times, a clinical alert only once "
        "its condition has cleared. Regenerate with:",
        "",
        f"    {command}",
        "",
        "Every patient's readings run through the live rule code (PatientWindow -> evaluate -> reconcile ->",
        "AlertBook, as the rules worker and golden tests do), evaluated at each arriving message and on the",
        "periodic re-evaluation. Times are hours from the start of the run (admission) or from onset.",
        "Alerts in the first seconds of admission, while the kit's first readings arrive, are not counted.",
        "",
        "## Targets",
        "",
        *_table(["target", "measured", "met"], [(t.name, t.measured, "yes" if t.met else "**no**") for t in met]),
        *([] if before is None else _before_after(before, result)),
        *_scenarios(result.outcomes),
        *_deteriorations(result.outcomes),
        *_stable(result),
        *_agreement(result.outcomes),
        *_noise(result.outcomes),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _scenarios(outcomes: tuple[PatientOutcome, ...]) -> list[str]:
    rows = []
    for kind in ScenarioKind:
        group = [o for o in outcomes if o.patient.scenario.kind is kind]
        if not group or kind is ScenarioKind.STABLE:
            continue
        clinical = kind is not ScenarioKind.DEVICE_FAILURE
        firsts = [(o, o.first_alert_after_onset(clinical)) for o in group]
        delays = [(a.at - o.onset).total_seconds() / 3600 for o, a in firsts if a is not None and o.onset]
        crossed = [o for o in group if o.crossed_at is not None]
        timely = [o for o in crossed if o.evaluations_to_alert is not None and o.evaluations_to_alert <= 1]
        rules = Counter(a.rule_id.split(":")[0] for _, a in firsts if a is not None)
        rows.append(
            (
                kind.value,
                len(group),
                f"{len(delays)}/{len(group)}",
                "-" if not delays else f"{statistics.median(delays):.1f} h",
                f"{len(crossed)}/{len(group)}",
                f"{len(timely)}/{len(crossed)}",
                ", ".join(f"{r} x{n}" for r, n in rules.most_common()),
                group[0].patient.scenario.expected_escalation,
            )
        )
    header = [
        "scenario",
        "patients",
        "alerted after onset",
        "median onset -> first alert",
        f"reached NEWS2 >= {NEWS2_ALERT_AT}",
        "alerted within 1 evaluation",
        "first alert by rule",
        "expected escalation",
    ]
    intro = [
        "## Detection per scenario",
        "",
        "First alert: the first clinical alert after onset (for a silent device failure, the first device or",
        "data-quality alert). Within one evaluation: an alert was already open, or opened at the evaluation",
        f"where the platform's NEWS2 first reached {NEWS2_ALERT_AT} or the next one.",
        "",
    ]
    return [*intro, *_table(header, rows)]


def _deteriorations(outcomes: tuple[PatientOutcome, ...]) -> list[str]:
    rows = []
    for o in outcomes:
        kind = o.patient.scenario.kind
        if kind is ScenarioKind.STABLE or o.onset is None:
            continue
        first = o.first_alert_after_onset(kind is not ScenarioKind.DEVICE_FAILURE)
        rows.append(
            (
                o.patient.mrn,
                kind.value,
                o.patient.pathway.value,
                _since_start(o.onset),
                "-" if first is None else f"{first.rule_id} ({first.opening.severity.name.lower()})",
                "-" if first is None else _hours(first.at - o.onset),
                "-" if o.crossed_at is None else _hours(o.crossed_at - o.onset),
                "-" if o.evaluations_to_alert is None else o.evaluations_to_alert,
            )
        )
    header = [
        "patient",
        "scenario",
        "pathway",
        "onset",
        "first alert after onset",
        "after onset",
        f"NEWS2 >= {NEWS2_ALERT_AT} after onset",
        "evaluations from crossing to alert",
    ]
    intro = [
        "## Every deterioration",
        "",
        "Negative evaluations from crossing to alert: the ward was already alerted (a trend, a threshold or the",
        'patient\'s own "I feel unwell") before NEWS2 reached the threshold.',
        "",
    ]
    return [*intro, *_table(header, rows)]


def _delays(result: EvaluationResult) -> str:
    delays = sorted(d.total_seconds() for d in smoothing_delays(result))
    if not delays:
        return "-"
    return f"median {statistics.median(delays):.0f} s, largest {delays[-1]:.0f} s over {len(delays)}"


def _before_after(before: EvaluationResult, after: EvaluationResult) -> list[str]:
    """The same ward through the rule set as it ran before streams and episodes, and through this one."""
    was, now = burden(before), burden(after)

    def row(name: str, value: Any) -> tuple[str, str, str]:
        return name, value(was), value(now)

    rows = [
        row("deteriorations alerted after onset", lambda b: f"{b.detected}/{b.deteriorations}"),
        row(
            "median onset -> first alert",
            lambda b: f"{statistics.median(b.detection_hours):.2f} h" if b.detection_hours else "-",
        ),
        row("alerts per patient-day", lambda b: f"{b.alerts / b.patient_days:.2f}"),
        row("notifications per patient-day", lambda b: f"{b.notifications / b.patient_days:.2f}"),
        row("state changes per open alert-hour", lambda b: f"{b.state_changes / b.open_alert_hours:.2f}"),
        row("stable patients' alerts per patient-day", lambda b: f"{b.stable_per_day:.2f}"),
        ("delay from the measured truth reaching NEWS2 5 to the alert", _delays(before), _delays(after)),
    ]
    return [
        "## Before and after",
        "",
        f"Before: **{before.ruleset}** (each sample scored as measured, an alert clearing the moment its",
        "condition goes, a gap alerted at once); after: this rule set. Same ward, same readings, same staff model.",
        "Notifications are counted with today's notifier for both (before this round an acknowledged alert that",
        "cleared and returned was notified again, so the old figure was higher still).",
        "",
        *_table(["", "before", "after"], rows),
        "Delay from the measured truth: per deterioration, from the moment the true (noise-free) values of what",
        "the devices had measured scored NEWS2 5 to the first alert after onset, 0 if the ward was alerted",
        "before. A cuff read every 4 hours cannot show a pressure that fell since, with or without smoothing,",
        "so that wait is not the smoothing's. The earlier median onset -> first alert of the per-sample set is",
        "its noise: a single noisy sample crossing a band while the true value still sits below it. A",
        "deterioration is followed until 2 h after its first alert, so the per-sample set, alerted early by its",
        "noise, is mostly no longer followed when the measured truth reaches 5: its count is smaller.",
        "",
    ]


def _stable(result: EvaluationResult) -> list[str]:
    stable = [o for o in result.outcomes if o.patient.scenario.kind is ScenarioKind.STABLE]
    days = sum(o.followed.total_seconds() for o in stable) / 86400
    by_rule = Counter(a.rule_id.split(":")[0] for o in stable for a in o.alerts)
    return [
        "## Stable patients",
        "",
        f"{len(stable)} patients over {days:.1f} patient-days raised {sum(by_rule.values())} alerts: "
        f"**{stable_alert_rate(result):.2f} per patient-day**.",
        "",
        *_table(["rule", "alerts", "per patient-day"], [(r, n, f"{n / days:.2f}") for r, n in by_rule.most_common()]),
    ]


def _agreement(outcomes: tuple[PatientOutcome, ...]) -> list[str]:
    rows = []
    total = Agreement()
    for kind in ScenarioKind:
        a = Agreement()
        for o in outcomes:
            if o.patient.scenario.kind is kind:
                a = a.merge(o.agreement)
        total = total.merge(a)
        if a.compared:
            rows.append(
                (
                    kind.value,
                    a.compared,
                    _pct(a.exact, a.compared),
                    _pct(a.within_one, a.compared),
                    _pct(a.same_band, a.compared),
                )
            )
    rows.append(
        (
            "all",
            total.compared,
            _pct(total.exact, total.compared),
            _pct(total.within_one, total.compared),
            _pct(total.same_band, total.compared),
        )
    )
    intro = [
        "## NEWS2 agreement",
        "",
        "At every evaluation with a complete score: the platform's NEWS2 (latest device readings, with noise,",
        "artefacts and spot-check age) against the true NEWS2 of the simulated physiology at that moment.",
        "",
    ]
    return [*intro, *_table(["scenario", "evaluations", "exact", "within 1", "same band"], rows)]


def _why(reason: dict[str, Any]) -> str:
    """The part of a finding's reason a reader needs: scoring parameters for NEWS2, the value otherwise."""
    parameters = reason.get("parameters")
    if isinstance(parameters, dict):
        parts = [
            f"{name} {p.get('value')} ({p.get('status') if p.get('score') is None else p.get('score')})"
            for name, p in parameters.items()
            if isinstance(p, dict) and (p.get("score") or p.get("status") != "ok")
        ]
        text = ", ".join(parts)
    else:
        text = json.dumps(
            {k: v for k, v in reason.items() if not k.endswith(("_at", "_since"))}, default=str, separators=(",", ":")
        )
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 3] + "..."


def _noise(outcomes: tuple[PatientOutcome, ...]) -> list[str]:
    rows = []
    for o in outcomes:
        for a in o.noise():
            reason = _why(a.reason)
            rows.append(
                (
                    o.patient.mrn,
                    o.patient.scenario.kind.value,
                    _since_start(a.at),
                    a.rule_id,
                    a.opening.severity.name.lower(),
                    a.title,
                    f"`{reason}`",
                )
            )
    intro = [
        "## Which alerts were noise",
        "",
        "Alerts with nothing clinical to find: any alert on a stable patient, any alert before a deterioration",
        "began, and clinical alerts on a patient whose only problem is a silent device. The reason is the",
        "finding's own, as the nurse would see it.",
        "",
    ]
    if not rows:
        return [*intro, "None.", ""]
    return [*intro, *_table(["patient", "scenario", "at", "rule", "severity", "title", "reason"], rows)]
