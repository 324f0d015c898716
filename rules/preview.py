"""Backtest a candidate rule set against the published one over stored readings: the same core replay
(evaluate + reconcile) per patient, and the alert burden of each side by side (per patient-day, per rule,
per nurse shift), with what the alerts cost the nurses: state changes, notifications and alerts open per
nurse on duty. Alerts stay open until a person would close them, at the ward's own observed response times
(rules.core.alertbook.observed_response; the RCP's where too few alerts were closed). Readings stream one
patient at a time, the next patient's fetch overlapping this one's replay, so memory stays at one
patient's readings however long the window."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from rules.core.alertbook import Episode, Opening, StaffResponse, observed_response
from rules.core.burden import Burden, EpisodeCosts, alert_burden, episode_costs
from rules.core.replay import Stamped, replay_sides
from rules.core.ruleset import RuleSet, load_ruleset
from rules.service import RULES_ACTOR
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric
from vward.domain.patients import Patient
from vward.settings import Settings, SettingsError
from vward.storage.alerts import response_times
from vward.storage.evaluation import ReplayColumns, patients_admitted_during, readings_for_replay
from vward.storage.pool import create_pool
from vward.storage.rulesets import load_published

_BOOLEAN = frozenset({Metric.ON_OXYGEN.value, Metric.PATIENT_CONCERN.value})
OBSERVED_OVER = timedelta(days=30)  # the closed alerts staff response times are taken from
NURSES = 2  # on duty for the previewed patients, unless the request says


@dataclass(frozen=True, slots=True)
class Side:
    """One rule set's burden over the window."""

    label: str
    total: int
    per_patient_day: float
    per_rule: dict[str, int]
    per_severity: dict[str, int]
    per_shift: dict[str, int]  # "YYYY-MM-DD HH:MM-HH:MM" -> alerts opened in that shift
    busiest_patient_day: int
    costs: EpisodeCosts
    open_per_nurse: float  # alert-hours open / nurse-hours on duty over the window


@dataclass(frozen=True, slots=True)
class PreviewReport:
    start: datetime
    end: datetime
    patients: int
    patient_days: float
    readings: int
    evaluations: int
    elapsed_s: float
    candidate: Side
    published: Side
    staff: StaffResponse
    nurses: int

    def to_json(self) -> dict[str, Any]:
        rules = sorted(set(self.candidate.per_rule) | set(self.published.per_rule))
        return {
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "patients": self.patients,
            "patient_days": round(self.patient_days, 2),
            "readings": self.readings,
            "evaluations": self.evaluations,
            "elapsed_s": round(self.elapsed_s, 2),
            "candidate": _side_json(self.candidate, self.patient_days),
            "published": _side_json(self.published, self.patient_days),
            "staff": {
                "source": self.staff.source,
                "nurses": self.nurses,
                "acknowledge_minutes": _minutes(self.staff.acknowledge_after),
                "close_minutes": _minutes(self.staff.resolve_after),
            },
            "per_rule": [
                {
                    "rule_id": r,
                    "candidate": self.candidate.per_rule.get(r, 0),
                    "published": self.published.per_rule.get(r, 0),
                }
                for r in rules
            ],
        }


def _side_json(side: Side, patient_days: float) -> dict[str, Any]:
    costs = side.costs
    return {
        "rule_set": side.label,
        "total": side.total,
        "per_patient_day": round(side.per_patient_day, 3),
        "busiest_patient_day": side.busiest_patient_day,
        "per_severity": side.per_severity,
        "per_shift": side.per_shift,
        "state_changes": costs.state_changes,
        "state_changes_per_alert_hour": round(costs.per_alert_hour(), 2),
        "notifications": costs.notifications,
        "notifications_per_patient_day": round(costs.notifications / patient_days, 3) if patient_days else 0,
        "reminders": costs.reminders,
        "open_alert_hours": round(costs.open_alert_hours, 2),
        "open_per_nurse": round(side.open_per_nurse, 3),
    }


def _minutes(after: Mapping[Severity, timedelta]) -> dict[str, float]:
    return {s.name.lower(): round(t.total_seconds() / 60, 1) for s, t in sorted(after.items(), reverse=True)}


