"""Physiology and scenarios: seeded baselines by condition, circadian rhythm, ground-truth deteriorations."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from device_sims.core.physiology import Condition, PatientProfile, Vitals, circadian, sample_baseline, true_vitals
from device_sims.core.scenarios import COURSES, NO_DEVIATION, Scenario, ScenarioKind
from device_sims.evaluation import displayed
from rules.core.news2 import score_values

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def _news2(profile: PatientProfile, scenario: Scenario, at: datetime, scale: int = 1) -> int:
    score = score_values(displayed(true_vitals(profile, scenario.deviation(at), at)), scale=scale).score
    assert score is not None
    return score


def test_baselines_are_seeded() -> None:
    assert sample_baseline(Condition.POST_OP, random.Random(5)) == sample_baseline(Condition.POST_OP, random.Random(5))
    assert sample_baseline(Condition.POST_OP, random.Random(5)) != sample_baseline(Condition.POST_OP, random.Random(6))


def test_copd_baselines_sit_in_the_scale_2_target() -> None:
    rng = random.Random(1)
    saturations = [sample_baseline(Condition.COPD, rng).spo2 for _ in range(500)]
    assert min(saturations) >= 88
    assert max(saturations) <= 92


def test_circadian_trough_before_dawn_and_peak_in_the_afternoon() -> None:
    assert circadian(T0 + timedelta(hours=4)) == pytest.approx(-1)
    assert circadian(T0 + timedelta(hours=16)) == pytest.approx(1)
    night = true_vitals(PatientProfile(Condition.HEALTHY, _healthy()), NO_DEVIATION, T0 + timedelta(hours=4))
    day = true_vitals(PatientProfile(Condition.HEALTHY, _healthy()), NO_DEVIATION, T0 + timedelta(hours=16))
    assert night.heart_rate < day.heart_rate
    assert night.temperature < day.temperature


def _healthy() -> Vitals:
    return sample_baseline(Condition.HEALTHY, random.Random(3))


@pytest.mark.parametrize("condition", list(Condition))
def test_stable_patients_stay_low_risk_all_day(condition: Condition) -> None:
    rng = random.Random(11)
    scale = 2 if condition is Condition.COPD else 1
    for _ in range(50):
        profile = PatientProfile(condition, sample_baseline(condition, rng))
        scores = [_news2(profile, Scenario(ScenarioKind.STABLE), T0 + timedelta(hours=h), scale) for h in range(24)]
        assert max(scores) <= 2


@pytest.mark.parametrize(
    ("kind", "condition", "peak"),
    [
        (ScenarioKind.SEPSIS, Condition.HEALTHY, 7),
        (ScenarioKind.POSTOP_BLEED, Condition.POST_OP, 7),
        (ScenarioKind.COPD_EXACERBATION, Condition.COPD, 7),
        (ScenarioKind.HF_DECOMPENSATION, Condition.HEART_FAILURE, 5),
    ],
)
def test_deteriorations_begin_at_onset_and_reach_their_expected_band(
    kind: ScenarioKind, condition: Condition, peak: int
) -> None:
    profile = PatientProfile(condition, sample_baseline(condition, random.Random(2)))
    onset = T0 + timedelta(hours=6)
    scenario = Scenario(kind, onset)
    scale = 2 if condition is Condition.COPD else 1
    assert scenario.deviation(onset) == NO_DEVIATION
    assert scenario.deviation(onset - timedelta(hours=1)) == NO_DEVIATION
    assert _news2(profile, scenario, onset, scale) <= 2
    assert _news2(profile, scenario, onset + COURSES[kind].duration, scale) >= peak
    assert scenario.expected_escalation == COURSES[kind].expected


def test_heart_failure_gains_weight_before_breathlessness() -> None:
    scenario = Scenario(ScenarioKind.HF_DECOMPENSATION, T0)
    half = scenario.deviation(T0 + COURSES[ScenarioKind.HF_DECOMPENSATION].duration / 2)
    assert half.weight == pytest.approx(1.5)
    assert half.respiratory_rate == 0
    end = scenario.deviation(T0 + COURSES[ScenarioKind.HF_DECOMPENSATION].duration)
    assert end.weight == pytest.approx(3.0)
    assert end.respiratory_rate > 0
    assert end.patient_concern


def test_copd_exacerbation_starts_oxygen_half_way() -> None:
    scenario = Scenario(ScenarioKind.COPD_EXACERBATION, T0)
    assert not scenario.deviation(T0 + timedelta(hours=11)).on_oxygen
    assert scenario.deviation(T0 + timedelta(hours=13)).on_oxygen


def test_stable_and_silent_failure_change_no_physiology() -> None:
    later = T0 + timedelta(days=3)
    assert Scenario(ScenarioKind.STABLE).deviation(later) == NO_DEVIATION
    assert Scenario(ScenarioKind.DEVICE_FAILURE, T0).deviation(later) == NO_DEVIATION
    assert Scenario(ScenarioKind.STABLE).expected_escalation == "none"
