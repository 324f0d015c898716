"""Vital-sign trends with NEWS2 threshold bands and alert markers (from the API's summarised series: a
bucket's median as the line, its range shaded), and the weight trend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.formatting import metric_label
from vward.contract.alerts import AlertOut
from vward.contract.patients import Reading, ScoreRange, VitalBucket, VitalSeries
from vward.domain.metrics import METRIC_SPECS, Metric

TREND_METRICS = (Metric.HEART_RATE, Metric.RESPIRATORY_RATE, Metric.SPO2, Metric.SYSTOLIC_BP, Metric.TEMPERATURE)
BAND_FILL = {1: "rgba(255, 241, 118, 0.35)", 2: "rgba(255, 183, 77, 0.35)", 3: "rgba(229, 115, 115, 0.30)"}


def series(readings: list[Reading], metric: Metric) -> tuple[list[datetime], list[float]]:
    """A numeric metric's points in time order (a boolean or a letter never plots as a number)."""
    pairs = sorted((r.measured_at, r.value) for r in readings if r.metric == metric and isinstance(r.value, float))
    return [p[0] for p in pairs], [float(p[1]) for p in pairs]


def _envelope(buckets: list[VitalBucket], step: timedelta, label: str) -> list[go.Scatter]:
    """The bucket's range shaded (lowest to highest: a spike stays visible) and its median as the line."""
    x = [b.start + step / 2 for b in buckets]
    hover = [
        f"{label}: median {b.median:g} (range {b.minimum:g}-{b.maximum:g}, {b.readings} readings)" for b in buckets
    ]
    return [
        go.Scatter(x=x, y=[b.maximum for b in buckets], mode="lines", line={"width": 0}, hoverinfo="skip"),
        go.Scatter(
            x=x,
            y=[b.minimum for b in buckets],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(28, 63, 170, 0.18)",
            hoverinfo="skip",
        ),
        go.Scatter(
            x=x,
            y=[b.median for b in buckets],
            mode="lines+markers",
            marker={"size": 4},
            line={"color": "#1c3faa"},
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        ),
    ]


def _band(band: ScoreRange, row: int, half_step: float) -> dict[str, Any]:
    """A full-width shaded stretch of subplot `row`'s axis where NEWS2 scores `band.score`."""
    axis = "" if row == 1 else str(row)
    return {
        "type": "rect",
        "xref": f"x{axis} domain",
        "yref": f"y{axis}",
        "x0": 0,
        "x1": 1,
        "y0": band.low - half_step,
        "y1": band.high + half_step,
        "fillcolor": BAND_FILL[band.score],
        "line": {"width": 0},
        "layer": "below",
    }


def vital_trends(
    vitals: VitalSeries,
    alerts: list[AlertOut],
    start: datetime,
    end: datetime,
) -> go.Figure:
    """One panel per vital sign on a shared time axis, shaded where NEWS2 would score 1, 2 or 3; each
    bucket's range around its median."""
    figure = make_subplots(
        rows=len(TREND_METRICS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[f"{metric_label(m)} ({METRIC_SPECS[m].shown_unit})" for m in TREND_METRICS],
    )
    step = timedelta(minutes=vitals.step_minutes)
    shapes: list[dict[str, Any]] = []
    for row, metric in enumerate(TREND_METRICS, start=1):
        bands = vitals.ranges.get(str(metric), [])
        half_step = 0.05 if metric is Metric.TEMPERATURE else 0.5
        for trace in _envelope(vitals.series.get(str(metric), []), step, metric_label(metric)):
            figure.add_trace(trace.update(showlegend=False), row=row, col=1)
        shapes += [_band(band, row, half_step) for band in bands if band.score]
        if bands:  # the ward chart's axis: where NEWS2's ranges run, not the far wider plausibility limits
            figure.update_yaxes(range=[bands[0].low, bands[-1].high], row=row, col=1, fixedrange=True)
    figure.update_layout(shapes=shapes)  # in one go: add_hrect per band took most of the figure's build time
    for alert in alerts:
        if start <= alert.opened_at <= end:
            figure.add_vline(x=alert.opened_at, line={"color": "#b71c1c", "dash": "dash", "width": 1.5})
            figure.add_annotation(
                x=alert.opened_at,
                y=1.0,
                yref="paper",
                text=f"⚠ {alert.title}",
                showarrow=False,
                font={"color": "#b71c1c", "size": 11},
                xanchor="left",
                yanchor="bottom",
            )
    # A time axis even before its first reading: plotly types an empty subplot's axis as linear, and the
    # alert markers on it (date strings) then draw at NaN, with console errors and no marker.
    figure.update_xaxes(type="date", range=[start, end])
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
        xaxis={"type": "date", "range": [start, end]},
    )
    return figure
