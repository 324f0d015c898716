"""One patient: NEWS2 chart, trends, the alert timeline with actions, devices, plan and bedside entries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update
from pydantic import TypeAdapter

from dashboard.alert_actions import ALERT, FIXED_TEXTAREA, action_buttons, last_action
from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.errors import failure_notice, log_failure
from dashboard.figures.news2_chart import news2_chart
from dashboard.figures.trends import TREND_METRICS, vital_trends, weight_trend
from dashboard.formatting import DAY_TIME, ago, device_kind, local_time, metric_label, severity_name
from dashboard.pages.alerts import PAGE
from dashboard.pages.worklist import PATHWAYS, alerts_text, data_text, devices_text, identity_text, news2_text
from dashboard.routing import Route
from dashboard.stays import stays_panel
from vward.contract.alerts import AlertDetail, AlertEvent, AlertOut
from vward.contract.audit import AuditEntry
from vward.contract.episodes import PatientEpisodes
from vward.contract.notes import Note
from vward.contract.overrides import OverrideOut
from vward.contract.patients import News2Chart, PatientDetail, Reading, VitalSeries
from vward.domain.alerts import OUTCOME_LABELS, ResolveOutcome

T = TypeVar("T")

CHART_STEP_MINUTES = 60  # one observation-chart column per hour of the last day
DETAIL = TypeAdapter(PatientDetail)
CHART = TypeAdapter(News2Chart)
READINGS = TypeAdapter(list[Reading])
ALERTS_SHOWN = 10  # the timeline shows this many recent alerts with every event
TREND_STEP_MINUTES = {"24": 5, "168": 30}  # bucket per trend window: ~300 points, however dense the stream
VITALS = TypeAdapter(VitalSeries)
AUDIT_SHOWN = 20  # the newest reads and actions on this record
NOTES_SHOWN = 50  # the newest notes; older ones stay in the record and the API
OVERRIDES = TypeAdapter(list[OverrideOut])
AUDIT = TypeAdapter(list[AuditEntry])
NOTES = TypeAdapter(list[Note])
STAYS = TypeAdapter(PatientEpisodes)
ACVPU = [("A", "Alert"), ("C", "New confusion"), ("V", "Voice"), ("P", "Pain"), ("U", "Unresponsive")]
REFRESH_MS = 30_000  # a day of minute readings is ~10k rows: refresh the record twice a minute, not faster
GRAPH_CONFIG: dcc.Graph.Config = {"displayModeBar": False}


def section(title: str) -> Any:
    return dmc.Title(title, order=2, size="h4", mt="sm")


def layout(route: Route) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="patient-id", data=route.patient_id),
            dcc.Interval(id="patient-refresh", interval=REFRESH_MS),
            html.Div(id="patient-header"),
            dmc.Grid(
                [
                    dmc.GridCol(
                        [
                            section("NEWS2 observation chart, last 24 hours"),
                            html.Div(id="patient-chart-status", role="status"),
                            html.Div(  # a day's columns stay readable on a phone: the chart scrolls sideways
                                dcc.Graph(id="patient-news2-chart", config=GRAPH_CONFIG, style={"minWidth": "860px"}),
                                className="chart-scroll",
                            ),
                            dmc.Group(
                                [
                                    section("Vital-sign trends"),
                                    dmc.SegmentedControl(
                                        id="patient-trend-window",
                                        data=[
                                            {"value": "24", "label": "24 hours"},
                                            {"value": "168", "label": "7 days"},
                                        ],
                                        value="24",
                                    ),
                                ],
                                justify="space-between",
                            ),
                            html.Div(id="patient-trends-status", role="status"),
                            dcc.Graph(id="patient-trends", config=GRAPH_CONFIG),
                            dcc.Graph(id="patient-weight", config=GRAPH_CONFIG),
                        ],
                        span={"base": 12, "lg": 8},
                    ),
                    dmc.GridCol(
                        [
                            section("Stays"),
                            html.Div(id="patient-stays-panel"),
                            section("Alerts"),
                            html.Div(id="patient-alerts"),
                            html.Div(id="patient-devices"),
                            section("Threshold overrides"),
                            html.Div(id="patient-overrides"),
                            section("Audit trail"),
                            html.Div(id="patient-audit"),
                            entry_form(),
                        ],
                        span={"base": 12, "lg": 4},
                    ),
                ],
                mt="md",
            ),
        ]
    )


def header(detail: PatientDetail, now: datetime, tz: str) -> Any:
    s = detail.summary
    band = s.news2_band or s.news2_lower_band or "none"
    score = news2_text(s) if s.news2_applicable else "NEWS2 does not apply"
    facts = [
        identity_text(s),
        f"Ward {s.ward}",
        PATHWAYS.get(s.pathway, s.pathway),
        f"SpO2 scale {s.spo2_scale}",
        f"admitted {local_time(s.admitted_at, tz, DAY_TIME)}",
        f"last reading {ago(s.last_reading_at, now)}",
    ]
    if s.discharged_at is not None:
        facts.insert(-1, f"discharged {local_time(s.discharged_at, tz, DAY_TIME)}")
    return dmc.Stack(
        [
            dmc.Group(
                [
                    dmc.Title(s.display_name, order=1, size="h2"),
                    html.Span(f"NEWS2 {score}", className=f"badge band-{band}", id="patient-news2"),
                    html.Span("⚠ 3 in one parameter", className="red-flag") if s.red_score else None,
                    html.Span("Discharged", className="badge band-none", id="patient-discharged")
                    if s.discharged_at is not None
                    else None,
                ]
            ),
            dmc.Text(" · ".join(facts), size="sm"),
            dmc.Text(
                f"Data: {data_text(s, now)} · Alerts: {alerts_text(s, now, tz)} · Devices: {devices_text(s)}",
                size="sm",
                id="patient-data-line",
            ),
        ],
        gap=4,
    )


def alert_timeline(alerts: list[AlertDetail], tz: str, last: AlertOut | None) -> Any:
    """Every alert with every event and who did it, newest alert first; `last` is the one just acted on."""
    if not alerts:
        return dmc.Text("No alerts for this patient.")
    cards = []
    for alert in alerts:
        events = [
            dmc.TimelineItem(
                title=f"{event.kind.replace('_', ' ')} by {event.actor}",
                children=dmc.Text(event_detail(event, tz), size="sm"),
            )
            for event in alert.events
        ]
        cards.append(
            dmc.Paper(
                dmc.Stack(
                    [
                        dmc.Group(
                            [
                                dmc.Text(f"{severity_name(alert.severity)} · {alert.title}", fw=700),
                                dmc.Text(f"{alert.state} · opened {local_time(alert.opened_at, tz, DAY_TIME)}"),
                            ],
                            justify="space-between",
                        ),
                        action_buttons(alert, last),
                        *episode_notes(alert),
                        dmc.Timeline(events, active=len(events) - 1, bulletSize=14, lineWidth=2),
                    ]
                ),
                withBorder=True,
                p="sm",
                mb="sm",
                className=f"alert-card alert-{alert.state}",
            )
        )
    return html.Div(cards, id="patient-alert-timeline")


def timeline_key(alert: AlertOut) -> tuple[bool, int, float, int]:
    """Unresolved before resolved, then the most severe, then the newest: a high alert is never below two
    newer medium ones on the record."""
    return (alert.state == "resolved", -alert.severity, -alert.opened_at.timestamp(), -alert.id)


def episode_notes(alert: AlertDetail) -> list[Any]:
    """One line for a condition that wavered within the episode, instead of a timeline entry per flap."""
    notes = []
    if alert.wavers:
        times = "once" if alert.wavers == 1 else f"{alert.wavers} times"
        notes.append(
            dmc.Text(f"Condition went and came back {times} within this episode (not re-notified).", size="sm")
        )
    if alert.absent_since is not None and not alert.cleared_at:
        notes.append(dmc.Text("Condition gone for now: clears if it stays away.", size="sm", c="dimmed"))
    return notes


# An event's detail keys as a nurse reads them: the coded outcome is the outcome, the free text a note.
_DETAIL_LABELS = {"outcome_code": "outcome", "outcome": "note"}


def event_detail(event: AlertEvent, tz: str) -> str:
    parts = [local_time(event.at, tz, DAY_TIME)]
    if event.from_state or event.to_state:
        parts.append(f"{event.from_state or '—'} → {event.to_state or '—'}")
    for key, value in event.detail.items():
        if key == "outcome_code" and value in ResolveOutcome.__members__.values():
            value = OUTCOME_LABELS[ResolveOutcome(value)]
        if key == "until" and isinstance(value, str):  # a snooze's end, stored as ISO 8601: in ward time
            value = local_time(datetime.fromisoformat(value), tz, DAY_TIME)
        if isinstance(value, list):  # tiers [1], targets ['doctor']: as words, not Python's repr
            value = ", ".join(str(v).replace("_", " ") for v in value)
        parts.append(f"{_DETAIL_LABELS.get(key, key.replace('_', ' '))}: {value}")
    return " · ".join(parts)


def devices_panel(detail: PatientDetail, tz: str, now: datetime) -> Any:
    rows = [
        html.Tr(
            [
                html.Td(d.id),
                html.Td(device_kind(d.kind)),
                html.Td({True: "Online", False: "Offline", None: "Unknown"}[d.online]),
                html.Td("—" if d.battery is None else f"{d.battery}%"),
                html.Td(ago(d.last_seen_at, now)),
                html.Td(local_time(d.bound_from, tz, DAY_TIME)),
            ]
        )
        for d in detail.devices
    ]
    head = html.Tr([html.Th(h) for h in ("Device", "Kind", "Status", "Battery", "Last seen", "Bound since")])
    plan = detail.monitoring_plan
    plan_part = dmc.Text(", ".join(f"{metric_label(m)} every {h:g} h" for m, h in plan.items()) or "No plan recorded.")
    return dmc.Stack(
        [
            section("Devices"),
            dmc.Table([html.Thead(head), html.Tbody(rows)]) if rows else dmc.Text("No devices bound."),
            section("Monitoring plan"),
            plan_part,
        ]
    )


def overrides_table(overrides: list[OverrideOut], tz: str, now: datetime) -> Any:
    """The patient's own alert bounds, each with its reason and expiry; an expired one is flagged for review."""
    if not overrides:
        return dmc.Text("No threshold overrides: the rule set's bounds apply.")
    rows = [
        html.Tr(
            [
                html.Td(metric_label(o.metric)),
                html.Td(" – ".join(f"{k} {v:g}" for k, v in (("low", o.low), ("high", o.high)) if v is not None)),
                html.Td(o.reason),
                html.Td(
                    f"⚠ expired {local_time(o.expires_at, tz, DAY_TIME)}: review"
                    if o.expires_at <= now
                    else f"until {local_time(o.expires_at, tz, DAY_TIME)}",
                    className="data-incomplete" if o.expires_at <= now else "",
                ),
                html.Td(o.created_by),
            ]
        )
        for o in overrides
    ]
    head = html.Tr([html.Th(h) for h in ("Metric", "Bounds", "Reason", "Expiry", "Set by")])
    return dmc.Table([html.Thead(head), html.Tbody(rows)], id="patient-overrides-table")


