"""The observation chart and trend figures are pure functions of API data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.figures.burden import burden_meter, burden_summary, preview_costs, preview_figure
from dashboard.figures.news2_chart import TOTAL_ROW, news2_chart
from dashboard.figures.trends import vital_trends, weight_trend
from rules.core.news2 import score_ranges
from rules.core.observation_chart import chart_columns
from tests.unit.dashboard import builders
from vward.api.chart_axes import score_bands
from vward.api.routers.news2_chart import column_out
from vward.contract.operations import AlertBurden
from vward.contract.patients import News2Chart, Reading, VitalBucket, VitalSeries
from vward.contract.rulesets import RuleSetPreview
from vward.domain.metrics import Metric
from vward.domain.readings import Observation

START = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


EXTRA = {"received_at": "2026-01-10T00:00:00+00:00", "device_id": "d1", "flags": []}


def reading(metric: str, value: Any, at: datetime) -> dict[str, Any]:
    return {"metric": metric, "value": value, "measured_at": at.isoformat()}


def typed(answer: dict[str, Any]) -> Reading:
    return Reading.model_validate(answer | EXTRA)


FULL_SET = [
    ("respiratory_rate", 22.0),
    ("spo2", 95.0),
    ("on_oxygen", False),
    ("systolic_bp", 105.0),
    ("heart_rate", 95.0),
    ("consciousness", "A"),
    ("temperature", 38.5),
]


def chart(observations: list[tuple[str, Any, datetime]], **fields: Any) -> News2Chart:
    """What GET /news2-chart answers, through the same core and mapping, round-tripped as JSON."""
    found = chart_columns(
        [Observation(Metric(m), v, t) for m, v, t in sorted(observations, key=lambda o: o[2])],
        start=START,
        step=HOUR,
        scale=fields.get("scale", 1),
        freshness={str(m): timedelta(hours=6) for m in Metric},
        not_applicable_reason=fields.get("reason"),
    )
    answer = News2Chart(
        scale=fields.get("scale", 1),
        applicable=fields.get("reason") is None,
        reason=fields.get("reason"),
        rule_set="default v1",
        columns=[column_out(c) for c in found],
        ranges={},
    )
    return News2Chart.model_validate_json(answer.model_dump_json())


def test_the_chart_has_a_row_per_parameter_and_labels_every_cell_with_value_and_score() -> None:
    figure = news2_chart(chart([(m, v, START) for m, v in FULL_SET]), tz="Europe/London")
    heatmap = figure.data[0]
    assert list(heatmap.y) == [
        "Respiration rate /min",
        "SpO2 %",
        "Air or oxygen",
        "Systolic BP mmHg",
        "Pulse /min",
        "Consciousness",
        "Temperature °C",
        TOTAL_ROW,
    ]
    assert [row[0] for row in heatmap.z] == [2, 1, 0, 1, 1, 0, 1, -1]
    assert heatmap.text[0][0] == "22<br>(2)"
    assert heatmap.text[2][0] == "Air<br>(0)"
    assert heatmap.text[6][0] == "38.5<br>(1)"
    assert heatmap.text[7][0] == "<b>6</b>"
    assert list(heatmap.x) == ["Sat 00:00"]
    assert "measured 10 Jan 00:00" in heatmap.customdata[0][0]  # hover: the cell's own time


def test_supplemental_oxygen_served_as_true_is_scored_and_shown_as_oxygen() -> None:
    """The record was blank for every patient when oxygen came as 1.0; served as true it scores 2."""
    on_oxygen = [(m, True if m == "on_oxygen" else v, START) for m, v in FULL_SET]
    heatmap = news2_chart(chart(on_oxygen), tz="UTC").data[0]
    assert heatmap.text[2][0] == "O2<br>(2)"
    assert heatmap.text[7][0] == "<b>8</b>"


def test_a_carried_value_says_its_age_and_a_stale_one_is_grey_and_says_so() -> None:
    later = [("heart_rate", 72.0, START + 3 * HOUR), ("heart_rate", 73.0, START + 7 * HOUR)]
    heatmap = news2_chart(chart([*((m, v, START) for m, v in FULL_SET), *later]), tz="UTC").data[0]
    assert heatmap.text[6][1] == "<i>38.5</i><br>(1)<br><i>3h</i>"
    assert heatmap.text[4][1] == "72<br>(0)"  # measured in this column: no age note
    assert heatmap.text[6][2] == "38.5<br>stale"
    assert heatmap.z[6][2] == -1
    assert heatmap.text[7][2] == "<b>≥0</b>"
    assert "STALE" in heatmap.customdata[6][2]


def test_an_incomplete_set_totals_at_least_its_known_part() -> None:
    heatmap = news2_chart(chart([("respiratory_rate", 26.0, START)]), tz="UTC").data[0]
    assert heatmap.text[7][0] == "<b>≥3</b>"
    assert heatmap.z[1][0] == -1  # SpO2 never measured
    assert heatmap.text[1][0] == ""


def test_news2_that_does_not_apply_is_said_in_words_with_values_unscored() -> None:
    figure = news2_chart(chart([(m, v, START) for m, v in FULL_SET], reason="pregnant"), tz="UTC")
    assert "NEWS2 does not apply (pregnant)" in figure.layout.title.text
    assert figure.data[0].text[0][0] == "22"
    assert figure.data[0].text[7][0] == "<b>—</b>"


def test_a_reading_value_keeps_its_type_through_the_contract() -> None:
    served = [Reading.model_validate_json(json.dumps(reading(m, v, START) | EXTRA)).value for m, v in FULL_SET]
    assert served == [22.0, 95.0, False, 105.0, 95.0, "A", 38.5]
    assert Reading.model_validate(reading("on_oxygen", 1.0, START) | EXTRA).value == 1.0  # never True


def test_threshold_bands_come_from_the_news2_chart() -> None:
    assert score_ranges(Metric.HEART_RATE, 30, 150, 1) == [
        (30, 40, 3),
        (41, 50, 1),
        (51, 90, 0),
        (91, 110, 1),
        (111, 130, 2),
        (131, 150, 3),
    ]
    assert score_ranges(Metric.TEMPERATURE, 35.0, 36.2, 0.1)[:2] == [(35.0, 35.0, 3), (35.1, 36.0, 1)]


def test_trends_plot_each_vitals_median_with_its_range_shaded_bands_and_alerts() -> None:
    """A spike is never smoothed away: the bucket's maximum stays on the chart beside the median line."""
    buckets = [
        VitalBucket(
            start=START + i * HOUR, minimum=70.0 + i, maximum=160.0 if i == 2 else 90.0, median=80.0 + i, readings=720
        )
        for i in range(5)
    ]
    vitals = VitalSeries(step_minutes=60, series={"heart_rate": buckets}, ranges=score_bands(1))
    alert = builders.alert(1).model_copy(update={"opened_at": START + 3 * HOUR, "title": "NEWS2 5-6"})
    figure = vital_trends(vitals, [alert], START, START + 24 * HOUR)
    top, bottom, median = figure.data[:3]
    assert list(median.y) == [80.0, 81.0, 82.0, 83.0, 84.0]
    assert max(top.y) == 160.0
    assert bottom.fill == "tonexty"
    assert median.x[0] == START + HOUR / 2  # drawn at the middle of its bucket
    assert "range 72-160, 720 readings" in median.customdata[2]
    assert len(figure.data) == 3 * 5  # range and median per vital sign
    assert any(shape.line.dash == "dash" for shape in figure.layout.shapes)  # the alert marker
    assert any("NEWS2 5-6" in a.text for a in figure.layout.annotations)
    assert sum(1 for s in figure.layout.shapes if s.fillcolor) >= 5  # threshold bands
    assert "(°C)" in " ".join(a.text for a in figure.layout.annotations)  # UCUM "Cel" shown as people write it
    assert figure.layout.yaxis.range == (30.0, 150.0)  # the ward chart's heart-rate axis


