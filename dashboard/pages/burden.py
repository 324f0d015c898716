"""The alert-burden meter for ops: alerts per ward and shift over the last week, the noisiest rules and
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
BURDEN = TypeAdapter(AlertBurden)


def layout() -> html.Div:
    return html.Div(
        [
            dmc.Title("Alert burden", order=1, size="h2"),
            dmc.Text("Alerts opened in the last 7 days, by ward and 12-hour shift (07:00 and 19:00 ward time)."),
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


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("burden-body", "children"),
        Input("burden-refresh", "n_intervals"),
        State("session", "data"),
    )
    async def refresh(_: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        try:
            answer = await ctx.api.read(session["token"], "/alert-burden", BURDEN, days=WINDOW_DAYS)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load the alert burden")
        summary = burden_summary(answer)
        return dmc.Stack(
            [
                dcc.Graph(figure=burden_meter(summary), config={"displayModeBar": False}, id="burden-meter"),
                dmc.SimpleGrid(
                    [
                        noisiest("Noisiest rules", summary.noisiest_rules, "Rule"),
                        noisiest("Noisiest patients", summary.noisiest_patients, "Patient id"),
                    ],
                    cols=2,
                ),
            ]
        )
