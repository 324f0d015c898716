"""The ward plan: reproducible, proportioned, valid ids, a spread of bands and a full NEWS2 set at start."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from device_sims.core.emitter import PROBE_RETRY
from device_sims.core.scenarios import ScenarioKind
from device_sims.ward import INITIAL_SET_WITHIN, ScenarioMix, WardPlan, build_emitters, plan_ward
from ingest.core.topics import DEVICE_ID_RE
from rules.core.news2 import PARAMETERS, score_values
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind, Pathway
from vward.domain.readings import ReadingValue

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _first_observations(plan: WardPlan) -> dict[str, dict[Metric, ReadingValue]]:
    """Each patient's values from every device's first message (the initial full set)."""
    owner = {d.device_id: p.mrn for p in plan.patients for d in p.devices}
    seen: dict[str, dict[Metric, ReadingValue]] = {p.mrn: {} for p in plan.patients}
    for e in build_emitters(plan):
        assert e.next_due - START <= INITIAL_SET_WITHIN
        message = e.step(e.next_due)
        assert message is not None
        seen[owner[e.device_id]].update({m: v for m, v, _ in message.readings})
    return seen


def test_the_same_arguments_give_the_same_ward() -> None:
    assert plan_ward(30, 4, start=START) == plan_ward(30, 4, start=START)
    assert plan_ward(30, 4, start=START) != plan_ward(30, 5, start=START)


def test_the_mix_is_allocated_exactly() -> None:
    mix = ScenarioMix.parse("stable=0.5,sepsis=0.25,device_failure=0.25")
    counts = Counter(p.scenario.kind for p in plan_ward(40, 1, mix, start=START).patients)
    assert counts == {ScenarioKind.STABLE: 20, ScenarioKind.SEPSIS: 10, ScenarioKind.DEVICE_FAILURE: 10}


@pytest.mark.parametrize("text", ["stable=-1", "bogus=1", "stable=0"])
def test_a_bad_mix_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each text fails for its own reason
        ScenarioMix.parse(text)


def test_patients_have_valid_unique_ids_and_one_device_of_each_kind() -> None:
    plan = plan_ward(120, 2, start=START)
    assert len({p.mrn for p in plan.patients}) == 120
    assert plan.patients[0].mrn == "SIM-0001"
    assert {p.ward for p in plan.patients} == {"Virtual Ward A", "Virtual Ward B"}
    ids = [d.device_id for d in plan.devices]
    assert len(set(ids)) == len(ids) == 6 * 120
    assert all(DEVICE_ID_RE.match(i) and len(i) + 7 <= 64 for i in ids)  # msg_id adds "-NNNNNN"
    for p in plan.patients:
        assert [d.kind for d in p.devices] == list(DeviceKind)
        assert "simulated" in p.display_name
        assert (p.spo2_scale == 2) == (p.pathway is Pathway.COPD)


def test_scenarios_carry_their_ground_truth() -> None:
    for p in plan_ward(200, 3, start=START).patients:
        kind = p.scenario.kind
        assert (p.scenario.onset is None) == (kind is ScenarioKind.STABLE)
        if kind is ScenarioKind.COPD_EXACERBATION:
            assert p.pathway is Pathway.COPD
        if kind is ScenarioKind.HF_DECOMPENSATION:
            assert p.pathway is Pathway.HEART_FAILURE
        if kind is ScenarioKind.DEVICE_FAILURE:
            assert p.silent_device == p.devices[0].device_id
            assert p.scenario.onset is not None
            assert p.scenario.onset >= START + timedelta(minutes=10)
        else:
            assert p.silent_device is None


def test_every_patient_has_a_complete_news2_within_seconds_of_start() -> None:
    plan = plan_ward(40, 1, start=START)
    for mrn, values in _first_observations(plan).items():
        assert set(PARAMETERS) <= set(values), mrn


def test_the_default_demo_shows_a_spread_of_bands() -> None:
    plan = plan_ward(40, 1, start=START)
    scale = {p.mrn: p.spo2_scale for p in plan.patients}
    bands = Counter(
        str(score_values(values, scale=scale[mrn]).band) for mrn, values in _first_observations(plan).items()
    )
    assert bands["low"] >= 15
    assert bands["medium"] + bands["high"] >= 5
    assert bands["high"] >= 1


def test_emitters_are_reproducible_and_keep_their_cadence() -> None:
    plan = plan_ward(3, 9, start=START)
    a, b = build_emitters(plan, seed=1), build_emitters(plan, seed=1)
    for ea, eb in zip(a, b, strict=True):
        for _ in range(5):
            ma, mb = ea.step(ea.next_due), eb.step(eb.next_due)
            assert ma == mb
        assert ea.next_due - ea.anchor == (ea.next_due - ea.anchor) // ea.cadence * ea.cadence


def test_a_silent_device_stops_measuring_at_onset_and_the_others_carry_on() -> None:
    plan = plan_ward(1, 1, ScenarioMix.parse("device_failure=1"), start=START)
    (patient,) = plan.patients
    onset = patient.scenario.onset
    assert onset is not None
    emitters = {e.device_id: e for e in build_emitters(plan)}
    patch = emitters[patient.silent_device or ""]
    assert patch.step(onset - timedelta(seconds=1)) is not None
    assert patch.step(onset) is None
    others = [e for e in emitters.values() if e is not patch]
    assert all(e.step(onset) is not None for e in others)


def test_an_oximeter_reading_without_saturation_is_retried_within_minutes() -> None:
    plan = plan_ward(60, 1, start=START)
    retried = 0
    for e in build_emitters(plan):
        if e.kind is not DeviceKind.OXIMETER:
            continue
        for _ in range(20):
            at = e.next_due
            message = e.step(at)
            assert message is not None
            if Metric.SPO2 not in {m for m, _, _ in message.readings}:
                assert e.next_due == at + PROBE_RETRY
                retried += 1
    assert retried > 0
