"""Clinical scenarios with ground truth: what deteriorates, from when, and what escalation is expected."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class ScenarioKind(enum.StrEnum):
    STABLE = "stable"
    SEPSIS = "sepsis"
    COPD_EXACERBATION = "copd_exacerbation"
    HF_DECOMPENSATION = "hf_decompensation"
    POSTOP_BLEED = "postop_bleed"
    DEVICE_FAILURE = "device_failure"


@dataclass(frozen=True, slots=True)
class Deviation:
    """Offsets from baseline a scenario imposes at one moment, plus the discrete signs it brings."""

    heart_rate: float = 0.0
    respiratory_rate: float = 0.0
    spo2: float = 0.0
    temperature: float = 0.0
    systolic_bp: float = 0.0
    diastolic_bp: float = 0.0
    weight: float = 0.0
    on_oxygen: bool = False
    oxygen_spo2_gain: float = 0.0
    consciousness: str = "A"
    patient_concern: bool = False


NO_DEVIATION = Deviation()


@dataclass(frozen=True, slots=True)
class Course:
    """A deterioration's full-effect offsets, reached linearly over `duration` after onset."""

    duration: timedelta
    full: Deviation
    expected: str  # the clinical escalation a correct rule set should raise
    ramp_from: float = 0.0  # fraction of the course before the vital signs start to move (weight moves first)
    oxygen_from: float | None = None  # fraction of the course when supplemental oxygen is started
    confusion_from: float | None = None
    concern_from: float | None = None


COURSES: dict[ScenarioKind, Course] = {
    ScenarioKind.SEPSIS: Course(
        timedelta(hours=10),
        Deviation(heart_rate=45, respiratory_rate=11, spo2=-4, temperature=2.0, systolic_bp=-40, diastolic_bp=-20),
        "NEWS2 high (>=7): emergency assessment",
        confusion_from=0.8,
        concern_from=0.4,
    ),
    ScenarioKind.COPD_EXACERBATION: Course(
        timedelta(hours=24),
        Deviation(heart_rate=30, respiratory_rate=12, spo2=-7, temperature=0.6, systolic_bp=8, oxygen_spo2_gain=3),
        "NEWS2 medium (5-6) then high: urgent clinical review",
        oxygen_from=0.5,
        concern_from=0.3,
    ),
    ScenarioKind.HF_DECOMPENSATION: Course(
        timedelta(hours=96),
        Deviation(heart_rate=28, respiratory_rate=10, spo2=-7, weight=3.0, systolic_bp=-12),
        "weight gain > 2 kg, then NEWS2 medium: heart-failure team review",
        ramp_from=0.6,
        concern_from=0.75,
    ),
    ScenarioKind.POSTOP_BLEED: Course(
        timedelta(hours=6),
        Deviation(heart_rate=50, respiratory_rate=8, spo2=-2, temperature=-0.4, systolic_bp=-50, diastolic_bp=-25),
        "NEWS2 high (>=7) with hypotension: emergency surgical review",
        confusion_from=0.85,
        concern_from=0.5,
    ),
}
SILENT_FAILURE_EXPECTED = "stale data alert for the silent device"
STABLE_EXPECTED = "none"


@dataclass(frozen=True, slots=True)
class Scenario:
    """Ground truth for one patient: the scenario, when it began (None for stable) and the expected escalation."""

    kind: ScenarioKind
    onset: datetime | None = None

    @property
    def expected_escalation(self) -> str:
        if self.kind is ScenarioKind.STABLE:
            return STABLE_EXPECTED
        if self.kind is ScenarioKind.DEVICE_FAILURE:
            return SILENT_FAILURE_EXPECTED
        return COURSES[self.kind].expected

    def deviation(self, at: datetime) -> Deviation:
        """The offsets this scenario imposes at `at` (none before onset)."""
        course = COURSES.get(self.kind)
        if course is None or self.onset is None or at <= self.onset:
            return NO_DEVIATION
        p = min((at - self.onset) / course.duration, 1.0)
        vit = max(0.0, (p - course.ramp_from) / (1.0 - course.ramp_from))
        f = course.full
        return Deviation(
            heart_rate=f.heart_rate * vit,
            respiratory_rate=f.respiratory_rate * vit,
            spo2=f.spo2 * vit,
            temperature=f.temperature * vit,
            systolic_bp=f.systolic_bp * vit,
            diastolic_bp=f.diastolic_bp * vit,
            weight=f.weight * p,
            on_oxygen=_reached(p, course.oxygen_from),
            oxygen_spo2_gain=f.oxygen_spo2_gain,
            consciousness="C" if _reached(p, course.confusion_from) else "A",
            patient_concern=_reached(p, course.concern_from),
        )


def _reached(progress: float, threshold: float | None) -> bool:
    return threshold is not None and progress >= threshold
