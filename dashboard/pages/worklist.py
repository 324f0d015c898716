"""The ward worklist: who needs me now, and why, worst first, refreshed every few seconds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, callback_context, dcc, html, no_update
from pydantic import TypeAdapter

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.formatting import ago, band_label, local_time, metric_label, severity_name
from dashboard.routing import Route, href
from vward.contract.patients import PatientSummary

REFRESH_MS = 5000  # a nurse sees a new alert within 5 s; the list query costs tens of ms
LOW_BATTERY = 20  # percent: below this a patient needs a charge reminder today
POLITE: dict[str, Any] = {"aria-live": "polite"}  # screen readers announce refreshes without interrupting
NEW_ADMISSION = timedelta(hours=24)  # a patient admitted within this is marked "New" on the list
WORKLIST = TypeAdapter(list[PatientSummary])
PATHWAYS = {"general": "General", "copd": "COPD", "heart_failure": "Heart failure", "post_op": "Post-op"}


def news2_text(p: PatientSummary) -> str:
    """Score and band in words, so colour is never the only cue; an incomplete set says its lower bound."""
    if not p.news2_applicable:
        return "Not scored"
    if p.news2_score is not None:
        return f"{p.news2_score} {band_label(p.news2_band)}"
    if p.news2_lower_bound:
        return f"≥{p.news2_lower_bound} {band_label(p.news2_lower_band)}"
    return "No score"


TREND_ARROWS = {"rising": "↑", "falling": "↓", "steady": "→"}
TREND_SHORT = {"respiratory_rate": "RR", "spo2": "SpO2", "heart_rate": "HR", "systolic_bp": "BP", "temperature": "T"}


def trend_text(p: PatientSummary) -> str:
    """'NEWS2 3→6 · RR↑ SpO2↓ HR→': the last 4 hours at a glance, an arrow and a word for each vital."""
    parts = []
    if p.news2_then is not None and p.news2_score is not None and p.news2_then != p.news2_score:
        parts.append(f"NEWS2 {p.news2_then}→{p.news2_score}")
    moving = [f"{TREND_SHORT[m]}{TREND_ARROWS[d]}" for m, d in p.trends.items() if d != "steady"]
    if moving:
        parts.append(" ".join(moving))
    elif p.trends:
        parts.append("vitals steady")
    return " · ".join(parts)


def data_text(p: PatientSummary, now: datetime) -> str:
    """What the score rests on: never 'complete' alone when a value is old, and why NEWS2 does not apply."""
    if not p.news2_applicable:
        parts = [f"NEWS2 does not apply ({p.news2_reason})"]
    elif p.news2_score is None and not p.news2_missing and not p.news2_stale:
        parts = ["No data"]
    elif not p.news2_complete:
        gaps = [f"missing {', '.join(map(metric_label, p.news2_missing))}"] if p.news2_missing else []
        gaps += [f"stale {', '.join(map(metric_label, p.news2_stale))}"] if p.news2_stale else []
        parts = ["Incomplete: " + "; ".join(gaps)]
    else:
        parts = ["Complete"]
    if p.oldest_value is not None and p.news2_applicable and (p.news2_score is not None or p.news2_lower_bound):
        parts.append(f"oldest {metric_label(p.oldest_value.parameter)} {ago(p.oldest_value.measured_at, now)}")
    if p.overdue:
        parts.append(f"overdue {', '.join(map(metric_label, p.overdue))}")
    return " · ".join(parts)


def data_complete(p: PatientSummary) -> bool:
    return p.news2_applicable and p.news2_complete and not p.overdue


def escalation_text(p: PatientSummary, tz: str) -> str:
    """The tier reached and when the next tier is told, in ward time."""
    parts = [f"tier {p.escalation_tier}"] if p.escalation_tier else []
    if p.next_escalation_at:
        parts.append(f"next {local_time(p.next_escalation_at, tz)}")
    return " · ".join(parts)


def alerts_text(p: PatientSummary, now: datetime, tz: str) -> str:
    if not p.open_alerts:
        return "None"
    parts = [f"{p.open_alerts} open, top {severity_name(p.top_severity)}", f"oldest {ago(p.oldest_alert_at, now)}"]
    if p.escalation_tier:
        parts.append(f"tier {p.escalation_tier}")
    if p.next_escalation_at:
        parts.append(f"escalates {local_time(p.next_escalation_at, tz)}")
    return " · ".join(parts)


def devices_text(p: PatientSummary) -> str:
    problems = []
    if p.devices_offline:
        problems.append(f"{p.devices_offline} offline")
    if p.min_battery is not None and p.min_battery < LOW_BATTERY:
        problems.append(f"battery {p.min_battery}%")
    return ", ".join(problems) or "OK"


def identity_text(p: PatientSummary) -> str:
    """MRN and age: two patients of the same name are never mistaken for each other."""
    age = "age unknown" if p.age_years is None else f"{p.age_years} y"
    return f"MRN {p.mrn} · {age}"


def worklist_rows(patients: list[PatientSummary], now: datetime, tz: str) -> list[dict[str, Any]]:
    """Grid rows in the API's clinical order, with every cue spelled out in text."""
    return [
        {
            "id": p.id,
            "row_id": str(p.id),  # AG Grid's row id must be a string (getRowId reads this field)
            "rank": rank,
            "patient": p.display_name,
            "identity": identity_text(p),
            "new": "New" if now - p.admitted_at < NEW_ADMISSION else "",
            "ward": p.ward,
            "pathway": PATHWAYS.get(p.pathway, p.pathway),
            "news2": news2_text(p),
            "band": p.news2_band or p.news2_lower_band or "none",
            "red": "⚠ Red score" if p.red_score else "",
            "trend": trend_text(p),
            "data": data_text(p, now),
            "complete": data_complete(p),
            "alerts": f"{p.open_alerts} · {severity_name(p.top_severity)}" if p.open_alerts else "None",
            "waiting": ago(p.oldest_alert_at, now) if p.open_alerts else "",
            "escalation": escalation_text(p, tz),
            "severity": -1 if p.top_severity is None else p.top_severity,
            "last_reading": ago(p.last_reading_at, now),
            "devices": devices_text(p),
        }
        for rank, p in enumerate(patients, start=1)
    ]