def audit_table(entries: list[AuditEntry], tz: str) -> Any:
    """Who read or changed this record, newest first: every read and action is audited, and visible here."""
    if not entries:
        return dmc.Text("No reads or actions recorded yet.", id="patient-audit-table")
    rows = [
        html.Tr(
            [
                html.Td(local_time(e.at, tz, DAY_TIME)),
                html.Td(f"{e.username} ({e.role})"),
                html.Td(e.action),
            ]
        )
        for e in entries
    ]
    head = html.Tr([html.Th("When"), html.Th("Who"), html.Th("What")])
    return dmc.Table([html.Thead(head), html.Tbody(rows)], id="patient-audit-table")


def notes_list(notes: list[Note], tz: str) -> Any:
    """The record's notes, newest first, each with who wrote it and when in ward time."""
    if not notes:
        return dmc.Text("No notes yet.", id="patient-notes-list")
    return dmc.Stack(
        [
            dmc.Paper(
                [
                    dmc.Text(f"{local_time(n.at, tz, DAY_TIME)} · {n.author}", size="sm", fw=700),
                    dmc.Text(n.text, style={"whiteSpace": "pre-wrap"}),
                ],
                withBorder=True,
                p="xs",
                className="patient-note",
            )
            for n in notes
        ],
        gap="xs",
        id="patient-notes-list",
    )


