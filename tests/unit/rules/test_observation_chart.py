"""The observation chart's columns score each set as the rules worker scored the patient at that time."""

from __future__ import annotations

from datetime import timedelta

from rules.core.evaluate import score_news2
from rules.core.news2 import Status
from rules.core.observation_chart import chart_columns
from rules.core.ruleset import default_ruleset
from tests.unit.rules.builders import NORMAL, NOW, context
from vward.domain.metrics import Metric
from vward.domain.readings import Observation, ReadingValue

HOUR = timedelta(hours=1)
START = NOW - 24 * HOUR
FRESHNESS = {str(m): timedelta(hours=6) for m in Metric}


def at(metric: str, value: ReadingValue, offset: timedelta) -> Observation:
    return Observation(Metric(metric), value, START + offset)


def full_set(offset: timedelta, **changes: ReadingValue) -> list[Observation]:
    return [at(m, changes.get(m, v), offset) for m, v in NORMAL.items()]


def columns(observations: list[Observation], **kwargs: object) -> list:  # type: ignore[type-arg]
    ordered = sorted(observations, key=lambda o: o.measured_at)
    return chart_columns(ordered, start=START, step=HOUR, scale=1, freshness=FRESHNESS, **kwargs)  # type: ignore[arg-type]


def test_empty_columns_are_left_out_and_a_column_is_dated_by_its_last_reading() -> None:
    found = columns([*full_set(timedelta(minutes=5)), at("heart_rate", 72.0, timedelta(hours=3, minutes=40))])
    assert [(c.start, c.at) for c in found] == [
        (START, START + timedelta(minutes=5)),
        (START + 3 * HOUR, START + timedelta(hours=3, minutes=40)),
    ]
    assert found[1].measured == frozenset({"heart_rate"})


def test_values_carry_into_later_columns_with_their_age_until_they_are_stale() -> None:
    found = columns([*full_set(timedelta(0)), at("heart_rate", 75.0, 5 * HOUR), at("heart_rate", 76.0, 7 * HOUR)])
    five, seven = found[1].result, found[2].result
    assert five.complete
    assert five.score == 0
    assert five.parameters["temperature"].age_minutes == 300
    assert five.parameters["temperature"].measured_at == START
    assert not seven.complete  # everything but the pulse is 7 h old: past the 6 h window
    assert seven.parameters["temperature"].status is Status.STALE
    assert seven.lower_bound == 0


def test_readings_before_the_window_seed_the_first_column() -> None:
    before = [at(m, v, -2 * HOUR) for m, v in NORMAL.items()]
    (column,) = columns([*before, at("respiratory_rate", 26.0, HOUR)])
    assert column.result.complete
    assert column.result.score == 3


def test_the_last_value_in_a_column_is_the_one_scored() -> None:
    stream = [at("heart_rate", 72.0 + i, timedelta(minutes=i)) for i in range(50)]
    (column,) = columns([*full_set(timedelta(0)), *stream, at("heart_rate", 135.0, timedelta(minutes=55))])
    assert column.result.parameters["heart_rate"].value == 135.0
    assert column.result.parameters["heart_rate"].score == 3
    assert column.result.red_score


def test_supplemental_oxygen_as_a_boolean_scores_two_and_switches_scale_2() -> None:
    found = chart_columns(
        full_set(timedelta(0), on_oxygen=True, spo2=97.0), start=START, step=HOUR, scale=2, freshness=FRESHNESS
    )
    result = found[0].result
    assert result.parameters["on_oxygen"].score == 2
    assert result.parameters["spo2"].score == 3  # scale 2 on oxygen: 97 and above scores 3
    assert result.score == 5


def test_an_incomplete_set_has_no_score_but_a_lower_bound() -> None:
    observations = [
        o for o in full_set(timedelta(0), consciousness="V", respiratory_rate=26.0) if o.metric != "temperature"
    ]
    (column,) = columns(observations)
    assert (column.result.score, column.result.band, column.result.complete) == (None, None, False)
    assert column.result.lower_bound == 6
    assert column.result.missing == ("temperature",)


def test_a_patient_news2_does_not_apply_to_keeps_values_but_no_scores() -> None:
    (column,) = columns(full_set(timedelta(0), respiratory_rate=26.0), not_applicable_reason="pregnant")
    assert not column.result.applicable
    assert column.result.reason == "pregnant"
    assert column.result.parameters["respiratory_rate"].value == 26.0
    assert {p.score for p in column.result.parameters.values()} == {None}
    assert column.result.score is None


def test_a_stream_scores_as_the_worker_scores_it_its_median_not_its_newest_sample() -> None:
    """The demo's gap: a column whose last heart rate was an artefact (160 among 72s) scored 3 on the chart
    while the worker, scoring the window's median, scored 0."""
    rules = default_ruleset()
    last = timedelta(minutes=30)
    rates = [72.0] * 11 + [160.0]
    samples = [(START + last - (len(rates) - 1 - i) * timedelta(seconds=5), v) for i, v in enumerate(rates)]
    observations = [*full_set(timedelta(minutes=5)), at("heart_rate", 160.0, last)]
    plain = columns(observations)
    assert plain[-1].result.parameters["heart_rate"].score == 3  # without the stream's samples: as measured
    streamed = columns(observations, streams=rules.news2.streams, samples={"heart_rate": samples})
    cell = streamed[-1].result.parameters["heart_rate"]
    assert (cell.value, cell.score) == (72.0, 0)
    others = {m: v for m, v in NORMAL.items() if m != "heart_rate"}
    history = tuple(Observation(Metric.HEART_RATE, v, t) for t, v in samples)
    worker = score_news2(context(others, history=history), rules, START + last)
    assert worker.parameters["heart_rate"].value == cell.value
