"""Alert burden: how many alerts staff face per ward and shift, which rules and patients make the noise,
and how a draft rule set would change that (preview)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from vward.contract.operations import AlertBurden
from vward.contract.rulesets import RuleSetPreview


@dataclass(frozen=True, slots=True)
class BurdenSummary:
    per_ward_shift: dict[tuple[str, str], int]
    shifts: list[str]  # in time order
    noisiest_rules: list[tuple[str, int]]
    noisiest_patients: list[tuple[int, int]]


def burden_summary(answer: AlertBurden) -> BurdenSummary:
    """GET /alert-burden's counts, shifts labelled '20 Nov 07:00-19:00' (a night belongs to the date it starts on)."""
    per_ward_shift: dict[tuple[str, str], int] = {}
    shifts: list[str] = []
    for row in sorted(answer.per_ward_shift, key=lambda r: (r.shift_start, r.shift)):
        label = f"{row.shift_start:%d %b} {row.shift}"
        if label not in shifts:
            shifts.append(label)
        per_ward_shift[(row.ward, label)] = row.alerts
    return BurdenSummary(
        per_ward_shift,
        shifts,
        [(r.rule_id, r.alerts) for r in answer.noisiest_rules],
        [(p.patient_id, p.alerts) for p in answer.noisiest_patients],
    )


def burden_meter(summary: BurdenSummary) -> go.Figure:
    """Alerts per shift, one bar group per shift and one colour per ward; the count is written on each bar."""
    wards = sorted({w for w, _ in summary.per_ward_shift})
    figure = go.Figure(
        [
            go.Bar(
                name=ward,
                x=summary.shifts,
                y=[summary.per_ward_shift.get((ward, s), 0) for s in summary.shifts],
                text=[summary.per_ward_shift.get((ward, s), 0) for s in summary.shifts],
                textposition="outside",
            )
            for ward in wards
        ]
    )
    figure.update_layout(
        title="Alerts opened per shift and ward",
        barmode="group",
        showlegend=True,  # the ward names, even when there is only one
        height=360,
        yaxis={"title": "alerts"},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
    )
    return figure


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def preview_costs(result: RuleSetPreview) -> Any:
    """What each side's alerts would cost the nurses, and what that assumes of them."""
    heads = ("", "Alerts", "State changes (per open alert-hour)", "Notifications (reminders)", "Open per nurse")
    rows = [
        html.Tr(
            [
                html.Td(f"{name} {side.rule_set}"),
                html.Td(str(side.total)),
                html.Td(f"{side.state_changes} ({side.state_changes_per_alert_hour:g})"),
                html.Td(f"{side.notifications} ({side.reminders})"),
                html.Td(f"{side.open_per_nurse:.2f}"),
            ]
        )
        for name, side in (("Draft", result.candidate), ("Published", result.published))
    ]
    staff = result.staff
    times = ", ".join(
        f"{severity} {staff.acknowledge_minutes[severity]:g}/{staff.close_minutes[severity]:g} min"
        for severity in staff.close_minutes
    )
    return html.Div(
        [
            html.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)], className="preview-costs"),
            html.P(
                f"Assumes {staff.nurses} nurses on duty; alerts acknowledged/closed after ({staff.source}): {times}."
                " A nurse closes an alert once its condition has cleared, never while it persists."
            ),
        ]
    )


def preview_figure(result: RuleSetPreview) -> go.Figure:
    """The draft beside the published set on the same stored readings: alerts per rule, then per shift."""
    draft, live = result.candidate, result.published
    rules = [r.rule_id for r in result.per_rule]
    shifts = sorted(set(draft.per_shift) | set(live.per_shift))
    figure = make_subplots(
        rows=2, cols=1, vertical_spacing=0.25, subplot_titles=["Alerts per rule", "Alerts opened per shift (ward time)"]
    )
    sides = [("Draft", draft, "#1c3faa", True), ("Published", live, "#6b6b6b", False)]
    for name, side, colour, is_draft in sides:
        label = f"{name} {side.rule_set}: {side.total} alerts, {side.per_patient_day:.2f} per patient-day"
        counts = [r.candidate if is_draft else r.published for r in result.per_rule]
        figure.add_trace(
            go.Bar(
                name=label,
                x=rules,
                y=counts,
                text=counts,
                textposition="outside",
                marker_color=colour,
                legendgroup=name,
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                name=name,
                x=shifts,
                y=[side.per_shift.get(s, 0) for s in shifts],
                mode="lines+markers",
                line={"color": colour, "dash": "solid" if is_draft else "dot"},
                legendgroup=name,
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    figure.update_xaxes(type="category", row=2, col=1)  # shift labels, not dates to interpolate between
    days = f"{result.patient_days:.1f}".rstrip("0").rstrip(".")
    figure.update_layout(
        title=f"Alert burden preview: draft against published, {_count(result.patients, 'patient')}, "
        f"{days} patient-day{'' if days == '1' else 's'}",
        barmode="group",
        height=640,
        margin={"l": 60, "r": 20, "t": 130, "b": 60},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
        legend={"orientation": "h", "y": 1.12},
    )
    return figure