def entry_form() -> Any:
    """Disabled until the record has loaded (a form beside a record that failed to show must not be used),
    and nothing is pre-selected: a bedside entry is what the nurse chose, never a default."""
    return html.Fieldset(entry_fields(), id="entry-fieldset", disabled=True, className="entry-fieldset")


def entry_fields() -> Any:
    return dmc.Stack(
        [
            section("Record ACVPU and oxygen"),
            dmc.RadioGroup(
                dmc.Group([dmc.Radio(label=f"{code} – {text}", value=code) for code, text in ACVPU]),
                id="entry-acvpu",
                label="Consciousness (ACVPU)",
                value=None,
            ),
            dmc.RadioGroup(
                dmc.Group(
                    [dmc.Radio(label="Air", value="air"), dmc.Radio(label="Supplemental oxygen", value="oxygen")]
                ),
                id="entry-oxygen",
                label="Air or oxygen",
                value=None,
            ),
            dmc.Button("Record observation", id="entry-submit", n_clicks=0, w=220),
            html.Div(id="entry-result", role="status"),
            section("Notes"),
            dmc.Textarea(id="note-text", label="Add a note", resize="vertical", styles=FIXED_TEXTAREA),
            dmc.Button("Save note", id="note-submit", n_clicks=0, w=220),
            html.Div(id="note-result", role="status"),
            html.Div(id="patient-notes"),
        ],
        mt="md",
    )


