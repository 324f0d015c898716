"""The simulated ward's comings and goings: the stays admitted, transferred, readmitted and ended over the
weeks before the demo starts, so the population view shows a month of real figures from the first minute,
and the live ward's turnover while it runs (a stable patient discharged, their kit collected, and later
readmitted), so those figures move.

Pure: `past_stays(plan, now, seed)` and `live_turns(plan, seed)` plan them; vward.demo admits and
discharges them through the same storage calls a clinician's actions use. The past's rates are a small
English virtual ward's (an admission or two a day per ward, a median stay near 5 days, about one in eight
escalated to hospital)."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from device_sims.core.scenarios import ScenarioKind
from device_sims.ward import SimPatient, WardPlan
from vward.domain.episodes import Outcome, Source

ADMISSIONS_PER_WARD_DAY = 1.2
MEDIAN_STAY_DAYS, STAY_SPREAD = 4.5, 0.5  # lognormal
STEP_DOWN_SHARE = 0.2
TRANSFER_SHARE = 0.05  # moved to the other ward part-way through
READMITTED_SHARE = 0.1  # of past stays: back within 30 days
LIVE_READMITTED_SHARE = 0.15  # of the ward's current patients: a stay ended in the last weeks
ENDINGS = {Outcome.COMPLETED: 0.8, Outcome.ESCALATED_TO_HOSPITAL: 0.13, Outcome.SELF_DISCHARGED: 0.05,
           Outcome.DIED: 0.02}  # fmt: skip
# The live ward turns over faster than a real one (a stay ends every TURN_EVERY, not every day or so), so
# that a demo of an hour shows discharges and readmissions; the readmission follows after TURN_AWAY.
TURN_FIRST, TURN_EVERY, TURN_AWAY = timedelta(minutes=20), timedelta(minutes=15), timedelta(minutes=10)
_NAMES = ("Ash", "Bea", "Cal", "Dee", "Eli", "Fay", "Gus", "Ida", "Jon", "Kit", "Lou", "Max", "Ned", "Ora", "Pip")


@dataclass(frozen=True, slots=True)
class PastStay:
    mrn: str
    display_name: str
    date_of_birth: date
    ward: str
    source: Source
    admitted_at: datetime
    discharged_at: datetime
    outcome: Outcome
    transfer: tuple[datetime, str] | None = None  # when, and to which ward, part-way through


def _ending(rng: random.Random) -> Outcome:
    return rng.choices(list(ENDINGS), weights=list(ENDINGS.values()))[0]


def _stay(rng: random.Random, mrn: str, name: str, born: date, ward: str, wards: list[str],
          admitted: datetime, latest_end: datetime) -> PastStay | None:  # fmt: skip
    days = min(max(rng.lognormvariate(math.log(MEDIAN_STAY_DAYS), STAY_SPREAD), 1.0), 14.0)
    ended = admitted + timedelta(days=days)
    if ended > latest_end:
        return None
    others = [w for w in wards if w != ward]
    moved = None
    if others and rng.random() < TRANSFER_SHARE:
        moved = (admitted + (ended - admitted) * 0.4, rng.choice(others))
    source = Source.STEP_DOWN if rng.random() < STEP_DOWN_SHARE else Source.COMMUNITY
    return PastStay(mrn, name, born, ward, source, admitted, ended, _ending(rng), moved)


def past_stays(plan: WardPlan, now: datetime, seed: int, days: int = 30) -> list[PastStay]:
    """Stays that began in the `days` before `now` and ended by an hour before it, per ward of the plan;
    some readmitted, and some of the plan's own patients with a stay that ended in that time."""
    rng = random.Random(seed * 7919 + 13)
    wards = sorted({p.ward for p in plan.patients})
    latest_end = now - timedelta(hours=1)
    stays: list[PastStay] = []
    number = 0
    for ward in wards:
        at = now - timedelta(days=days)
        while (at := at + timedelta(days=rng.expovariate(ADMISSIONS_PER_WARD_DAY))) < latest_end:
            number += 1
            born = date(1930, 1, 1) + timedelta(days=rng.randrange(20_000))
            name = f"{rng.choice(_NAMES)} {rng.choice(_NAMES)}son (simulated, past)"
            stay = _stay(rng, f"HIST-{number:04d}", name, born, ward, wards, at, latest_end)
            if stay is None:
                continue
            stays.append(stay)
            if rng.random() < READMITTED_SHARE:
                back = stay.discharged_at + timedelta(days=rng.uniform(1, 20))
                again = _stay(rng, stay.mrn, name, born, ward, wards, back, latest_end)
                stays += [again] if again is not None else []
    for p in plan.patients:  # the live ward's readmissions: an earlier stay of the same identity
        if rng.random() < LIVE_READMITTED_SHARE:
            ended = now - timedelta(days=rng.uniform(3, 25))
            admitted = ended - timedelta(days=rng.uniform(2, 8))
            stays.append(PastStay(p.mrn, p.display_name, p.date_of_birth, p.ward, Source.COMMUNITY, admitted, ended,
                                  rng.choice([Outcome.COMPLETED, Outcome.ESCALATED_TO_HOSPITAL])))  # fmt: skip
    return sorted(stays, key=lambda s: (s.mrn, s.admitted_at))


@dataclass(frozen=True, slots=True)
class Turn:
    """One stable patient of the live ward: discharged (completed) with their kit collected, then readmitted
    as a new stay with the same kit reissued."""

    patient: SimPatient
    discharge_at: datetime
    readmit_at: datetime

    @property
    def device_ids(self) -> list[str]:
        return [d.device_id for d in self.patient.devices]


def live_turns(plan: WardPlan, seed: int, first: timedelta = TURN_FIRST, every: timedelta = TURN_EVERY,
               away: timedelta = TURN_AWAY) -> Iterator[Turn]:  # fmt: skip
    """Endless, in time order: the stable patients in a seeded order, round and round, one every `every`
    from `first` after the plan's start. Deteriorating patients and failing devices are never turned over:
    their courses are the demo's ground truth. Only one patient is away at a time while `away` < `every`."""
    if away >= every:
        raise ValueError("a patient must be back before the next one leaves")
    stable = [p for p in plan.patients if p.scenario.kind is ScenarioKind.STABLE and p.devices]
    random.Random(seed * 104_729 + 7).shuffle(stable)
    for number, patient in enumerate(itertools.cycle(stable)):
        leaves = plan.start + first + every * number
        yield Turn(patient, leaves, leaves + away)
