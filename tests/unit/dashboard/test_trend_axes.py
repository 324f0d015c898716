"""Trend charts keep time axes before their first reading (found by the browser soak, tests/e2e/test_demo_soak.py).

Plotly types the x axis of a subplot with no points as linear; an alert marker on it (a date string) was then
drawn at NaN: the browser logged `<path> attribute d: Expected number, "MNaN,..."` and the marker was lost,
on the record of a patient whose alert came before their first reading of some vital sign."""

from __future__ import annotations

from datetime import timedelta

from dashboard.figures.trends import TREND_METRICS, vital_trends, weight_trend
from tests.unit.dashboard.builders import NOW, alert
from vward.contract.patients import VitalBucket, VitalSeries

START = NOW - timedelta(hours=24)


def test_every_trend_subplot_has_a_time_axis_even_with_no_readings() -> None:
    bucket = VitalBucket(start=NOW - timedelta(minutes=10), minimum=80, maximum=96, median=88, readings=12)
    vitals = VitalSeries(step_minutes=10, series={"heart_rate": [bucket]}, ranges={})
    figure = vital_trends(vitals, [alert(1)], START, NOW)
    axes = [figure.layout[name] for name in figure.layout if name.startswith("xaxis")]
    assert len(axes) == len(TREND_METRICS)
    assert [axis.type for axis in axes] == ["date"] * len(TREND_METRICS)
    markers = [shape for shape in figure.layout.shapes if shape.type == "line"]
    assert {shape.xref for shape in markers} == {"x", *(f"x{i}" for i in range(2, len(TREND_METRICS) + 1))}


def test_an_empty_weight_chart_keeps_a_time_axis() -> None:
    assert weight_trend([], NOW - timedelta(days=30), NOW).layout.xaxis.type == "date"
