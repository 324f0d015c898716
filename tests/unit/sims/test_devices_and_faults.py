"""Devices measure with noise, artefacts and dropouts; faults follow their configured rates, reproducibly."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from device_sims.core.devices import METRICS, SPO2_DROPOUT_P, Battery, measure
from device_sims.core.faults import DeviceFaults, FaultRates, corrupt
from device_sims.core.physiology import Vitals
from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.patients import DeviceKind

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
VITALS = Vitals(72, 15, 97, 36.8, 124, 78, 80.0)


@pytest.mark.parametrize("kind", list(DeviceKind))
def test_each_device_measures_its_own_metrics_within_plausible_ranges(kind: DeviceKind) -> None:
    rng = random.Random(1)
    for _ in range(200):
        readings = measure(kind, VITALS, T0, rng)
        assert {m for m, _, _ in readings} <= set(METRICS[kind])
        for metric, value, at in readings:
            spec = METRIC_SPECS[metric]
            assert at == T0
            if spec.low is not None and spec.high is not None:
                assert spec.low <= float(value) <= spec.high


def test_measurements_are_seeded() -> None:
    a = [measure(DeviceKind.PATCH, VITALS, T0, r) for r in [random.Random(4)] * 20]
    b = [measure(DeviceKind.PATCH, VITALS, T0, r) for r in [random.Random(4)] * 20]
    assert a == b


def test_oximeter_drops_saturation_about_as_often_as_configured() -> None:
    rng = random.Random(2)
    n = 20_000
    dropped = sum(Metric.SPO2 not in {m for m, _, _ in measure(DeviceKind.OXIMETER, VITALS, T0, rng)} for _ in range(n))
    assert dropped / n == pytest.approx(SPO2_DROPOUT_P, rel=0.2)


def test_the_patient_app_reports_the_questionnaire() -> None:
    unwell = Vitals(72, 15, 97, 36.8, 124, 78, 80.0, on_oxygen=True, consciousness="C", patient_concern=True)
    readings = {m: v for m, v, _ in measure(DeviceKind.PATIENT_APP, unwell, T0, random.Random(0))}
    assert readings == {Metric.CONSCIOUSNESS: "C", Metric.ON_OXYGEN: True, Metric.PATIENT_CONCERN: True}


def test_battery_drains_from_its_daily_charge() -> None:
    battery = Battery(charge_hour=8.0, per_hour=6.0)
    assert battery.level(T0 + timedelta(hours=8)) == 100
    assert battery.level(T0 + timedelta(hours=18)) == 40
    assert battery.level(T0 + timedelta(hours=30)) == 0  # flat until the next charge at 08:00


def test_fault_rates_are_validated() -> None:
    with pytest.raises(ValueError, match="duplicates"):
        FaultRates(duplicates=1.5)


def test_outages_are_the_same_whatever_order_they_are_asked_in() -> None:
    rates = FaultRates(offline=0.3)
    times = [T0 + timedelta(minutes=7 * i) for i in range(600)]
    forward = [DeviceFaults(rates, "s:d").online(t) for t in times]
    one = DeviceFaults(rates, "s:d")
    backward = [one.online(t) for t in reversed(times)][::-1]
    assert forward == backward
    assert 0 < forward.count(False) < len(times)


def test_no_fault_rates_mean_no_faults() -> None:
    faults = DeviceFaults(FaultRates(), "s:d")
    assert faults.skew == timedelta(0)
    assert not faults.fast_drain
    assert all(faults.online(T0 + timedelta(hours=h)) for h in range(100))
    deliveries = {faults.delivery() for _ in range(1000)}
    assert len(deliveries) == 1
    (only,) = deliveries
    assert (only.delay, only.copies, only.corrupt) == (timedelta(0), 1, False)


def test_message_faults_follow_their_rates() -> None:
    faults = DeviceFaults(FaultRates(duplicates=0.1, late=0.05, malformed=0.02), "s:d")
    deliveries = [faults.delivery() for _ in range(20_000)]
    assert sum(d.copies == 2 for d in deliveries) / 20_000 == pytest.approx(0.1, rel=0.15)
    assert sum(d.delay >= timedelta(minutes=5) for d in deliveries) / 20_000 == pytest.approx(0.05, rel=0.15)
    assert sum(d.corrupt for d in deliveries) / 20_000 == pytest.approx(0.02, rel=0.25)


def test_clock_skew_and_fast_drain_pick_whole_devices() -> None:
    rates = FaultRates(clock_skew=0.5, battery_drain=0.5)
    devices = [DeviceFaults(rates, f"s:d{i}") for i in range(400)]
    skewed = [d.skew for d in devices if d.skew]
    assert 150 < len(skewed) < 250
    assert all(timedelta(minutes=2) <= abs(s) <= timedelta(minutes=15) for s in skewed)
    assert 150 < sum(d.fast_drain for d in devices) < 250


def test_a_corrupted_payload_is_not_json() -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(corrupt(b'{"msg_id": "m1", "readings": []}'))