def held_order(rows: list[dict[str, Any]], shown: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """With the order held, rows keep the places they had on screen; a newcomer goes to the end, marked."""
    place = {row["id"]: i for i, row in enumerate(shown or [])}
    kept = sorted(rows, key=lambda r: (place.get(r["id"], len(place)), r["rank"]))
    return [r | {"new": r["new"] or "Arrived"} if r["id"] not in place else r for r in kept]


def ward_options(patients: list[PatientSummary]) -> list[dict[str, str]]:
    return [{"value": w, "label": w} for w in sorted({p.ward for p in patients})]


COLUMNS: list[dict[str, Any]] = [
    # Rank, NEWS2 and the patient are pinned: on a phone they stay in view while the rest scrolls sideways.
    {"field": "rank", "headerName": "#", "width": 50, "sort": None, "pinned": "left"},
    {
        "field": "news2",
        "headerName": "NEWS2",
        "width": 115,
        "pinned": "left",
        "cellClassRules": {
            "band-high": "params.data.band == 'high'",
            "band-medium": "params.data.band == 'medium'",
            "band-low-medium": "params.data.band == 'low-medium'",
            "band-low": "params.data.band == 'low'",
        },
    },
    {"field": "patient", "headerName": "Patient", "width": 175, "cellClass": "patient-link", "pinned": "left"},
    {"field": "red", "headerName": "Red score", "width": 125, "cellClass": "red-flag"},
    {"field": "trend", "headerName": "Last 4 h", "width": 190, "tooltipField": "trend"},
    {"field": "identity", "headerName": "MRN · age", "width": 165},
    {"field": "new", "headerName": "New", "width": 80, "cellClass": "new-flag"},
    {
        "field": "alerts",
        "headerName": "Open alerts",
        "width": 130,
        "cellClassRules": {
            "severity-high": "params.data.severity == 3",
            "severity-medium": "params.data.severity == 2",
        },
    },
    {"field": "waiting", "headerName": "Oldest alert", "width": 120},
    {"field": "escalation", "headerName": "Escalation", "width": 140},
    {
        "field": "data",
        "tooltipField": "data",
        "headerName": "Data",
        "flex": 1,
        "minWidth": 150,
        "cellClassRules": {"data-incomplete": "!params.data.complete"},
    },
    {"field": "last_reading", "headerName": "Last reading", "width": 120},
    {
        "field": "devices",
        "headerName": "Devices",
        "width": 130,
        "cellClassRules": {"device-problem": "params.value != 'OK'"},
    },
    {"field": "pathway", "headerName": "Pathway", "width": 110},
    {"field": "ward", "headerName": "Ward", "width": 100},
]


async def load(ctx: Context, session: dict[str, Any], ward: str | None) -> tuple[Any, Any, Any, Any]:
    """Rows, ward choices, the 'updated' line and an error: what the page shows on load and on every refresh.

    A 401 propagates: the session is over and the caller sends the user back to sign in."""
    try:
        patients = await ctx.api.read(session["token"], "/patients", WORKLIST)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return no_update, no_update, no_update, dmc.Alert(exc.detail, color="red", title="Could not load")
    now = datetime.now(UTC)
    shown = [p for p in patients if not ward or p.ward == ward]
    updated = f"{len(shown)} patients · updated {local_time(now, ctx.tz, '%H:%M:%S')}"
    return worklist_rows(shown, now, ctx.tz), ward_options(patients), updated, None


def first_view(ctx: Context) -> Callable[[Route, dict[str, Any]], Awaitable[Any]]:
    """The page arrives with its rows: one round trip fewer before a nurse sees who is worst."""

    async def build(_route: Route, session: dict[str, Any]) -> Any:
        rows, wards, updated, error = await load(ctx, session, None)
        return layout(rows if rows is not no_update else [], wards if wards is not no_update else [], updated, error)

    return build


def layout(rows: list[dict[str, Any]], wards: list[dict[str, str]], updated: Any, error: Any) -> html.Div:
    return html.Div(
        [
            dmc.Group(
                [
                    dmc.Title("Ward worklist", order=1, size="h2"),
                    dmc.Select(
                        id="worklist-ward", label="Ward", placeholder="All wards", clearable=True, data=wards, w=200
                    ),
                    dmc.Switch(
                        id="worklist-hold",
                        label="Hold the order while I work",
                        description="Values still refresh; rows keep their places",
                    ),
                    html.Div(updated, id="worklist-updated", className="muted", **POLITE),
                ],
                justify="space-between",
                align="flex-end",
            ),
            html.P("Worst first. Click a patient, or press Enter on a row, to open their record.", className="muted"),
            html.Div(error, id="worklist-error", role="alert"),
            dag.AgGrid(
                id="worklist-grid",
                columnDefs=COLUMNS,
                rowData=rows,
                getRowId="params.data.row_id",  # dash-ag-grid evaluates no calls here: a field, not String()
                defaultColDef={"sortable": False, "resizable": True, "suppressMovable": True},
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                    "animateRows": False,
                    "suppressCellFocus": False,
                },
                eventListeners={"cellKeyDown": ["openRowOnEnter(params, setEventData)"]},
                style={"height": "calc(100vh - 210px)", "minHeight": "400px"},
                className="ag-theme-quartz",
            ),
            dcc.Interval(id="worklist-refresh", interval=REFRESH_MS),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("worklist-grid", "rowData"),
        Output("worklist-ward", "data"),
        Output("worklist-updated", "children"),
        Output("worklist-error", "children"),
        Input("worklist-refresh", "n_intervals"),
        Input("worklist-ward", "value"),
        State("worklist-hold", "checked"),
        State("worklist-grid", "rowData"),
        State("session", "data"),
        prevent_initial_call=True,  # the page arrived with its rows (first_view)
    )
    async def refresh(
        _: int | None, ward: str | None, hold: bool | None, shown: list[dict[str, Any]] | None, session: Any
    ) -> Any:
        if not session:
            return no_update, no_update, no_update, no_update
        try:
            rows, wards, updated, error = await load(ctx, session, ward)
        except ApiError:  # 401: the API client has already cleared the session
            return no_update, no_update, no_update, no_update
        if hold and rows is not no_update:
            rows, updated = held_order(rows, shown), f"{updated} · order held"
        return rows, wards, updated, error

    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Input("worklist-grid", "cellClicked"),
        Input("worklist-grid", "eventData"),
        prevent_initial_call=True,
    )
    def open_patient(clicked: dict[str, Any] | None, key: dict[str, Any] | None) -> Any:
        """A click or Enter on a row opens that patient; only the id goes into the URL."""
        by_key = callback_context.triggered[0]["prop_id"].endswith("eventData")
        chosen = (key or {}).get("data") if by_key else clicked
        row_id = (chosen or {}).get("rowId")
        return href(f"/patients/{int(row_id)}") if row_id is not None else no_update