def replay_readings(columns: ReplayColumns) -> list[Stamped]:
    """Stored columns as the wire values replay expects (booleans as bool, ACVPU as text), built once per
    patient for both rule sets."""
    return [
        (at, metric, text if text is not None else bool(value) if metric in _BOOLEAN else value)
        for at, metric, value, text in zip(*columns, strict=True)
    ]


def _exposure(patient: Patient, start: datetime, end: datetime) -> float:
    """Days of monitoring of this patient inside the window."""
    begin = max(start, patient.admitted_at)
    finish = min(end, patient.discharged_at or end)
    return max(0.0, (finish - begin).total_seconds() / 86400)


def _side(label: str, burden: Burden, costs: EpisodeCosts, patient_days: float, nurse_hours: float) -> Side:
    return Side(
        label=label,
        total=burden.total,
        per_patient_day=burden.mean_per_patient_day(patient_days),
        per_rule=dict(sorted(burden.per_rule.items())),
        per_severity=burden.per_severity,
        per_shift={f"{day.isoformat()} {shift}": n for (day, shift), n in sorted(burden.per_shift.items())},
        busiest_patient_day=max(burden.per_patient_day.values(), default=0),
        costs=costs,
        open_per_nurse=costs.open_alert_hours / nurse_hours if nurse_hours else 0.0,
    )


async def stream_readings(
    pool: asyncpg.Pool, patients: list[Patient], start: datetime, end: datetime
) -> AsyncIterator[tuple[Patient, ReplayColumns]]:
    """Each patient's readings, fetching the next while the caller replays the current one."""

    async def fetch(patient: Patient) -> ReplayColumns:
        async with pool.acquire() as conn:
            return await readings_for_replay(conn, patient.id, start, end)

    pending = asyncio.ensure_future(fetch(patients[0])) if patients else None
    for index, patient in enumerate(patients):
        assert pending is not None
        rows = await pending
        pending = asyncio.ensure_future(fetch(patients[index + 1])) if index + 1 < len(patients) else None
        yield patient, rows


@dataclass(frozen=True, slots=True)
class ShardResult:
    candidate: list[Opening]
    published: list[Opening]
    readings: int
    evaluations: int
    episodes: tuple[list[Episode], list[Episode]] = ([], [])


@dataclass(frozen=True, slots=True)
class ReplayJob:
    """What every shard replays: both rule sets over [start, end), staff acting as `staff` (picklable)."""

    candidate: RuleSet
    published: RuleSet
    start: datetime
    end: datetime
    staff: StaffResponse


async def replay_patients(pool: asyncpg.Pool, patients: list[Patient], job: ReplayJob) -> ShardResult:
    """Replay both rule sets over each patient's readings (one pass for both), one patient in memory at a time."""
    start, end = job.start, job.end
    openings: tuple[list[Opening], list[Opening]] = ([], [])
    episodes: tuple[list[Episode], list[Episode]] = ([], [])
    readings = evaluations = 0
    async for patient, columns in stream_readings(pool, patients, start, end):
        wire = replay_readings(columns)
        replayed = replay_sides(patient, wire, (job.candidate, job.published), until=end, staff=job.staff)
        for found, kept, side in zip(openings, episodes, replayed, strict=True):
            found.extend(side.openings)
            kept.extend(side.episodes)
            evaluations += side.evaluations
        readings += len(wire)
        await asyncio.sleep(0)  # let the next fetch and other tasks run between patients
    return ShardResult(openings[0], openings[1], readings, evaluations, episodes)


def _replay_shard(dsn: str, patients: list[Patient], job: ReplayJob) -> ShardResult:
    """One process's share of a preview, with its own connections."""

    async def run() -> ShardResult:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            return await replay_patients(pool, patients, job)
        finally:
            await pool.close()

    return asyncio.run(run())


