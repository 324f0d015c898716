"""The RCP-style NEWS2 observation chart: a row per parameter, a column per observation set, cells
coloured by their score and labelled with value and score, so colour is never the only cue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from dashboard.formatting import local_time, parse_time
from rules.core.news2 import PARAMETERS, score_parameter
from vward.domain.metrics import Metric

ROW_LABELS = {
    Metric.RESPIRATORY_RATE: "Respiration rate /min",
    Metric.SPO2: "SpO2 %",
    Metric.ON_OXYGEN: "Air or oxygen",
    Metric.SYSTOLIC_BP: "Systolic BP mmHg",
    Metric.HEART_RATE: "Pulse /min",
    Metric.CONSCIOUSNESS: "Consciousness",
    Metric.TEMPERATURE: "Temperature °C",
}
TOTAL_ROW = "NEWS2 total"
# Score 0..3 on the RCP chart's white, yellow, orange and red; -1 is "not measured in this set".
SCORE_COLOURS = [(-1, "#f5f5f5"), (0, "#ffffff"), (1, "#fff176"), (2, "#ffb74d"), (3, "#e57373")]


@dataclass(frozen=True, slots=True)
class ObservationSet:
    """The last value of each parameter measured within one chart column."""

    start: datetime
    values: dict[Metric, Any]


def observation_sets(
    readings: list[dict[str, Any]], start: datetime, end: datetime, step: timedelta
) -> list[ObservationSet]:
    """Bucket readings into chart columns of `step`; empty columns are left out, as on a paper chart."""
    columns: dict[int, dict[Metric, Any]] = {}
    for r in readings:
        try:
            metric = Metric(r["metric"])
        except ValueError:
            continue
        at = parse_time(r["measured_at"])
        if metric not in PARAMETERS or at is None or not start <= at < end:
            continue
        columns.setdefault(int((at - start) / step), {})[metric] = r["value"]
    return [ObservationSet(start + i * step, columns[i]) for i in sorted(columns)]


def _cell(metric: Metric, value: Any, scale: int, on_oxygen: bool) -> tuple[int, str]:
    if value is None:
        return -1, ""
    score = score_parameter(metric, value, scale=scale, on_oxygen=on_oxygen)
    if metric is Metric.ON_OXYGEN:
        shown = "O2" if value else "Air"
    elif metric is Metric.TEMPERATURE:
        shown = f"{float(value):.1f}"
    elif isinstance(value, float):
        shown = f"{value:.0f}"
    else:
        shown = str(value)
    return score, f"{shown}<br>({score})"


def set_total(s: ObservationSet, scale: int) -> str:
    """The column total; an incomplete set shows 'at least' its partial sum, never a silent full score."""
    on_oxygen = s.values.get(Metric.ON_OXYGEN) is True
    scores = [_cell(m, s.values.get(m), scale, on_oxygen)[0] for m in PARAMETERS]
    partial = sum(x for x in scores if x > 0)
    return str(partial) if all(x >= 0 for x in scores) else f"≥{partial}"


def news2_chart(sets: list[ObservationSet], scale: int, tz: str) -> go.Figure:
    """A heatmap laid out like the paper chart: parameters down, observation times across."""
    x = [local_time(s.start, tz, "%H:%M") for s in sets]
    rows = [ROW_LABELS[m] for m in PARAMETERS]
    z: list[list[int]] = []
    text: list[list[str]] = []
    for metric in PARAMETERS:
        cells = [_cell(metric, s.values.get(metric), scale, s.values.get(Metric.ON_OXYGEN) is True) for s in sets]
        z.append([c[0] for c in cells])
        text.append([c[1] for c in cells])
    z.append([-1 for _ in sets])
    text.append([f"<b>{set_total(s, scale)}</b>" for s in sets])
    low, high = SCORE_COLOURS[0][0], SCORE_COLOURS[-1][0]
    colourscale = [[(score - low) / (high - low), colour] for score, colour in SCORE_COLOURS]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=[*rows, TOTAL_ROW],
            text=text,
            texttemplate="%{text}",
            zmin=low,
            zmax=high,
            colorscale=colourscale,
            showscale=False,
            textfont={"size": 11},
            xgap=2,
            ygap=2,
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        title=f"SpO2 scale {scale}; each cell shows the value and (score); grey: not measured",
        yaxis={"autorange": "reversed", "fixedrange": True},
        xaxis={"side": "top", "fixedrange": True, "type": "category"},
        height=420,
        margin={"l": 170, "r": 20, "t": 90, "b": 20},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
    )
    return figure
