"""The alert-burden meter for ops: alerts per ward and shift over the last week, what they cost the nurses on
shift (state changes, notifications, alerts open per nurse for the staffing given), the noisiest rules and
patients (by id only: ops staff tune rules, they do not need to know who the patient is)."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update
from pydantic import TypeAdapter

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.figures.burden import burden_meter, burden_summary
from vward.contract.operations import AlertBurden

WINDOW_DAYS = 7
NURSES = 2  # per ward and shift, until ops say otherwise
BURDEN = TypeAdapter(AlertBurden)


def layout() -> html.Div:
    return html.Div(
        [
            dmc.Title("Alert burden", order=1, size="h2"),
            dmc.Text(
                "Alerts in the last 7 days, by ward and 12-hour shift (07:00 and 19:00 ward time): opened, how often"
                " they changed state, the notifications they sent, and how many were open on average per nurse."
            ),
            dmc.NumberInput(id="burden-nurses", label="Nurses per ward and shift", value=NURSES, min=1, max=100, w=220),
            html.Div(id="burden-body"),
            dcc.Interval(id="burden-refresh", interval=60_000),
        ]
    )


def noisiest(title: str, rows: list[tuple[Any, int]], label: str) -> Any:
    body = [html.Tr([html.Td(str(key)), html.Td(str(count))]) for key, count in rows]
    return dmc.Stack(
        [
            dmc.Title(title, order=2, size="h4"),
            dmc.Table([html.Thead(html.Tr([html.Th(label), html.Th("Alerts")])), html.Tbody(body)]),
        ]
    )


def totals(answer: AlertBurden) -> str:
    """The week in one line, each figure in the unit a nurse feels it in."""
    notified = f"{answer.notifications} notifications" if answer.notifications_on else "notifications off (no channel)"
    return (
        f"{answer.total} opened · {answer.state_changes} state changes"
        f" ({answer.state_changes_per_alert_hour:g} per open alert-hour) · {notified}"
        f" · {answer.wavers} waverings kept within their episode · {answer.open_alert_hours:g} alert-hours open"
    )


def per_shift(answer: AlertBurden) -> Any:
    """Newest shift first: what each ward's nurses faced."""
    rows = [
        html.Tr(
            [
                html.Td(f"{r.shift_start:%d %b} {r.shift}"),
                html.Td(r.ward),
                html.Td(str(r.alerts)),
                html.Td(str(r.state_changes)),
                html.Td(str(r.notifications)),
                html.Td(f"{r.open_per_nurse:.2f}"),
            ]
        )
        for r in sorted(answer.per_ward_shift, key=lambda r: (r.shift_start, r.shift, r.ward), reverse=True)
    ]
    heads = ("Shift", "Ward", "Opened", "State changes", "Notifications", f"Open per nurse ({answer.nurses_per_shift})")
    return dmc.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)])


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("burden-body", "children"),
        Input("burden-refresh", "n_intervals"),
        Input("burden-nurses", "value"),
        State("session", "data"),
    )
    async def refresh(_: Any, nurses: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        staffing = nurses if isinstance(nurses, int) and 1 <= nurses <= 100 else NURSES
        try:
            answer = await ctx.api.read(session["token"], "/alert-burden", BURDEN, days=WINDOW_DAYS, nurses=staffing)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load the alert burden")
        summary = burden_summary(answer)
        return dmc.Stack(
            [
                dmc.Text(totals(answer), fw=500),
                dcc.Graph(figure=burden_meter(summary), config={"displayModeBar": False}, id="burden-meter"),
                dmc.Title("Per shift", order=2, size="h4"),
                per_shift(answer),
                dmc.SimpleGrid(
                    [
                        noisiest("Noisiest rules", summary.noisiest_rules, "Rule"),
                        noisiest("Noisiest patients", summary.noisiest_patients, "Patient id"),
                    ],
                    cols=2,
                ),
            ]
        )
