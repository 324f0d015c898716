"""The simulated ward's past month: stays that never overlap per patient, end before the demo starts, and
include readmissions, transfers, step-downs and each outcome. Its live turnover touches stable patients only,
one away at a time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise

import pytest

from device_sims.core.census import TURN_AWAY, TURN_EVERY, TURN_FIRST, live_turns, past_stays
from device_sims.core.scenarios import ScenarioKind
from device_sims.ward import plan_ward
from vward.domain.episodes import Outcome, Source

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_a_month_of_stays_that_a_real_ward_could_have_had() -> None:
    plan = plan_ward(40, 1, start=NOW)
    stays = past_stays(plan, NOW, seed=1)
    wards = {p.ward for p in plan.patients}
    assert {s.ward for s in stays} == wards
    assert all(NOW - timedelta(days=31) < s.admitted_at < s.discharged_at <= NOW - timedelta(hours=1) for s in stays)
    by_patient: dict[str, list] = {}
    for s in stays:
        by_patient.setdefault(s.mrn, []).append(s)
    for own in by_patient.values():
        assert all(a.discharged_at < b.admitted_at for a, b in pairwise(own))  # one stay at a time
    readmitted = [mrn for mrn, own in by_patient.items() if len(own) > 1]
    live = {p.mrn for p in plan.patients} & set(by_patient)
    assert readmitted
    assert live  # some of the ward's current patients were here before: their admission is a readmission
    assert 20 <= len(stays) <= 150  # ~1.2 a day per ward over 30 days, and the live readmissions
    outcomes = Counter(s.outcome for s in stays)
    assert outcomes[Outcome.COMPLETED] > outcomes[Outcome.ESCALATED_TO_HOSPITAL] > 0
    assert any(s.source is Source.STEP_DOWN for s in stays)
    assert any(s.transfer is not None and s.transfer[1] != s.ward for s in stays)
    assert past_stays(plan, NOW, seed=1) == stays  # a seed always gives the same past


def test_the_live_ward_turns_over_its_stable_patients_one_at_a_time() -> None:
    plan = plan_ward(40, 1, start=NOW)
    stable = {p.mrn for p in plan.patients if p.scenario.kind is ScenarioKind.STABLE}
    assert 0 < len(stable) < len(plan.patients)
    turns = list(islice(live_turns(plan, seed=1), 2 * len(stable)))
    assert {t.patient.mrn for t in turns} == stable  # every stable patient, and no one else
    assert [t.patient.mrn for t in turns[: len(stable)]] == [t.patient.mrn for t in turns[len(stable) :]]
    assert turns[0].discharge_at == NOW + TURN_FIRST
    for a, b in pairwise(turns):
        assert b.discharge_at - a.discharge_at == TURN_EVERY
        assert a.discharge_at < a.readmit_at < b.discharge_at  # back before the next one leaves
    assert all(t.readmit_at - t.discharge_at == TURN_AWAY for t in turns)
    assert turns[0].device_ids == [d.device_id for d in turns[0].patient.devices] != []
    assert [t.patient.mrn for t in islice(live_turns(plan, seed=1), 5)] == [t.patient.mrn for t in turns[:5]]
    assert [t.patient.mrn for t in islice(live_turns(plan, seed=2), 5)] != [t.patient.mrn for t in turns[:5]]


def test_a_turn_that_would_overlap_the_next_is_refused() -> None:
    plan = plan_ward(4, 1, start=NOW)
    with pytest.raises(ValueError, match="back before"):
        next(live_turns(plan, 1, every=timedelta(minutes=5), away=timedelta(minutes=5)))