def test_weight_trend_says_so_when_there_are_no_weights() -> None:
    empty = weight_trend([], START, START + 7 * 24 * HOUR)
    assert "no weights" in empty.layout.title.text
    weights = weight_trend([typed(reading("weight", 81.5, START))], START, START + HOUR)
    assert list(weights.data[0].y) == [81.5]


_SIDE = {
    "rule_set": "",
    "total": 0,
    "per_patient_day": 0.0,
    "per_severity": {},
    "busiest_patient_day": 0,
    "state_changes": 0,
    "state_changes_per_alert_hour": 0.0,
    "notifications": 0,
    "notifications_per_patient_day": 0.0,
    "reminders": 0,
    "open_alert_hours": 0.0,
    "open_per_nurse": 0.0,
}
PREVIEW_ANSWER = {
    "window": {"start": "2026-11-14T10:00:00+00:00", "end": "2026-11-21T10:00:00+00:00"},
    "patients": 10,
    "patient_days": 70.0,
    "readings": 5000,
    "evaluations": 4000,
    "elapsed_s": 1.5,
    "candidate": _SIDE
    | {
        "rule_set": "ward@2",
        "total": 5,
        "per_patient_day": 0.071,
        "per_shift": {"2026-11-20 07:00-19:00": 3, "2026-11-20 19:00-07:00": 2},
    },
    "published": _SIDE
    | {"rule_set": "ward@1", "total": 9, "per_patient_day": 0.129, "per_shift": {"2026-11-20 07:00-19:00": 9}},
    "per_rule": [
        {"rule_id": "news2", "candidate": 5, "published": 6},
        {"rule_id": "news2_incomplete", "candidate": 0, "published": 3},
    ],
    "staff": {
        "source": "observed: high (6); assumed otherwise",
        "nurses": 3,
        "acknowledge_minutes": {"high": 4.0, "medium": 30.0},
        "close_minutes": {"high": 50.0, "medium": 60.0},
    },
}


