"""The population view: per ward and period, what happened to the ward's patients and what their alerts
cost (definitions: docs/episodes.md), with the daily census, how stays ended, and a CSV download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update
from pydantic import TypeAdapter

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.figures.population import census_figure, outcomes_figure
from dashboard.pages.patient import GRAPH_CONFIG
from vward.contract.population import Population, WardPopulation, population_csv

POPULATION = TypeAdapter(Population)
PERIODS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days"}
NURSES = 2


def layout() -> html.Div:
    return html.Div(
        [
            dmc.Title("Population", order=1, size="h2"),
            dmc.Text(
                "Per ward: admissions, occupancy, length of stay, escalations to hospital, readmissions within 30"
                " days and the alert load, over the period chosen. A transfer between wards is one stay of care."
            ),
            dmc.Group(
                [
                    dmc.Select(
                        id="population-period",
                        label="Period",
                        value="30",
                        data=[{"value": k, "label": v} for k, v in PERIODS.items()],
                        w=180,
                    ),
                    dmc.NumberInput(
                        id="population-nurses", label="Nurses per ward and shift", value=NURSES, min=1, max=100, w=220
                    ),
                    dmc.Button("Download CSV", id="population-download-button", n_clicks=0, variant="outline"),
                ],
                align="end",
            ),
            dcc.Download(id="population-download"),
            html.Div(id="population-body", role="region"),
        ]
    )


def _number(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _ack(w: WardPopulation, severity: int) -> str:
    times = next((a for a in w.acknowledgement if a.severity == severity), None)
    if times is None or times.acknowledged == 0:
        return "-"
    return f"{_number(times.median_minutes, ' min')} (p90 {_number(times.p90_minutes, ' min')})"


ROWS: tuple[tuple[str, Any], ...] = (
    ("Admissions (of them step-down)", lambda w: f"{w.admissions} ({w.step_downs})"),
    ("Readmissions within 30 days", lambda w: f"{w.readmissions_30d} ({_percent(w.readmission_rate)})"),
    ("Occupancy (patients on average)", lambda w: _number(w.occupancy)),
    ("Bed-days", lambda w: _number(w.bed_days)),
    ("Stays ended", lambda w: str(w.discharges)),
    ("Escalated to hospital", lambda w: f"{w.escalations} ({_percent(w.escalation_rate)})"),
    ("Died / self-discharged", lambda w: f"{w.deaths} / {w.self_discharges}"),
    (
        "Length of stay, median (IQR)",
        lambda w: (
            f"{_number(w.length_of_stay.median_days, ' d')}"
            f" ({_number(w.length_of_stay.q1_days)}-{_number(w.length_of_stay.q3_days, ' d')})"
        ),
    ),
    ("Alerts per patient-day", lambda w: _number(w.alerts_per_patient_day, digits=2)),
    ("Alerts per nurse-shift", lambda w: _number(w.alerts_per_nurse_shift, digits=2)),
    ("Time to acknowledge, high", lambda w: _ack(w, 3)),
    ("Time to acknowledge, medium", lambda w: _ack(w, 2)),
)


def figures_table(figures: Population) -> Any:
    """One column per ward, one row per indicator, in words and units."""
    head = html.Tr([html.Th("Indicator"), *(html.Th(w.ward) for w in figures.wards)])
    body = [html.Tr([html.Td(name), *(html.Td(value(w)) for w in figures.wards)]) for name, value in ROWS]
    return dmc.Table([html.Thead(head), html.Tbody(body)], id="population-table", striped=True)


def _period(days: str | None, nurses: Any) -> dict[str, Any]:
    until = datetime.now(UTC)
    span = int(days) if days in PERIODS else 30
    staffing = nurses if isinstance(nurses, int) and 1 <= nurses <= 100 else NURSES
    return {"since": (until - timedelta(days=span)).isoformat(), "until": until.isoformat(), "nurses": staffing}


def register(app: Dash, ctx: Context) -> None:
    async def read(session: dict[str, Any], days: str | None, nurses: Any) -> Population:
        return await ctx.api.read(session["token"], "/population", POPULATION, **_period(days, nurses))

    @app.callback(
        Output("population-body", "children"),
        Input("population-period", "value"),
        Input("population-nurses", "value"),
        State("session", "data"),
    )
    async def show(days: str | None, nurses: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        try:
            figures = await read(session, days, nurses)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load the population figures")
        if not figures.wards:
            return dmc.Text("No stays in this period on your wards.")
        return dmc.Stack(
            [
                figures_table(figures),
                dmc.SimpleGrid(
                    [
                        dcc.Graph(figure=census_figure(figures), config=GRAPH_CONFIG, id="population-census"),
                        dcc.Graph(figure=outcomes_figure(figures), config=GRAPH_CONFIG, id="population-outcomes"),
                    ],
                    cols={"base": 1, "lg": 2},
                ),
            ],
            mt="md",
        )

    @app.callback(
        Output("population-download", "data"),
        Input("population-download-button", "n_clicks"),
        State("population-period", "value"),
        State("population-nurses", "value"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def download(_: int, days: str | None, nurses: Any, session: dict[str, Any] | None) -> Any:
        """The API's own CSV text (vward.contract.population.population_csv) of the figures on screen."""
        if not session:
            return no_update
        try:
            figures = await read(session, days, nurses)
        except ApiError:
            return no_update
        return {"content": population_csv(figures), "filename": f"population-{figures.until:%Y%m%d}.csv"}
