"""Dead letters and data quality for ops: what devices sent that the platform refused, by reason and device."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import dash_mantine_components as dmc
import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, html, no_update
from pydantic import TypeAdapter

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.formatting import DAY_TIME, ago, local_time
from vward.contract.operations import DeadLetterOut

SHOWN = 500  # the newest rejections examined; enough to see which reason or device dominates
DEAD_LETTERS = TypeAdapter(list[DeadLetterOut])


def rejections_figure(letters: list[DeadLetterOut]) -> go.Figure:
    """Rejections by reason code, most frequent first, counts written on the bars."""
    counts = Counter(d.reason for d in letters).most_common()
    figure = go.Figure(
        go.Bar(
            x=[c for _, c in counts],
            y=[r for r, _ in counts],
            orientation="h",
            marker_color="#8a3300",
            text=[c for _, c in counts],
            textposition="outside",
        )
    )
    figure.update_layout(
        title=f"Rejections by reason (newest {len(letters)})",
        height=120 + 30 * len(counts),
        yaxis={"autorange": "reversed"},
        margin={"l": 180, "r": 40, "t": 50, "b": 30},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
    )
    return figure


def by_device(letters: list[DeadLetterOut], top: int = 10) -> list[tuple[str, int, str]]:
    """The devices with most rejections and their commonest reason: who to call about a faulty unit."""
    per_device: dict[str, Counter[str]] = {}
    for d in letters:
        per_device.setdefault(d.device_id or "(unknown device)", Counter())[d.reason] += 1
    ranked = sorted(per_device.items(), key=lambda kv: -sum(kv[1].values()))[:top]
    return [(device, sum(reasons.values()), reasons.most_common(1)[0][0]) for device, reasons in ranked]


def layout() -> html.Div:
    return html.Div(
        [
            dmc.Title("Data quality", order=1, size="h2"),
            dmc.Text("Messages the platform refused (dead letters), with the reason code the ingest gave."),
            html.Div(id="dq-body"),
            dcc.Interval(id="dq-refresh", interval=30_000),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(Output("dq-body", "children"), Input("dq-refresh", "n_intervals"), State("session", "data"))
    async def refresh(_: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        try:
            letters = await ctx.api.read(session["token"], "/dead-letters", DEAD_LETTERS, limit=SHOWN)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load dead letters")
        if not letters:
            return dmc.Alert("No rejected messages.", color="green")
        now = datetime.now(UTC)
        devices = [html.Tr([html.Td(d), html.Td(str(n)), html.Td(r)]) for d, n, r in by_device(letters)]
        recent = [
            html.Tr(
                [
                    html.Td(local_time(d.received_at, ctx.tz, DAY_TIME)),
                    html.Td(ago(d.received_at, now)),
                    html.Td(d.device_id or ""),
                    html.Td(d.reason),
                    html.Td(d.detail),
                ]
            )
            for d in letters[:50]
        ]
        return dmc.Stack(
            [
                dcc.Graph(figure=rejections_figure(letters), config={"displayModeBar": False}),
                dmc.Title("Devices with most rejections", order=2, size="h4"),
                dmc.Table(
                    [
                        html.Thead(html.Tr([html.Th("Device"), html.Th("Rejections"), html.Th("Commonest reason")])),
                        html.Tbody(devices),
                    ]
                ),
                dmc.Title("Newest rejections", order=2, size="h4"),
                dmc.Table(
                    [
                        html.Thead(html.Tr([html.Th(h) for h in ("Received", "Age", "Device", "Reason", "Detail")])),
                        html.Tbody(recent),
                    ]
                ),
            ]
        )
