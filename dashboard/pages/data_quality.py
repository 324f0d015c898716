"""Dead letters and data quality for ops: what devices sent that the platform refused, by reason and device,
and the devices whose clocks are off."""

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
from dashboard.formatting import DAY_TIME, ago, device_kind, local_time
from vward.contract.operations import DeadLetterOut, DeviceClockOut

SHOWN = 500  # the newest rejections examined; enough to see which reason or device dominates
DEAD_LETTERS = TypeAdapter(list[DeadLetterOut])
DEVICE_CLOCKS = TypeAdapter(list[DeviceClockOut])


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
            dmc.Text(
                "Messages the platform refused (dead letters), with the reason code the ingest gave, and devices"
                " whose clocks are off."
            ),
            html.Div(id="dq-body"),
            dcc.Interval(id="dq-refresh", interval=30_000),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(Output("dq-body", "children"), Input("dq-refresh", "n_intervals"), State("session", "data"))
    async def refresh(_: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        now = datetime.now(UTC)
        return dmc.Stack([await _rejections(ctx, session["token"], now), await _clocks(ctx, session["token"], now)])


async def _rejections(ctx: Context, token: str, now: datetime) -> Any:
    try:
        letters = await ctx.api.read(token, "/dead-letters", DEAD_LETTERS, limit=SHOWN)
    except ApiError as exc:
        return dmc.Alert(exc.detail, color="red", title="Could not load dead letters")
    if not letters:
        return dmc.Alert("No rejected messages.", color="green")
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


def clock_state(clock: DeviceClockOut) -> str:
    """What a device's clock judgement means for its readings, in the words ops act on."""
    if clock.offset_seconds is None:
        return f"back in sync; still corrected by {span(clock.corrected_seconds)}" if clock.corrected_seconds else ""
    if clock.offset_seconds > 0:
        return f"{span(clock.offset_seconds)} fast; times corrected by {span(clock.corrected_seconds)}"
    return f"{span(-clock.offset_seconds)} behind or delayed; readings keep their times and look older"


def span(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if abs(seconds) >= 90 else f"{seconds:.0f} s"


async def _clocks(ctx: Context, token: str, now: datetime) -> Any:
    try:
        clocks = await ctx.api.read(token, "/device-clocks", DEVICE_CLOCKS)
    except ApiError as exc:
        return dmc.Alert(exc.detail, color="red", title="Could not load device clocks")
    title = dmc.Title("Device clocks", order=2, size="h4")
    if not clocks:
        return dmc.Stack([title, dmc.Text("Every device's clock agrees with the platform's within 30 s.")])
    rows = [
        html.Tr(
            [
                html.Td(c.device_id),
                html.Td(device_kind(c.kind)),
                html.Td(clock_state(c)),
                html.Td("" if c.last_seen_at is None else ago(c.last_seen_at, now)),
            ]
        )
        for c in clocks
    ]
    return dmc.Stack(
        [
            title,
            dmc.Text(
                "A clock that runs ahead is corrected from the device's own messages (a message cannot arrive"
                " before it was sent); one that runs behind cannot be told from a delayed link, so its readings"
                " keep their times. Set the device's clock."
            ),
            dmc.Table(
                [
                    html.Thead(html.Tr([html.Th(h) for h in ("Device", "Kind", "Clock", "Last seen")])),
                    html.Tbody(rows),
                ]
            ),
        ]
    )
