"""Simulated physiology: per-condition baselines, circadian rhythm and scenario deviations. Pure and seeded."""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass, replace
from datetime import datetime

from device_sims.core.scenarios import Deviation


class Condition(enum.StrEnum):
    HEALTHY = "healthy"
    POST_OP = "post_op"
    COPD = "copd"
    HEART_FAILURE = "heart_failure"
    FRAIL_ELDERLY = "frail_elderly"


@dataclass(frozen=True, slots=True)
class Vitals:
    """A patient's true state at one moment, before any device measures it."""

    heart_rate: float
    respiratory_rate: float
    spo2: float
    temperature: float
    systolic_bp: float
    diastolic_bp: float
    weight: float
    on_oxygen: bool = False
    consciousness: str = "A"
    patient_concern: bool = False


# (mean, sd) per vital and condition; means sit inside NEWS2's 0-score bands so stable patients stay quiet.
# COPD saturations centre on the 88-92 % Scale 2 target; heart failure runs a lower blood pressure on treatment.
_BASELINES: dict[Condition, dict[str, tuple[float, float]]] = {
    Condition.HEALTHY: {
        "heart_rate": (70, 6),
        "respiratory_rate": (14, 1.5),
        "spo2": (97.5, 0.8),
        "temperature": (36.7, 0.15),
        "systolic_bp": (124, 8),
        "diastolic_bp": (78, 5),
        "weight": (76, 12),
    },
    Condition.POST_OP: {
        "heart_rate": (78, 6),
        "respiratory_rate": (15, 1.5),
        "spo2": (97, 0.8),
        "temperature": (36.9, 0.15),
        "systolic_bp": (126, 8),
        "diastolic_bp": (76, 5),
        "weight": (79, 12),
    },
    Condition.COPD: {
        "heart_rate": (80, 5),
        "respiratory_rate": (17, 1.0),
        "spo2": (90.5, 0.8),
        "temperature": (36.7, 0.15),
        "systolic_bp": (132, 8),
        "diastolic_bp": (80, 5),
        "weight": (68, 10),
    },
    Condition.HEART_FAILURE: {
        "heart_rate": (74, 5),
        "respiratory_rate": (16, 1.2),
        "spo2": (96.5, 0.7),
        "temperature": (36.6, 0.15),
        "systolic_bp": (124, 6),
        "diastolic_bp": (72, 5),
        "weight": (86, 14),
    },
    Condition.FRAIL_ELDERLY: {
        "heart_rate": (74, 5),
        "respiratory_rate": (16, 1.2),
        "spo2": (96.5, 0.7),
        "temperature": (36.6, 0.15),
        "systolic_bp": (138, 9),
        "diastolic_bp": (76, 6),
        "weight": (62, 9),
    },
}

# Bounds that keep a sampled baseline physiologically sensible for a stable patient of that condition.
_CLAMP: dict[str, tuple[float, float]] = {
    "heart_rate": (56, 86),
    "respiratory_rate": (12, 19),
    "temperature": (36.3, 37.2),
    "systolic_bp": (114, 160),
    "diastolic_bp": (60, 95),
    "weight": (40, 150),
}
_SPO2_CLAMP = {True: (89.0, 91.5), False: (95.5, 99.0)}  # keyed by "is COPD on Scale 2"

# Peak-to-mean circadian swing (peak mid-afternoon, trough around 04:00).
_CIRCADIAN = {"heart_rate": 4.0, "respiratory_rate": 0.8, "temperature": 0.25, "systolic_bp": 5.0, "diastolic_bp": 3.0}
_TROUGH_HOUR = 4.0


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """What physiology needs to know about one patient: condition and resting baseline."""

    condition: Condition
    baseline: Vitals


def sample_baseline(condition: Condition, rng: random.Random) -> Vitals:
    """A resting baseline drawn from the condition's population, clamped to a stable range."""
    values: dict[str, float] = {}
    for name, (mean, sd) in _BASELINES[condition].items():
        value = rng.gauss(mean, sd)
        low, high = _SPO2_CLAMP[condition is Condition.COPD] if name == "spo2" else _CLAMP[name]
        values[name] = min(max(value, low), high)
    return Vitals(
        heart_rate=values["heart_rate"],
        respiratory_rate=values["respiratory_rate"],
        spo2=values["spo2"],
        temperature=values["temperature"],
        systolic_bp=values["systolic_bp"],
        diastolic_bp=values["diastolic_bp"],
        weight=values["weight"],
    )


def circadian(at: datetime) -> float:
    """-1 at the early-morning trough, +1 twelve hours later, by the timestamp's own clock (UTC here)."""
    hours = at.hour + at.minute / 60 + at.second / 3600
    return -math.cos(2 * math.pi * (hours - _TROUGH_HOUR) / 24)


def true_vitals(profile: PatientProfile, deviation: Deviation, at: datetime) -> Vitals:
    """The patient's true state at `at`: baseline, circadian rhythm and the scenario's deviation."""
    base = profile.baseline
    c = circadian(at)
    spo2 = base.spo2 + deviation.spo2 + (deviation.oxygen_spo2_gain if deviation.on_oxygen else 0.0)
    return replace(
        base,
        heart_rate=base.heart_rate + _CIRCADIAN["heart_rate"] * c + deviation.heart_rate,
        respiratory_rate=base.respiratory_rate + _CIRCADIAN["respiratory_rate"] * c + deviation.respiratory_rate,
        spo2=min(spo2, 100.0),
        temperature=base.temperature + _CIRCADIAN["temperature"] * c + deviation.temperature,
        systolic_bp=base.systolic_bp + _CIRCADIAN["systolic_bp"] * c + deviation.systolic_bp,
        diastolic_bp=base.diastolic_bp + _CIRCADIAN["diastolic_bp"] * c + deviation.diastolic_bp,
        weight=base.weight + deviation.weight,
        on_oxygen=deviation.on_oxygen,
        consciousness=deviation.consciousness,
        patient_concern=deviation.patient_concern,
    )