async def _fan_out(dsn: str, patients: list[Patient], job: ReplayJob, processes: int) -> list[ShardResult]:
    """Replay is CPU-bound Python: shard the patients over processes, one per core to spare."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as executor:
        runs = [
            loop.run_in_executor(executor, _replay_shard, dsn, patients[i::processes], job) for i in range(processes)
        ]
        return list(await asyncio.gather(*runs))


async def preview(
    pool: asyncpg.Pool,
    *,
    candidate: tuple[str, RuleSet],
    published: tuple[str, RuleSet],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    patient_ids: list[int] | None = None,
    wards: list[str] | None = None,
    fan_out: tuple[str, int] | None = None,
    staff: StaffResponse | None = None,
    nurses: int = NURSES,
) -> PreviewReport:
    """Replay both rule sets over every patient on the ward in [start, end) (or only some ids or wards);
    `fan_out=(dsn, processes)` spreads the patients over that many processes. `staff`: how fast alerts are
    acknowledged and closed (default: as observed on the ward over the 30 days before `end`); `nurses` on
    duty for these patients throughout."""
    began = time.perf_counter()
    async with pool.acquire() as conn:
        patients = await patients_admitted_during(conn, start, end, patient_ids, wards)
        if staff is None:
            staff = observed_response(await response_times(conn, end - OBSERVED_OVER, RULES_ACTOR.username))
    job = ReplayJob(candidate[1], published[1], start, end, staff)
    if fan_out is not None and fan_out[1] > 1 and len(patients) > 1:
        dsn, processes = fan_out
        shards = await _fan_out(dsn, patients, job, min(processes, len(patients)))
    else:
        shards = [await replay_patients(pool, patients, job)]
    patient_days = sum(_exposure(p, start, end) for p in patients)
    nurse_hours = nurses * (end - start).total_seconds() / 3600
    openings_c = [o for s in shards for o in s.candidate]
    openings_p = [o for s in shards for o in s.published]
    costs_c = episode_costs([e for s in shards for e in s.episodes[0]], staff, end)
    costs_p = episode_costs([e for s in shards for e in s.episodes[1]], staff, end)
    return PreviewReport(
        start=start,
        end=end,
        patients=len(patients),
        patient_days=patient_days,
        readings=sum(s.readings for s in shards),
        evaluations=sum(s.evaluations for s in shards),
        elapsed_s=time.perf_counter() - began,
        candidate=_side(candidate[0], alert_burden(openings_c, tz=tz), costs_c, patient_days, nurse_hours),
        published=_side(published[0], alert_burden(openings_p, tz=tz), costs_p, patient_days, nurse_hours),
        staff=staff,
        nurses=nurses,
    )


async def preview_against_published(
    pool: asyncpg.Pool,
    candidate: tuple[str, RuleSet],
    *,
    name: str,
    days: float,
    until: datetime,
    tz: tzinfo,
    patient_ids: list[int] | None = None,
    wards: list[str] | None = None,
    fan_out: tuple[str, int] | None = None,
    nurses: int = NURSES,
) -> PreviewReport:
    """The candidate beside the published version of rule set `name`, over the `days` before `until`."""
    async with pool.acquire() as conn:
        record = await load_published(conn, name)
    if record is None:
        raise LookupError(f"rule set {name!r} has no published version to compare with")
    published = (f"{record.name}@{record.version}", RuleSet.model_validate(record.body))
    return await preview(
        pool,
        candidate=candidate,
        published=published,
        start=until - timedelta(days=days),
        end=until,
        tz=tz,
        patient_ids=patient_ids,
        wards=wards,
        fan_out=fan_out,
        nurses=nurses,
    )


async def preview_file(
    settings: Settings, path: Path, *, days: float, patient_ids: list[int] | None, processes: int
) -> PreviewReport:
    """`vward rules preview FILE`: the file's rule set against the published one, up to now."""
    if not settings.database_url:
        raise SettingsError("vward rules preview needs VWARD_DATABASE_URL")
    candidate = load_ruleset(path)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        return await preview_against_published(
            pool,
            (f"{path.name} ({candidate.name})", candidate),
            name=settings.rules_ruleset,
            days=days,
            until=datetime.now(UTC),
            tz=ZoneInfo(settings.timezone),
            patient_ids=patient_ids,
            fan_out=(settings.database_url, processes),
        )
    finally:
        await pool.close()
