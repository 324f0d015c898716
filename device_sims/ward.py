"""The simulated ward as a pure, seeded plan: patients, their conditions, scenarios and devices."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from device_sims.core.devices import CADENCES
from device_sims.core.emitter import DeviceEmitter
from device_sims.core.faults import NO_FAULTS, DeviceFaults, FaultRates
from device_sims.core.physiology import Condition, PatientProfile, sample_baseline
from device_sims.core.scenarios import COURSES, Scenario, ScenarioKind
from vward.domain.patients import DeviceKind, Pathway

# The default mix shows every band on a 40-patient demo within a minute: half stable, the rest
# deteriorating, most of those already part-way through their course at start.
DEFAULT_WEIGHTS: dict[ScenarioKind, float] = {
    ScenarioKind.STABLE: 0.5,
    ScenarioKind.SEPSIS: 0.12,
    ScenarioKind.COPD_EXACERBATION: 0.12,
    ScenarioKind.HF_DECOMPENSATION: 0.1,
    ScenarioKind.POSTOP_BLEED: 0.1,
    ScenarioKind.DEVICE_FAILURE: 0.06,
}
INITIAL_SET_WITHIN = timedelta(seconds=10)  # every device's first measurement: NEWS2 complete within 30 s
SILENT_FAILURE_AFTER = timedelta(minutes=10)  # a silent failure never precedes the first observations
SILENT_FAILURE_COURSE = timedelta(hours=6)  # the span over which silent-failure onsets are placed
_SUFFIX = {
    DeviceKind.PATCH: "patch",
    DeviceKind.OXIMETER: "ox",
    DeviceKind.BP_CUFF: "bp",
    DeviceKind.THERMOMETER: "temp",
    DeviceKind.SCALE: "scale",
    DeviceKind.PATIENT_APP: "app",
}
_CONDITIONS_FOR: dict[ScenarioKind, tuple[Condition, ...]] = {
    ScenarioKind.COPD_EXACERBATION: (Condition.COPD,),
    ScenarioKind.HF_DECOMPENSATION: (Condition.HEART_FAILURE,),
    ScenarioKind.POSTOP_BLEED: (Condition.POST_OP,),
    ScenarioKind.SEPSIS: (Condition.POST_OP, Condition.FRAIL_ELDERLY, Condition.HEALTHY),
}
_PATHWAY = {
    Condition.COPD: Pathway.COPD,
    Condition.HEART_FAILURE: Pathway.HEART_FAILURE,
    Condition.POST_OP: Pathway.POST_OP,
}
_AGES = {
    Condition.HEALTHY: (25, 60),
    Condition.POST_OP: (30, 80),
    Condition.COPD: (55, 82),
    Condition.HEART_FAILURE: (60, 90),
    Condition.FRAIL_ELDERLY: (80, 96),
}
_FIRST = ("Alex", "Sam", "Jo", "Robin", "Charlie", "Morgan", "Ash", "Kit", "Jude", "Rowan", "Sky", "Quinn")
_LAST = ("Testwell", "Mockford", "Samplesby", "Dummett", "Fakenham", "Simms-Demo", "Placeholder", "Trialson")


@dataclass(frozen=True, slots=True)
class ScenarioMix:
    """Scenario proportions, and how far each deterioration has progressed at start, as a fraction of its
    course (uniform between the two; negative: it begins that many courses after start)."""

    weights: dict[ScenarioKind, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    progress_from: float = 0.05
    progress_to: float = 1.0

    @classmethod
    def parse(cls, text: str, progress_from: float = 0.05, progress_to: float = 1.0) -> ScenarioMix:
        """`stable=0.6,sepsis=0.2,...`: unknown names or negative weights raise ValueError."""
        weights: dict[ScenarioKind, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            weight = float(value)
            if weight < 0:
                raise ValueError(f"negative weight for {name}")
            weights[ScenarioKind(name.strip())] = weight
        if sum(weights.values()) <= 0:
            raise ValueError("a scenario mix needs at least one positive weight")
        return cls(weights, progress_from, progress_to)

    def allocate(self, n: int) -> list[ScenarioKind]:
        """Exactly proportional counts for n patients (largest remainder), in a fixed order."""
        total = sum(self.weights.values())
        exact = {k: n * w / total for k, w in self.weights.items()}
        counts = {k: int(v) for k, v in exact.items()}
        for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
            counts[k] += 1
        return [k for k in ScenarioKind for _ in range(counts.get(k, 0))]


@dataclass(frozen=True, slots=True)
class SimDevice:
    device_id: str
    kind: DeviceKind
    cadence: timedelta
    first_offset: timedelta  # the initial observation set, shortly after start
    phase: timedelta  # where the regular schedule sits within one cadence


@dataclass(frozen=True, slots=True)
class SimPatient:
    mrn: str
    display_name: str
    ward: str
    pathway: Pathway
    spo2_scale: int
    date_of_birth: date
    profile: PatientProfile
    scenario: Scenario
    devices: tuple[SimDevice, ...]
    silent_device: str | None = None  # ground truth of a silent device failure

    @property
    def key(self) -> str:
        return self.mrn


@dataclass(frozen=True, slots=True)
class WardPlan:
    start: datetime
    seed: int
    patients: tuple[SimPatient, ...]

    @property
    def devices(self) -> tuple[SimDevice, ...]:
        return tuple(d for p in self.patients for d in p.devices)


def plan_ward(n_patients: int, seed: int, scenario_mix: ScenarioMix | None = None, *, start: datetime) -> WardPlan:
    """The same ward for the same arguments: patients, ground-truth scenarios and device schedules."""
    mix = scenario_mix or ScenarioMix()
    rng = random.Random(f"ward:{seed}")
    kinds = mix.allocate(n_patients)
    rng.shuffle(kinds)
    patients = tuple(_plan_patient(i + 1, kind, mix, start, rng) for i, kind in enumerate(kinds))
    return WardPlan(start=start, seed=seed, patients=patients)


def _plan_patient(number: int, kind: ScenarioKind, mix: ScenarioMix, start: datetime, rng: random.Random) -> SimPatient:
    condition = rng.choice(_CONDITIONS_FOR.get(kind, tuple(Condition)))
    onset = None
    if kind is not ScenarioKind.STABLE:
        course = COURSES[kind].duration if kind in COURSES else SILENT_FAILURE_COURSE
        onset = start - course * rng.uniform(mix.progress_from, mix.progress_to)
    tag = f"sim-{number:04d}"
    devices = tuple(
        SimDevice(
            device_id=f"{tag}-{_SUFFIX[k]}",
            kind=k,
            cadence=CADENCES[k],
            first_offset=timedelta(seconds=rng.uniform(0, INITIAL_SET_WITHIN.total_seconds())),
            phase=timedelta(seconds=rng.uniform(0, CADENCES[k].total_seconds())),
        )
        for k in DeviceKind
    )
    silent = None
    if kind is ScenarioKind.DEVICE_FAILURE:
        assert onset is not None
        onset = max(onset, start + SILENT_FAILURE_AFTER)
        silent = devices[0].device_id  # the patch: heart and breathing rate go quietly stale
    low, high = _AGES[condition]
    born = start.date() - timedelta(days=round(rng.uniform(low, high) * 365.25))
    return SimPatient(
        mrn=f"SIM-{number:04d}",
        display_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)} (simulated)",
        ward="Virtual Ward A" if number % 2 else "Virtual Ward B",
        pathway=_PATHWAY.get(condition, Pathway.GENERAL),
        spo2_scale=2 if condition is Condition.COPD else 1,
        date_of_birth=born,
        profile=PatientProfile(condition, sample_baseline(condition, rng)),
        scenario=Scenario(kind, onset),
        devices=devices,
        silent_device=silent,
    )


def build_emitters(plan: WardPlan, faults: FaultRates = NO_FAULTS, seed: int = 0) -> list[DeviceEmitter]:
    """One emitter per device of the plan, seeded from (seed, device id) so each is reproducible alone."""
    return [e for p in plan.patients for e in patient_emitters(p, plan.start, faults, seed)]


def patient_emitters(
    patient: SimPatient, start: datetime, faults: FaultRates = NO_FAULTS, seed: int = 0
) -> list[DeviceEmitter]:
    return [
        DeviceEmitter(
            device_id=d.device_id,
            kind=d.kind,
            cadence=d.cadence,
            profile=patient.profile,
            scenario=patient.scenario,
            faults=DeviceFaults(faults, f"{seed}:{d.device_id}"),
            first_due=start + d.first_offset,
            anchor=start + d.phase,
            silent_from=patient.scenario.onset if d.device_id == patient.silent_device else None,
        )
        for d in patient.devices
    ]
