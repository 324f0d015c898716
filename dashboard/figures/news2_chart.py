"""The RCP-style NEWS2 observation chart drawn from the API's scored columns: a row per parameter, a
column per observation set, each cell coloured by its score and labelled with value and score, so colour is
never the only cue. Each cell also says how old its value was when the set was scored; a stale one is grey
and says so, and the hover gives its own measured time."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.formatting import DAY_TIME, duration, local_time
from vward.contract.patients import ChartCell, ChartColumn, News2Chart

ROW_LABELS = {
    "respiratory_rate": "Respiration rate /min",
    "spo2": "SpO2 %",
    "on_oxygen": "Air or oxygen",
    "systolic_bp": "Systolic BP mmHg",
    "heart_rate": "Pulse /min",
    "consciousness": "Consciousness",
    "temperature": "Temperature °C",
}
TOTAL_ROW = "NEWS2 total"
# Score 0..3 on the RCP chart's white, yellow, orange and red; -1 is "not measured" or stale: no colour.
SCORE_COLOURS = [(-1, "#f5f5f5"), (0, "#ffffff"), (1, "#fff176"), (2, "#ffb74d"), (3, "#e57373")]
CARRIED_NOTE_MINUTES = 1.0  # a value older than this at the column's time says its age in the cell


def shown_value(cell: ChartCell) -> str:
    if cell.value is None:
        return ""
    if cell.parameter == "on_oxygen":
        return "O2" if cell.value is True else "Air"
    if cell.parameter == "temperature" and isinstance(cell.value, float):
        return f"{cell.value:.1f}"
    if isinstance(cell.value, float):
        return f"{cell.value:.0f}"
    return str(cell.value)


def compact_age(minutes: float) -> str:
    """'12m', '3h', '2d': an age that fits under a value in an hourly column."""
    if minutes < 60:
        return f"{minutes:.0f}m"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f}h"
    return f"{minutes / 1440:.0f}d"


def cell_text(cell: ChartCell) -> str:
    """The value over its score; a value carried from earlier is in italics over its age ('6h old' in short),
    a stale one says so instead of a score. Stacked, so that an hourly column stays readable."""
    if cell.value is None:
        return ""
    if cell.status == "stale":
        return f"{shown_value(cell)}<br>stale"
    lines = [shown_value(cell)] + ([] if cell.score is None else [f"({cell.score})"])
    age = cell.age_minutes or 0.0
    if cell.carried and age >= CARRIED_NOTE_MINUTES:
        lines = [f"<i>{lines[0]}</i>", *lines[1:], f"<i>{compact_age(age)}</i>"]
    return "<br>".join(lines)


def cell_hover(cell: ChartCell, tz: str) -> str:
    label = ROW_LABELS.get(cell.parameter, cell.parameter)
    if cell.value is None:
        return f"{label}: not measured"
    scored = "not scored" if cell.score is None else f"score {cell.score}"
    status = " · STALE: older than the rule set allows" if cell.status == "stale" else ""
    at = local_time(cell.measured_at, tz, DAY_TIME)
    return f"{label}: {shown_value(cell)} · {scored} · measured {at} ({duration(cell.age_minutes or 0)} before){status}"


def cell_colour(cell: ChartCell) -> int:
    return -1 if cell.score is None or cell.status != "ok" else cell.score


def column_total(column: ChartColumn, applicable: bool) -> str:
    """The column total; an incomplete set shows 'at least' its known part, never a silent full score."""
    if not applicable:
        return "—"
    if column.score is not None:
        return str(column.score)
    return f"≥{column.lower_bound or 0}"


def news2_chart(chart: News2Chart, tz: str) -> go.Figure:
    """A heatmap laid out like the paper chart: parameters down, observation sets across, labelled by the
    time each set was scored."""
    columns = chart.columns
    x = [local_time(c.at, tz, "%a %H:%M") for c in columns]
    parameters = [cell.parameter for cell in columns[0].cells] if columns else list(ROW_LABELS)
    z: list[list[int]] = []
    text: list[list[str]] = []
    hover: list[list[str]] = []
    for row in range(len(parameters)):
        cells = [c.cells[row] for c in columns]
        z.append([cell_colour(cell) for cell in cells])
        text.append([cell_text(cell) for cell in cells])
        hover.append([cell_hover(cell, tz) for cell in cells])
    z.append([-1 for _ in columns])
    text.append([f"<b>{column_total(c, chart.applicable)}</b>" for c in columns])
    hover.append([f"set scored {local_time(c.at, tz, DAY_TIME)}" for c in columns])
    low, high = SCORE_COLOURS[0][0], SCORE_COLOURS[-1][0]
    colourscale = [[(score - low) / (high - low), colour] for score, colour in SCORE_COLOURS]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=[*(ROW_LABELS.get(p, p) for p in parameters), TOTAL_ROW],
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            zmin=low,
            zmax=high,
            colorscale=colourscale,
            showscale=False,
            textfont={"size": 10},
            xgap=2,
            ygap=2,
        )
    )
    figure.update_layout(
        title={"text": chart_title(chart), "font": {"size": 12}, "y": 0.98, "yanchor": "top"},
        yaxis={"autorange": "reversed", "fixedrange": True},
        xaxis={"side": "top", "fixedrange": True, "type": "category"},
        height=560,
        margin={"l": 150, "r": 10, "t": 120, "b": 10},
        plot_bgcolor="#ffffff",
        font={"color": "#1a1a1a"},
    )
    return figure


def chart_title(chart: News2Chart) -> str:
    if not chart.applicable:
        return f"NEWS2 does not apply ({chart.reason}): values shown unscored"
    if not chart.columns:
        return f"No NEWS2 observations in this period · SpO2 scale {chart.scale}"
    return (
        f"SpO2 scale {chart.scale} · {chart.rule_set} · value (score); <i>italic: carried, with its age</i>"
        "<br>grey: not measured or stale · hover a cell for when it was measured"
    )
