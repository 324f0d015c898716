"""NEWS2 against the RCP 2017 chart: every band edge on both sides, aggregate, bands, missing data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from rules.core.news2 import (
    Band,
    Status,
    applicability,
    assess,
    band_for,
    guidance,
    not_applicable,
    score_parameter,
    score_values,
)
from tests.unit.rules.builders import NORMAL
from vward.domain.metrics import Metric
from vward.domain.patients import Pathway, Patient
from vward.domain.readings import Observation, ReadingValue

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

RESPIRATION = [
    (0, 3),
    (8, 3),
    (9, 1),
    (11, 1),
    (12, 0),
    (20, 0),
    (21, 2),
    (24, 2),
    (25, 3),
    (60, 3),
    (20.4, 0),
    (20.5, 2),
]
SPO2_SCALE1 = [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
SYSTOLIC = [(40, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (300, 3)]
PULSE = [(20, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)]
TEMPERATURE = [
    (30.0, 3),
    (35.0, 3),
    (35.1, 1),
    (36.0, 1),
    (36.1, 0),
    (38.0, 0),
    (38.1, 1),
    (39.0, 1),
    (39.1, 2),
    (42.0, 2),
    (35.04, 3),
    (35.05, 1),
    (38.05, 1),
]
ACVPU = [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)]


@pytest.mark.parametrize(("value", "expected"), RESPIRATION)
def test_respiration_rate_bands(value: float, expected: int) -> None:
    assert score_parameter(Metric.RESPIRATORY_RATE, value) == expected


@pytest.mark.parametrize(("value", "expected"), SPO2_SCALE1)
@pytest.mark.parametrize("oxygen", [False, True])
def test_spo2_scale1_ignores_oxygen(value: float, expected: int, oxygen: bool) -> None:
    assert score_parameter(Metric.SPO2, value, scale=1, on_oxygen=oxygen) == expected


@pytest.mark.parametrize(
    ("value", "air", "oxygen"),
    [
        (70, 3, 3),
        (83, 3, 3),
        (84, 2, 2),
        (85, 2, 2),
        (86, 1, 1),
        (87, 1, 1),
        (88, 0, 0),
        (92, 0, 0),
        (93, 0, 1),
        (94, 0, 1),
        (95, 0, 2),
        (96, 0, 2),
        (97, 0, 3),
        (100, 0, 3),
    ],
)
def test_spo2_scale2_on_air_and_oxygen(value: float, air: int, oxygen: int) -> None:
    assert score_parameter(Metric.SPO2, value, scale=2, on_oxygen=False) == air
    assert score_parameter(Metric.SPO2, value, scale=2, on_oxygen=True) == oxygen


@pytest.mark.parametrize(("value", "expected"), [(False, 0), (True, 2)])
def test_air_or_oxygen(value: bool, expected: int) -> None:
    assert score_parameter(Metric.ON_OXYGEN, value) == expected


@pytest.mark.parametrize(("value", "expected"), SYSTOLIC)
def test_systolic_bands(value: float, expected: int) -> None:
    assert score_parameter(Metric.SYSTOLIC_BP, value) == expected


@pytest.mark.parametrize(("value", "expected"), PULSE)
def test_pulse_bands(value: float, expected: int) -> None:
    assert score_parameter(Metric.HEART_RATE, value) == expected


@pytest.mark.parametrize(("value", "expected"), ACVPU)
def test_consciousness(value: str, expected: int) -> None:
    assert score_parameter(Metric.CONSCIOUSNESS, value) == expected


@pytest.mark.parametrize(("value", "expected"), TEMPERATURE)
def test_temperature_bands_at_one_decimal(value: float, expected: int) -> None:
    assert score_parameter(Metric.TEMPERATURE, value) == expected


@pytest.mark.parametrize(
    ("metric", "value"),
    [(Metric.CONSCIOUSNESS, "X"), (Metric.ON_OXYGEN, 1.0), (Metric.SPO2, "high"), (Metric.WEIGHT, 80.0)],
)
def test_unscorable_values_are_rejected(metric: Metric, value: float | str) -> None:
    with pytest.raises(ValueError, match=str(metric)):
        score_parameter(metric, value)


def test_spo2_scale_must_be_one_or_two() -> None:
    with pytest.raises(ValueError, match="scale"):
        score_parameter(Metric.SPO2, 95, scale=3)


def normal(**changes: ReadingValue) -> dict[str, ReadingValue]:
    return NORMAL | changes


@pytest.mark.parametrize(
    ("total", "red", "band"),
    [
        (0, False, Band.LOW),
        (4, False, Band.LOW),
        (3, True, Band.LOW_MEDIUM),
        (4, True, Band.LOW_MEDIUM),
        (5, False, Band.MEDIUM),
        (5, True, Band.MEDIUM),
        (6, True, Band.MEDIUM),
        (7, False, Band.HIGH),
        (7, True, Band.HIGH),
        (20, True, Band.HIGH),
    ],
)
def test_band_rules(total: int, red: bool, band: Band) -> None:
    assert band_for(total, red) is band


def test_normal_observations_score_zero_low_with_twelve_hourly_monitoring() -> None:
    result = score_values(normal())
    assert (result.score, result.band, result.complete, result.red_score) == (0, Band.LOW, True, False)
    advice = guidance(result)
    assert advice is not None
    assert advice.monitoring == "every 12 h"


def test_single_red_score_is_low_medium() -> None:
    result = score_values(normal(consciousness="C"))
    assert (result.score, result.band, result.red_score) == (3, Band.LOW_MEDIUM, True)
    advice = guidance(result)
    assert advice is not None
    assert advice.monitoring == "every hour"


def test_red_score_does_not_lower_a_medium_total() -> None:
    result = score_values(normal(consciousness="V", heart_rate=115))
    assert (result.score, result.band) == (5, Band.MEDIUM)


def test_aggregate_adds_oxygen_and_reaches_high() -> None:
    result = score_values(normal(on_oxygen=True, spo2=93, respiratory_rate=22, temperature=38.5))
    assert result.score == 2 + 2 + 2 + 1
    assert result.band is Band.HIGH
    assert result.parameters["on_oxygen"].score == 2


def test_maximum_total_is_twenty() -> None:
    result = score_values(
        normal(
            respiratory_rate=30,
            spo2=80,
            on_oxygen=True,
            systolic_bp=80,
            heart_rate=140,
            consciousness="U",
            temperature=34.0,
        )
    )
    assert result.score == 20


def test_scale2_patient_on_air_at_93_scores_nothing_for_saturation() -> None:
    result = score_values(normal(spo2=93), scale=2)
    assert result.parameters["spo2"].score == 0
    assert result.score == 0


def test_scale2_patient_on_oxygen_at_97_scores_five() -> None:
    result = score_values(normal(spo2=97, on_oxygen=True), scale=2)
    assert result.score == 5
    assert result.band is Band.MEDIUM


def test_missing_parameter_makes_result_incomplete_not_zero() -> None:
    values = normal()
    del values["consciousness"]
    result = score_values(values)
    assert (result.score, result.band, result.complete) == (None, None, False)
    assert result.missing == ("consciousness",)
    assert result.parameters["consciousness"].status is Status.MISSING
    assert guidance(result) is None


def test_to_json_contract() -> None:
    data = score_values(normal(temperature=38.5)).to_json()
    assert set(data) == {"score", "band", "complete", "parameters"}
    assert (data["score"], data["band"], data["complete"]) == (1, "low", True)
    assert data["parameters"]["temperature"] == {
        "value": 38.5,
        "score": 1,
        "status": "ok",
        "age_minutes": None,
        "measured_at": None,
    }


def observations(ages: dict[str, float], **changes: float | bool | str) -> dict[str, Observation]:
    return {
        name: Observation(Metric(name), value, NOW - timedelta(minutes=ages.get(name, 5)))
        for name, value in normal(**changes).items()
    }


FRESHNESS = {m: timedelta(hours=4) for m in normal()}


def test_assess_reports_ages_and_scores_fresh_values() -> None:
    result = assess(observations({"temperature": 90}), scale=1, now=NOW, freshness=FRESHNESS)
    assert result.complete
    assert result.parameters["temperature"].age_minutes == 90
    assert result.to_json()["parameters"]["temperature"]["age_minutes"] == 90.0


def test_value_at_the_freshness_edge_counts_and_beyond_it_is_stale() -> None:
    at_edge = assess(observations({"respiratory_rate": 240}), scale=1, now=NOW, freshness=FRESHNESS)
    beyond = assess(observations({"respiratory_rate": 241}), scale=1, now=NOW, freshness=FRESHNESS)
    assert at_edge.complete
    assert (beyond.score, beyond.band, beyond.complete) == (None, None, False)
    assert beyond.stale == ("respiratory_rate",)
    assert beyond.parameters["respiratory_rate"].status is Status.STALE
    assert beyond.parameters["respiratory_rate"].age_minutes == 241


def test_stale_value_is_excluded_from_red_score() -> None:
    result = assess(observations({"consciousness": 300}, consciousness="U"), scale=1, now=NOW, freshness=FRESHNESS)
    assert not result.red_score
    assert result.stale == ("consciousness",)


def test_assess_lists_missing_parameters() -> None:
    latest = observations({})
    del latest["systolic_bp"]
    result = assess(latest, scale=1, now=NOW, freshness=FRESHNESS)
    assert result.missing == ("systolic_bp",)
    assert result.score is None


def patient(dob: date | None, pregnant: bool = False) -> Patient:
    return Patient(1, "MRN1", "A Patient", "north", Pathway.GENERAL, 1, dob, pregnant, NOW)


@pytest.mark.parametrize(
    ("dob", "pregnant", "reason"),
    [
        (date(1960, 1, 1), False, None),
        (None, False, None),
        (date(2010, 11, 22), False, None),
        (date(2010, 11, 23), False, "aged 15: NEWS2 is not validated under 16"),
        (date(1990, 1, 1), True, "pregnant: NEWS2 is not validated in pregnancy"),
    ],
)
def test_applicability(dob: date | None, pregnant: bool, reason: str | None) -> None:
    assert applicability(patient(dob, pregnant), NOW) == reason


def test_not_applicable_result_carries_reason() -> None:
    result = not_applicable("pregnant")
    assert (result.applicable, result.score, result.band, result.reason) == (False, None, None, "pregnant")
    assert result.detail_json()["reason"] == "pregnant"


def test_unscorable_stored_value_counts_as_missing() -> None:
    result = assess(observations({}, consciousness="confused"), scale=1, now=NOW, freshness=FRESHNESS)
    assert (result.score, result.missing) == (None, ("consciousness",))
    assert result.parameters["consciousness"].value == "confused"
