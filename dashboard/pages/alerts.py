"""The alert inbox: every unresolved alert in the API's order (worst severity first, longest waiting first
within it), a page at a time, each row naming the patient by name, MRN and age."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update
from pydantic import TypeAdapter

from dashboard.alert_actions import about, action_buttons, last_action
from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.formatting import SEVERITY_COLOURS, ago, local_time, severity_name
from dashboard.routing import href
from vward.contract.alerts import AlertOut, AlertPage

REFRESH_MS = 10_000
UNRESOLVED = ["open", "escalated", "acknowledged", "snoozed"]
SEVERITY_ICON = {3: "▲▲▲", 2: "▲▲", 1: "▲", 0: "●"}  # shape as well as colour
PAGE_SIZE = 100  # the API serves the inbox's order, so a later page holds the least urgent, never the oldest
PAGE = TypeAdapter(AlertPage)


def held_in_place(alerts: list[AlertOut], shown: list[int] | None, last: AlertOut | None) -> list[AlertOut]:
    """Just after an action the rows keep the places they had, and the alert acted on stays (resolved, say)
    until the hold ends: the next click lands on the row the nurse aims at. New alerts go to the end."""
    if last is not None and all(a.id != last.id for a in alerts) and last.id in (shown or []):
        alerts = [*alerts, last]
    place = {alert_id: i for i, alert_id in enumerate(shown or [])}
    return sorted(alerts, key=lambda a: place.get(a.id, len(place)))


def inbox_row(alert: AlertOut, now: datetime, tz: str, last: AlertOut | None) -> html.Tr:
    patient = alert.patient
    who: Any = (
        dcc.Link(f"{patient.display_name}", href=href(f"/patients/{patient.id}")) if patient is not None else "Platform"
    )
    identity = "" if patient is None else about(alert).split(" · ", 1)[1]
    escalation = f"tier {alert.escalation_tier}"
    if alert.next_escalation_at and alert.state in ("open", "escalated"):
        escalation += f", next {local_time(alert.next_escalation_at, tz)}"
    state = str(alert.state)
    if alert.state == "snoozed" and alert.snoozed_until:
        state += f" until {local_time(alert.snoozed_until, tz)}"
    return html.Tr(
        [
            html.Td(
                dmc.Badge(
                    f"{SEVERITY_ICON.get(alert.severity, '')} {severity_name(alert.severity)}",
                    color=SEVERITY_COLOURS.get(alert.severity, "gray"),
                    variant="filled",
                    className="severity-badge",
                )
            ),
            html.Td(alert.title),
            html.Td(who),
            html.Td(identity, className="identity"),
            html.Td(state),
            html.Td(ago(alert.opened_at, now)),
            html.Td(escalation),
            html.Td(action_buttons(alert, last)),
        ],
        id={"type": "inbox-row", "alert": alert.id},
        className="row-acted" if last is not None and last.id == alert.id else None,
    )


def inbox_table(alerts: list[AlertOut], now: datetime, tz: str, last: AlertOut | None) -> Any:
    if not alerts:
        return dmc.Text("No alerts match. Nothing is waiting for you.")
    headers = ("Severity", "Alert", "Patient", "MRN · age", "State", "Waiting", "Escalation", "Actions")
    body = [inbox_row(a, now, tz, last) for a in alerts]
    table = dmc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)],
        striped=True,
        highlightOnHover=True,
        id="inbox-table",
    )
    return dmc.TableScrollContainer(table, minWidth=900, type="native")


def layout() -> html.Div:
    return html.Div(
        [
            dmc.Group(
                [
                    dmc.Title("Alert inbox", order=1, size="h2"),
                    dmc.MultiSelect(
                        id="inbox-states",
                        label="States",
                        data=UNRESOLVED,
                        value=UNRESOLVED,
                        w={"base": "100%", "sm": 360},
                        clearable=False,
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
            dmc.Pagination(id="inbox-page", total=1, value=1, mt="sm"),
            dcc.Store(id="inbox-shown"),
            dcc.Interval(id="inbox-refresh", interval=REFRESH_MS),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("inbox-body", "children"),
        Output("inbox-updated", "children"),
        Output("inbox-page", "total"),
        Output("inbox-shown", "data"),
        Input("inbox-refresh", "n_intervals"),
        Input("inbox-states", "value"),
        Input("inbox-severity", "value"),
        Input("inbox-page", "value"),
        Input("alerts-version", "data"),
        State("inbox-shown", "data"),
        State("session", "data"),
    )
    async def refresh(
        _: Any,
        states: list[str],
        severity: str | None,
        page_number: int | None,
        version: dict[str, Any] | None,
        shown: list[int] | None,
        session: dict[str, Any] | None,
    ) -> Any:
        """A page of the API's order; held in place for a while after an action."""
        if not session:
            return (no_update,) * 4
        token, now = session["token"], datetime.now(UTC)
        try:
            page = await ctx.api.read(
                token,
                "/alerts",
                PAGE,
                state=states or UNRESOLVED,
                severity=severity,
                page=page_number or 1,
                page_size=PAGE_SIZE,
            )
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load alerts"), "", no_update, no_update
        last = last_action(version, now)
        alerts = page.items if last is None else held_in_place(page.items, shown, last)
        pages = max(1, -(-page.total // PAGE_SIZE))
        first = (page.page - 1) * PAGE_SIZE
        held = " · held in place after your action" if last is not None else ""
        counted = f"{first + 1}-{first + len(page.items)} of {page.total}" if page.items else f"0 of {page.total}"
        updated = f"{counted} alerts · updated {local_time(now, ctx.tz, '%H:%M:%S')}{held}"
        return inbox_table(alerts, now, ctx.tz, last), updated, pages, [a.id for a in alerts]
