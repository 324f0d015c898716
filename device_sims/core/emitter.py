"""One simulated device over time: when it measures, what it sends, and when it has nothing to send."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from device_sims.core.devices import Battery, ReadingTuple, battery_for, measure
from device_sims.core.faults import DeviceFaults
from device_sims.core.physiology import PatientProfile, true_vitals
from device_sims.core.scenarios import Scenario
from ingest.core.wire import encode_readings
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind

PROBE_RETRY = timedelta(seconds=20)  # re-seating the probe and measuring again takes a patient moments


@dataclass(frozen=True, slots=True)
class Message:
    """One readings message as the device stores it until the platform confirms it."""

    device_id: str
    msg_id: str
    measured_at: datetime  # simulation time (true time) of the measurement
    readings: tuple[ReadingTuple, ...]
    payload: bytes


class DeviceEmitter:
    """Measures a patient at the device's cadence; deterministic for a given seed and sequence of `at`."""

    def __init__(
        self,
        device_id: str,
        kind: DeviceKind,
        cadence: timedelta,
        profile: PatientProfile,
        scenario: Scenario,
        faults: DeviceFaults,
        first_due: datetime,
        anchor: datetime,
        silent_from: datetime | None = None,
    ) -> None:
        self.device_id = device_id
        self.kind = kind
        self.cadence = cadence
        self.profile = profile
        self.scenario = scenario
        self.faults = faults
        self.next_due = first_due
        self.anchor = anchor  # the regular schedule is anchor + k * cadence, after the initial set
        self.silent_from = silent_from
        self._rng = random.Random(f"{faults.seed}:noise")
        self.battery: Battery = battery_for(kind, random.Random(f"{faults.seed}:battery"), faults.fast_drain)
        self._seq = 0

    def powered(self, at: datetime) -> bool:
        """False while the battery is flat, until its daily charge."""
        return self.battery.level(at) > 0

    def silent(self, at: datetime) -> bool:
        """True once a silent failure began: the device looks online but measures nothing."""
        return self.silent_from is not None and at >= self.silent_from

    def step(self, at: datetime) -> Message | None:
        """The message measured at `at` (None when the device cannot measure), and schedule the next."""
        self.next_due = self.anchor + (((at - self.anchor) // self.cadence) + 1) * self.cadence
        if self.silent(at) or not self.powered(at):
            return None
        vitals = true_vitals(self.profile, self.scenario.deviation(at), at)
        device_clock = at + self.faults.skew
        readings = tuple(measure(self.kind, vitals, device_clock, self._rng))
        if self.kind is DeviceKind.OXIMETER and all(m is not Metric.SPO2 for m, _, _ in readings):
            self.next_due = at + PROBE_RETRY  # the app asks the patient to measure again
        self._seq += 1
        msg_id = f"{self.device_id}-{self._seq:06d}"
        payload = encode_readings(msg_id, device_clock, readings)
        return Message(self.device_id, msg_id, at, readings, payload)
