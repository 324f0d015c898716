"""Vital-sign trends with NEWS2 threshold bands and alert markers, and the weight trend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.formatting import metric_label, parse_time, unit_label
from vward.contract.patients import Reading, ScoreRange
from vward.domain.metrics import METRIC_SPECS, Metric

TREND_METRICS = (Metric.HEART_RATE, Metric.RESPIRATORY_RATE, Metric.SPO2, Metric.SYSTOLIC_BP, Metric.TEMPERATURE)
BAND_FILL = {1: "rgba(255, 241, 118, 0.35)", 2: "rgba(255, 183, 77, 0.35)", 3: "rgba(229, 115, 115, 0.30)"}
# Chart ranges: where a ward chart's axis would sit, not the plausibility limits (those are far wider).
AXIS_RANGE = {
    Metric.HEART_RATE: (30.0, 150.0),
    Metric.RESPIRATORY_RATE: (4.0, 32.0),
    Metric.SPO2: (80.0, 100.0),
    Metric.SYSTOLIC_BP: (70.0, 230.0),
    Metric.TEMPERATURE: (34.0, 40.5),
}


def series(readings: list[Reading], metric: Metric) -> tuple[list[datetime], list[float]]:
    """A numeric metric's points in time order (a boolean or a letter never plots as a number)."""
    pairs = sorted((r.measured_at, r.value) for r in readings if r.metric == metric and isinstance(r.value, float))
    return [p[0] for p in pairs], [float(p[1]) for p in pairs]


def vital_trends(
    readings: list[Reading],
    alerts: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    ranges: dict[str, list[ScoreRange]],
    tz: str,
) -> go.Figure:
    """One panel per vital sign on a shared time axis, shaded where NEWS2 would score 1, 2 or 3."""
    figure = make_subplots(
        rows=len(TREND_METRICS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[f"{metric_label(m)} ({unit_label(METRIC_SPECS[m].unit)})" for m in TREND_METRICS],
    )
    for row, metric in enumerate(TREND_METRICS, start=1):
        low, high = AXIS_RANGE[metric]
        step = 0.1 if metric is Metric.TEMPERATURE else 1.0
        times, values = series(readings, metric)
        figure.add_trace(
            go.Scatter(
                x=times,
                y=values,
                mode="lines+markers",
                marker={"size": 4},
                line={"color": "#1c3faa"},
                name=metric_label(metric),
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        # Bands after the trace: plotly skips shapes on subplots that have no trace yet.
        for band in ranges.get(str(metric), []):
            if band.score:
                figure.add_hrect(
                    y0=band.low - step / 2,
                    y1=band.high + step / 2,
                    fillcolor=BAND_FILL[band.score],
                    line_width=0,
                    layer="below",
                    row=row,
                    col=1,
                )
        figure.update_yaxes(range=[low, high], row=row, col=1, fixedrange=True)
    for alert in alerts:
        opened = parse_time(alert["opened_at"])
        if opened is not None and start <= opened <= end:
            figure.add_vline(x=opened, line={"color": "#b71c1c", "dash": "dash", "width": 1.5})
            figure.add_annotation(
                x=opened,
                y=1.0,
                yref="paper",
                text=f"⚠ {alert['title']}",
                showarrow=False,
                font={"color": "#b71c1c", "size": 11},
                xanchor="left",
                yanchor="bottom",
            )
    figure.update_xaxes(range=[start, end])
    figure.update_layout(
        height=170 * len(TREND_METRICS),
        margin={"l": 60, "r": 20, "t": 50, "b": 30},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
        xaxis={"title": None},
    )
    return figure


def weight_trend(readings: list[Reading], start: datetime, end: datetime) -> go.Figure:
    """Daily weights: a heart-failure patient gaining 2 kg in three days needs a call."""
    times, values = series(readings, Metric.WEIGHT)
    figure = go.Figure(go.Scatter(x=times, y=values, mode="lines+markers", line={"color": "#1c3faa"}, name="Weight"))
    figure.update_layout(
        title="Weight (kg)" if values else "Weight (kg): no weights recorded in this period",
        height=260,
        margin={"l": 60, "r": 20, "t": 50, "b": 30},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
        xaxis={"range": [start, end]},
    )
    return figure