def test_the_preview_says_what_each_sides_alerts_cost_and_what_it_assumes_of_staff() -> None:
    answer = PREVIEW_ANSWER | {"candidate": PREVIEW_ANSWER["candidate"] | {"notifications": 7, "reminders": 2}}
    table, note = preview_costs(RuleSetPreview.model_validate(answer)).children
    draft = [c.children for c in table.children[1].children[0].children]
    assert draft == ["Draft ward@2", "5", "0 (0)", "7 (2)", "0.00"]
    assert note.children.startswith("Assumes 3 nurses on duty; alerts acknowledged/closed after (observed: high (6)")
    assert "high 4/50 min, medium 30/60 min" in note.children


def test_the_preview_puts_draft_and_published_side_by_side_per_rule_and_shift() -> None:
    answer = PREVIEW_ANSWER
    figure = preview_figure(RuleSetPreview.model_validate(answer))
    figure = preview_figure(RuleSetPreview.model_validate(answer))
    draft_rules, live_rules = figure.data[0], figure.data[2]
    assert list(draft_rules.x) == ["news2", "news2_incomplete"]
    assert list(draft_rules.y) == [5, 0]
    assert list(live_rules.y) == [6, 3]
    assert "ward@2: 5 alerts, 0.07 per patient-day" in draft_rules.name
    assert list(figure.data[3].y) == [9, 0]  # published per shift, a shift with none is a 0, not a gap
    assert "10 patients, 70 patient-days" in figure.layout.title.text
    assert figure.layout.xaxis2.type == "category"  # one shift drew as a date axis ticking milliseconds
    one = preview_figure(RuleSetPreview.model_validate(answer | {"patients": 1, "patient_days": 1.0}))
    assert "1 patient, 1 patient-day" in one.layout.title.text


def test_the_burden_meter_shows_the_apis_counts_per_ward_and_shift() -> None:
    answer = {
        "since": "2026-11-16T10:00:00+00:00",
        "total": 4,
        "per_ward_shift": [
            {"ward": "South", "shift_start": "2026-11-20", "shift": "19:00-07:00", "alerts": 1},
            {"ward": "North", "shift_start": "2026-11-20", "shift": "07:00-19:00", "alerts": 1},
            {"ward": "North", "shift_start": "2026-11-20", "shift": "19:00-07:00", "alerts": 1},
            {"ward": "platform", "shift_start": "2026-11-20", "shift": "19:00-07:00", "alerts": 1},
        ],
        "noisiest_rules": [{"rule_id": "news2", "alerts": 2}, {"rule_id": "spo2_low", "alerts": 1}],
        "noisiest_patients": [{"patient_id": 1, "alerts": 2}],
        "nurses_per_shift": 2,
    }
    summary = burden_summary(AlertBurden.model_validate(answer))
    assert summary.shifts == ["20 Nov 07:00-19:00", "20 Nov 19:00-07:00"]
    assert summary.per_ward_shift == {
        ("North", "20 Nov 07:00-19:00"): 1,
        ("South", "20 Nov 19:00-07:00"): 1,
        ("North", "20 Nov 19:00-07:00"): 1,
        ("platform", "20 Nov 19:00-07:00"): 1,
    }
    assert summary.noisiest_rules[0] == ("news2", 2)
    assert summary.noisiest_patients == [(1, 2)]
    figure = burden_meter(summary)
    assert list(figure.data[0].y) == [1, 1]  # North, one bar per shift
    assert [t.name for t in burden_meter(summary).data] == ["North", "South", "platform"]
