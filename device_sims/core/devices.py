"""Simulated devices: what each kind measures, how often, how noisily, and its battery. Pure and seeded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from device_sims.core.physiology import Vitals
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind
from vward.domain.readings import ReadingValue

ReadingTuple = tuple[Metric, ReadingValue, datetime]

# Real cadences: the patch streams every few seconds, spot checks happen six times a day, the scale daily.
CADENCES: dict[DeviceKind, timedelta] = {
    DeviceKind.PATCH: timedelta(seconds=5),
    DeviceKind.OXIMETER: timedelta(hours=4),
    DeviceKind.BP_CUFF: timedelta(hours=4),
    DeviceKind.THERMOMETER: timedelta(hours=4),
    DeviceKind.SCALE: timedelta(hours=24),
    DeviceKind.PATIENT_APP: timedelta(hours=6),
}

# Spot-check devices report their status this often between measurements (their hub's heartbeat), so the
# platform's "device offline" rule (60 min of silence by default) only fires for a device that really went quiet.
HEARTBEAT = timedelta(minutes=15)


def heartbeats(cadence: timedelta) -> bool:
    """Whether a device this slow needs status heartbeats to stay visibly alive between readings."""
    return cadence > HEARTBEAT


METRICS: dict[DeviceKind, tuple[Metric, ...]] = {
    DeviceKind.PATCH: (Metric.HEART_RATE, Metric.RESPIRATORY_RATE, Metric.TEMPERATURE),
    DeviceKind.OXIMETER: (Metric.SPO2, Metric.HEART_RATE),
    DeviceKind.BP_CUFF: (Metric.SYSTOLIC_BP, Metric.DIASTOLIC_BP, Metric.HEART_RATE),
    DeviceKind.THERMOMETER: (Metric.TEMPERATURE,),
    DeviceKind.SCALE: (Metric.WEIGHT,),
    DeviceKind.PATIENT_APP: (Metric.CONSCIOUSNESS, Metric.ON_OXYGEN, Metric.PATIENT_CONCERN),
}

# Measurement noise (sd). The patch reports a core-temperature estimate derived from skin temperature.
_NOISE: dict[tuple[DeviceKind, Metric], float] = {
    (DeviceKind.PATCH, Metric.HEART_RATE): 2.0,
    (DeviceKind.PATCH, Metric.RESPIRATORY_RATE): 1.0,
    (DeviceKind.PATCH, Metric.TEMPERATURE): 0.1,
    (DeviceKind.OXIMETER, Metric.SPO2): 0.6,
    (DeviceKind.OXIMETER, Metric.HEART_RATE): 2.0,
    (DeviceKind.BP_CUFF, Metric.SYSTOLIC_BP): 4.0,
    (DeviceKind.BP_CUFF, Metric.DIASTOLIC_BP): 3.0,
    (DeviceKind.BP_CUFF, Metric.HEART_RATE): 2.0,
    (DeviceKind.THERMOMETER, Metric.TEMPERATURE): 0.1,
    (DeviceKind.SCALE, Metric.WEIGHT): 0.15,
}
_DECIMALS = {Metric.TEMPERATURE: 1, Metric.WEIGHT: 1}

# A patch reading corrupted by movement (heart rate x1.2-1.5, breathing +2-6/min): patches average over
# a window, so a spike survives about once in 500 readings (a few an hour at a 5 s cadence).
MOTION_ARTEFACT_P = 0.002
SPO2_DROPOUT_P = 0.03  # the probe slips: the oximeter reports pulse but no saturation
SPO2_ARTEFACT_P = 0.005  # poor perfusion or movement: a spuriously low saturation

# Battery discharge per hour; every device is recharged once a day at its own hour.
_DRAIN_PER_HOUR: dict[DeviceKind, float] = {DeviceKind.PATCH: 2.5}
_SPOT_DRAIN_PER_HOUR = 0.1
FAST_DRAIN_FACTOR = 2.4  # a worn battery: a patch runs flat ~7 h before its daily charge


@dataclass(frozen=True, slots=True)
class Battery:
    """Daily charge cycle: full at `charge_hour` (hours past midnight UTC), draining at `per_hour`."""

    charge_hour: float
    per_hour: float

    def level(self, at: datetime) -> int:
        hours = at.hour + at.minute / 60 + at.second / 3600
        since = (hours - self.charge_hour) % 24
        return max(0, round(100 - self.per_hour * since))


def battery_for(kind: DeviceKind, rng: random.Random, fast_drain: bool) -> Battery:
    per_hour = _DRAIN_PER_HOUR.get(kind, _SPOT_DRAIN_PER_HOUR) * (FAST_DRAIN_FACTOR if fast_drain else 1.0)
    return Battery(charge_hour=rng.uniform(0, 24), per_hour=per_hour)


def measure(kind: DeviceKind, vitals: Vitals, at: datetime, rng: random.Random) -> list[ReadingTuple]:
    """One measurement by a device of this kind: noise, artefacts and dropouts included."""
    if kind is DeviceKind.PATIENT_APP:
        return [
            (Metric.CONSCIOUSNESS, vitals.consciousness, at),
            (Metric.ON_OXYGEN, vitals.on_oxygen, at),
            (Metric.PATIENT_CONCERN, vitals.patient_concern, at),
        ]
    artefact = kind is DeviceKind.PATCH and rng.random() < MOTION_ARTEFACT_P
    readings: list[ReadingTuple] = []
    for metric in METRICS[kind]:
        value = float(getattr(vitals, metric.value)) + rng.gauss(0.0, _NOISE[(kind, metric)])
        if artefact and metric is Metric.HEART_RATE:
            value *= rng.uniform(1.2, 1.5)
        elif artefact and metric is Metric.RESPIRATORY_RATE:
            value += rng.uniform(2, 6)
        if metric is Metric.SPO2:
            roll = rng.random()
            if roll < SPO2_DROPOUT_P:
                continue
            if roll < SPO2_DROPOUT_P + SPO2_ARTEFACT_P:
                value -= rng.uniform(6, 14)
            value = min(value, 100.0)
        readings.append((metric, round(value, _DECIMALS.get(metric, 0)), at))
    return readings
