"""The alert inbox: every unresolved alert, worst severity first and longest waiting first within it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.alert_actions import action_buttons
from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.formatting import SEVERITY_COLOURS, ago, local_time, parse_time, severity_name
from dashboard.routing import href

REFRESH_MS = 10_000
UNRESOLVED = ["open", "escalated", "acknowledged", "snoozed"]
SEVERITY_ICON = {3: "▲▲▲", 2: "▲▲", 1: "▲", 0: "●"}  # shape as well as colour
PAGE_SIZE = 200  # the API's maximum page: a ward's open alerts fit in one


def inbox_order(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest severity first; within a severity, whoever has waited longest."""
    return sorted(
        alerts, key=lambda a: (-a["severity"], parse_time(a["opened_at"]) or datetime.max.replace(tzinfo=UTC))
    )


def inbox_row(alert: dict[str, Any], names: dict[int, str], now: datetime, tz: str, role: str) -> html.Tr:
    patient = alert["patient_id"]
    who: Any = (
        dcc.Link(names.get(patient, f"Patient {patient}"), href=href(f"/patients/{patient}"))
        if patient is not None
        else "Platform"
    )
    escalation = f"tier {alert['escalation_tier']}"
    if alert["next_escalation_at"] and alert["state"] in ("open", "escalated"):
        escalation += f", next {local_time(alert['next_escalation_at'], tz)}"
    state = alert["state"]
    if state == "snoozed" and alert["snoozed_until"]:
        state += f" until {local_time(alert['snoozed_until'], tz)}"
    return html.Tr(
        [
            html.Td(
                dmc.Badge(
                    f"{SEVERITY_ICON.get(alert['severity'], '')} {severity_name(alert['severity'])}",
                    color=SEVERITY_COLOURS.get(alert["severity"], "gray"),
                    variant="filled",
                    className="severity-badge",
                )
            ),
            html.Td(alert["title"]),
            html.Td(who),
            html.Td(state),
            html.Td(ago(alert["opened_at"], now)),
            html.Td(escalation),
            html.Td(action_buttons(alert, role)),
        ],
        id={"type": "inbox-row", "alert": alert["id"]},
    )


def inbox_table(alerts: list[dict[str, Any]], names: dict[int, str], now: datetime, tz: str, role: str) -> Any:
    if not alerts:
        return dmc.Text("No alerts match. Nothing is waiting for you.")
    head = html.Tr([html.Th(h) for h in ("Severity", "Alert", "Patient", "State", "Waiting", "Escalation", "Actions")])
    body = [inbox_row(a, names, now, tz, role) for a in inbox_order(alerts)]
    return dmc.Table([html.Thead(head), html.Tbody(body)], striped=True, highlightOnHover=True, id="inbox-table")


def layout() -> html.Div:
    return html.Div(
        [
            dmc.Group(
                [
                    dmc.Title("Alert inbox", order=1, size="h2"),
                    dmc.MultiSelect(
                        id="inbox-states", label="States", data=UNRESOLVED, value=UNRESOLVED, w=360, clearable=False
                    ),
                    dmc.Select(
                        id="inbox-severity",
                        label="Minimum severity",
                        data=[{"value": str(k), "label": severity_name(k)} for k in range(4)],
                        value="0",
                        w=160,
                    ),
                    html.Div(id="inbox-updated", className="muted"),
                ],
                align="flex-end",
            ),
            html.Div(id="inbox-body", style={"marginTop": "1rem"}),
            dcc.Interval(id="inbox-refresh", interval=REFRESH_MS),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("inbox-body", "children"),
        Output("inbox-updated", "children"),
        Input("inbox-refresh", "n_intervals"),
        Input("inbox-states", "value"),
        Input("inbox-severity", "value"),
        Input("alerts-version", "data"),
        State("session", "data"),
    )
    async def refresh(_: Any, states: list[str], severity: str | None, __: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update, no_update
        token, now = session["token"], datetime.now(UTC)
        try:
            page, patients = await asyncio.gather(
                ctx.api.get(token, "/alerts", state=states or UNRESOLVED, severity=severity, page_size=PAGE_SIZE),
                ctx.api.get(token, "/patients"),
            )
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load alerts"), ""
        names = {p["id"]: p["display_name"] for p in patients}
        shown = f"{len(page['items'])} of {page['total']} alerts · updated {local_time(now, ctx.tz, '%H:%M:%S')}"
        return inbox_table(page["items"], names, now, ctx.tz, session["role"]), shown
