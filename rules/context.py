"""Build the EvaluationContext of a batch of patients: latest values plus exactly the history each
patient's pathway rules look back over (per metric, as the core's window keeps it), so a 7-day heart rate
baseline never loads 7 days of SpO2."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from rules.core.model import DeviceStatus, EvaluationContext
from rules.core.ruleset import RuleSet
from rules.core.window import lookbacks
from vward.domain.patients import Patient
from vward.storage import evaluation as store
from vward.storage.overrides import overrides_by_patient
from vward.storage.pool import Conn


def merged_lookbacks(rulesets: list[RuleSet], patient: Patient) -> dict[str, timedelta]:
    """Union over the published and shadow rule sets, which all evaluate the same context."""
    merged: dict[str, timedelta] = {}
    for ruleset in rulesets:
        for metric, span in lookbacks(patient, ruleset).items():
            merged[metric] = max(merged.get(metric, timedelta(0)), span)
    return merged


_MS = timedelta(milliseconds=1)


def _device(row: Mapping[str, Any]) -> DeviceStatus:
    estimate = row["clock_estimate_ms"]
    return DeviceStatus(
        row["id"],
        row["kind"],
        row["online"],
        row["battery"],
        row["last_seen_at"],
        None if estimate is None else estimate * _MS,
        row["clock_correction_ms"] * _MS,
    )


async def load_contexts(
    conn: Conn, patient_ids: list[int], rulesets: list[RuleSet], now: datetime
) -> list[EvaluationContext]:
    """Contexts of the admitted patients among `patient_ids` (discharged ones are not evaluated)."""
    patients = {pid: p for pid, p in (await store.patients_by_id(conn, patient_ids)).items() if p.discharged_at is None}
    ids = sorted(patients)
    if not ids:
        return []
    latest = await store.latest_by_patient(conn, ids)
    windows = [
        (pid, metric, now - span) for pid in ids for metric, span in merged_lookbacks(rulesets, patients[pid]).items()
    ]
    history = await store.history_by_patient(conn, windows)
    devices = await store.devices_by_patient(conn, ids)
    overrides = await overrides_by_patient(conn, ids)
    concern_window = max(timedelta(minutes=r.patient_concern.window_minutes) for r in rulesets)
    handled = await store.handled_concerns(conn, ids, now - concern_window)
    return [
        EvaluationContext(
            patient=patients[pid],
            latest=latest.get(pid, {}),
            history=tuple(history.get(pid, ())),
            devices=tuple(_device(d) for d in devices.get(pid, ())),
            overrides=tuple(overrides.get(pid, ())),
            handled_concerns=handled.get(pid, frozenset()),
        )
        for pid in ids
    ]