async def _read_or_notice(read: Awaitable[T], title: str) -> T | Any:
    """The API's answer, or a visible notice of why there is none (a logged reference for our own errors)."""
    try:
        return await read
    except ApiError as exc:
        return dmc.Alert(exc.detail, title=title, color="red", className="panel-error")
    except Exception as exc:  # a panel that fails must say so, never sit blank
        return failure_notice(title, log_failure(title, exc))


async def chart_panel(ctx: Context, token: str, patient_id: int) -> tuple[Any, Any]:
    """(figure, status line) of the NEWS2 chart, or an empty chart and why."""
    chart = await _read_or_notice(
        ctx.api.read(token, f"/patients/{patient_id}/news2-chart", CHART, step_minutes=CHART_STEP_MINUTES),
        "Could not load the NEWS2 chart",
    )
    if not isinstance(chart, News2Chart):
        return {}, chart
    try:
        figure = news2_chart(chart, ctx.tz)
    except Exception as exc:  # drawn from a validated model, but a bug here must still say so
        return {}, failure_notice("Could not draw the NEWS2 chart", log_failure("news2 chart", exc))
    status = None if chart.columns else dmc.Text("No NEWS2 observations in the last 24 hours.", fw=700)
    return figure, status


def register(app: Dash, ctx: Context) -> None:
    async def alerts_with_events(token: str, patient_id: int) -> list[AlertDetail]:
        """What needs acting on first (unresolved, worst severity), then the story, newest first."""
        page = await ctx.api.read(token, "/alerts", PAGE, patient_id=patient_id, page_size=ALERTS_SHOWN)
        details = await asyncio.gather(*(ctx.api.read(token, f"/alerts/{a.id}", ALERT) for a in page.items))
        return sorted(details, key=timeline_key)

    @app.callback(
        Output("patient-header", "children"),
        Output("patient-news2-chart", "figure"),
        Output("patient-chart-status", "children"),
        Output("patient-alerts", "children"),
        Output("patient-devices", "children"),
        Output("entry-fieldset", "disabled"),
        Input("patient-refresh", "n_intervals"),
        Input("alerts-version", "data"),
        State("patient-id", "data"),
        State("session", "data"),
    )
    async def load(_: int | None, version: Any, patient_id: int, session: dict[str, Any] | None) -> Any:
        """The record, its chart and its alerts. A record that fails says so and keeps the entry form shut; a
        chart that fails says so in its own panel and leaves the rest of the record standing."""
        if not session:
            return (no_update,) * 6
        token, now = session["token"], datetime.now(UTC)
        detail, (figure, status), timeline = await asyncio.gather(
            _read_or_notice(ctx.api.read(token, f"/patients/{patient_id}", DETAIL), "Could not load this patient"),
            chart_panel(ctx, token, patient_id),
            _read_or_notice(alerts_with_events(token, patient_id), "Could not load alerts"),
        )
        if not isinstance(detail, PatientDetail):
            return detail, figure, status, None, None, True
        alerts = alert_timeline(timeline, ctx.tz, last_action(version, now)) if isinstance(timeline, list) else timeline
        devices = devices_panel(detail, ctx.tz, now)
        # A discharged patient's record is read-only: nothing is measured or entered after the stay ended.
        closed = detail.summary.discharged_at is not None
        return header(detail, now, ctx.tz), figure, status, alerts, devices, closed

    @app.callback(
        Output("patient-overrides", "children"),
        Input("alerts-version", "data"),
        State("patient-id", "data"),
        State("session", "data"),
    )
    async def overrides(_: Any, patient_id: int, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        try:
            found = await ctx.api.read(session["token"], f"/patients/{patient_id}/threshold-overrides", OVERRIDES)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load overrides")
        return overrides_table(found, ctx.tz, datetime.now(UTC))

    @app.callback(
        Output("patient-audit", "children"),
        Input("patient-refresh", "n_intervals"),
        Input("alerts-version", "data"),
        State("patient-id", "data"),
        State("session", "data"),
    )
    async def audit(_: int | None, __: Any, patient_id: int, session: dict[str, Any] | None) -> Any:
        """With the record's refresh too: the reads made while the page loaded show up on the next one."""
        if not session:
            return no_update
        try:
            answer = await ctx.api.read(session["token"], "/audit", AUDIT, patient_id=patient_id, limit=AUDIT_SHOWN)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load the audit trail")
        return audit_table(answer, ctx.tz)

    @app.callback(
        Output("patient-notes", "children"),
        Input("note-result", "children"),
        State("patient-id", "data"),
        State("session", "data"),
    )
    async def notes(_: Any, patient_id: int, session: dict[str, Any] | None) -> Any:
        """Loaded with the page and again after every saved note."""
        if not session:
            return no_update
        try:
            found = await ctx.api.read(session["token"], f"/patients/{patient_id}/notes", NOTES, limit=NOTES_SHOWN)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load notes")
        return notes_list(found, ctx.tz)

    @app.callback(
        Output("patient-stays-panel", "children"),
        Input("patient-id", "data"),
        State("session", "data"),
    )
    async def stays(patient_id: int, session: dict[str, Any] | None) -> Any:
        """The stays and their steps, once with the page (they change by an admission or a discharge)."""
        if not session:
            return no_update
        try:
            history = await ctx.api.read(session["token"], f"/patients/{patient_id}/episodes", STAYS)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load the stays")
        return stays_panel(history, ctx.tz)

    @app.callback(
        Output("patient-trends", "figure"),
        Output("patient-weight", "figure"),
        Output("patient-trends-status", "children"),
        Input("patient-trend-window", "value"),
        Input("patient-refresh", "n_intervals"),
        State("patient-id", "data"),
        State("session", "data"),
    )
    async def trends(hours: str, _: int | None, patient_id: int, session: dict[str, Any] | None) -> Any:
        """A day in 5-minute buckets, a week in 30-minute ones: a few hundred points either way. Loaded beside
        the record, not after it (it brings its own score ranges)."""
        if not session:
            return no_update, no_update, no_update
        token, end = session["token"], datetime.now(UTC)
        start = end - timedelta(hours=int(hours))
        try:
            vitals, weights, alerts = await asyncio.gather(
                ctx.api.read(
                    token,
                    f"/patients/{patient_id}/vital-series",
                    VITALS,
                    since=start.isoformat(),
                    until=end.isoformat(),
                    metric=[str(m) for m in TREND_METRICS],
                    step_minutes=TREND_STEP_MINUTES[hours],
                ),
                ctx.api.read(
                    token,
                    f"/patients/{patient_id}/readings",
                    READINGS,
                    since=(end - timedelta(days=30)).isoformat(),
                    metric=["weight"],
                ),
                ctx.api.read(token, "/alerts", PAGE, patient_id=patient_id, page_size=50),
            )
        except ApiError as exc:
            notice = dmc.Alert(exc.detail, color="red", title="Could not load the trends", className="panel-error")
            return {}, {}, notice
        return (
            vital_trends(vitals, alerts.items, start, end),
            weight_trend(weights, end - timedelta(days=30), end),
            None,
        )

    @app.callback(
        Output("entry-result", "children"),
        Input("entry-submit", "n_clicks"),
        State("entry-acvpu", "value"),
        State("entry-oxygen", "value"),
        State("patient-id", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def record(
        _: int, acvpu: str | None, oxygen: str | None, patient_id: int, session: dict[str, Any] | None
    ) -> Any:
        if not session:
            return no_update
        if acvpu is None or oxygen is None:
            return dmc.Alert("Choose the ACVPU level and air or oxygen first.", color="yellow", title="Not recorded")
        body = {
            "readings": [
                {"metric": "consciousness", "value": acvpu},
                {"metric": "on_oxygen", "value": oxygen == "oxygen"},
            ]
        }
        try:
            await ctx.api.post(session["token"], f"/patients/{patient_id}/observations", body)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Not recorded")
        return dmc.Alert(f"Recorded ACVPU {acvpu} on {oxygen}.", color="green")

    @app.callback(
        Output("note-result", "children"),
        Output("note-text", "value"),
        Input("note-submit", "n_clicks"),
        State("note-text", "value"),
        State("patient-id", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def add_note(_: int, text: str | None, patient_id: int, session: dict[str, Any] | None) -> Any:
        """A saved note empties the box (so it is not saved twice); a refused one keeps the text to fix."""
        if not session or not (text or "").strip():
            return no_update, no_update
        try:
            await ctx.api.post(session["token"], f"/patients/{patient_id}/notes", {"text": text})
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Not saved"), no_update
        return dmc.Alert("Note saved.", color="green"), ""
