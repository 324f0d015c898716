"""Patients and their episodes of care (migration 0060): admission, readmission, transfer, step-up, discharge.

A patient is found by MRN and never overwritten by an admission: admitting an MRN whose stay is open is
refused (`AlreadyAdmitted`), a readmission whose identity differs from the stored one is refused
(`IdentityMismatch`) until the demographics are changed explicitly (`update_identity`), and every stay keeps
its own ward, team, pathway, plan, dates and outcome. Each step writes its `episode_events` row in the
same transaction; the caller audits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg

from vward.domain.episodes import OPENING_EVENT, EventKind, Outcome, Source, existing_spelling
from vward.domain.patients import Pathway
from vward.storage.pool import Conn, transaction


class EpisodeRefused(Exception):
    """A step the patient's stays do not allow; the message says why (no patient data in it)."""


class AlreadyAdmitted(EpisodeRefused):
    def __init__(self, patient_id: int, ward: str, admitted_at: datetime) -> None:
        super().__init__(
            f"MRN is already admitted as patient {patient_id} on ward {ward} since {admitted_at:%Y-%m-%d %H:%M}Z"
        )
        self.patient_id, self.ward, self.admitted_at = patient_id, ward, admitted_at


_FIELD_WORDS = {"display_name": "name", "date_of_birth": "date of birth", "nhs_number": "NHS number"}


class IdentityMismatch(EpisodeRefused):
    def __init__(self, patient_id: int, fields: list[str]) -> None:
        super().__init__(
            f"This MRN belongs to patient {patient_id}, recorded with a different"
            f" {' and '.join(_FIELD_WORDS.get(f, f) for f in fields)}: check the MRN, or correct the patient's"
            f" details first (an audited change: PATCH /api/v1/patients/{patient_id})"
        )
        self.patient_id, self.fields = patient_id, fields


class WardSpelling(EpisodeRefused):
    def __init__(self, ward: str, existing: str) -> None:
        super().__init__(f"There is a ward {existing!r}: write its name as it is, not {ward!r}")


async def _check_ward(tx: Conn, ward: str) -> None:
    """Refuse a variant spelling of a ward that has stays (wards are named where patients are admitted)."""
    known = [r["ward"] for r in await tx.fetch("SELECT DISTINCT ward FROM episodes")]
    if (existing := existing_spelling(ward, known)) is not None:
        raise WardSpelling(ward, existing)


class NotAdmitted(EpisodeRefused):
    def __init__(self) -> None:
        super().__init__("The patient has no open stay")


@dataclass(frozen=True, slots=True)
class Identity:
    mrn: str
    display_name: str
    date_of_birth: date | None = None
    nhs_number: str | None = None


@dataclass(frozen=True, slots=True)
class Stay:
    ward: str
    pathway: Pathway = Pathway.GENERAL
    spo2_scale: int = 1
    pregnant: bool = False
    monitoring_plan: dict[str, float] = field(default_factory=dict)
    team: str | None = None
    source: Source = Source.COMMUNITY


@dataclass(frozen=True, slots=True)
class Admission:
    patient_id: int
    episode_id: int
    readmission: bool


def _differences(row: asyncpg.Record, identity: Identity) -> list[str]:
    """Identity fields an admission states differently from the stored patient (unstated ones agree)."""
    stated = {
        "display_name": identity.display_name,
        "date_of_birth": identity.date_of_birth,
        "nhs_number": identity.nhs_number,
    }
    return [name for name, value in stated.items() if value is not None and row[name] != value]


async def admit(conn: Conn, identity: Identity, stay: Stay, at: datetime, actor: str) -> Admission:
    """Open a stay: a new patient, or a readmission of a known one whose last stay has ended."""
    async with transaction(conn) as tx:
        await _check_ward(tx, stay.ward)
        try:  # a new MRN: the row's stay columns open its first episode (trigger, migration 0060)
            created = await tx.fetchval(
                "INSERT INTO patients (mrn, display_name, date_of_birth, nhs_number, ward, pathway, spo2_scale,"
                " pregnant, monitoring_plan, admitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " ON CONFLICT (mrn) DO NOTHING RETURNING id",
                identity.mrn, identity.display_name, identity.date_of_birth, identity.nhs_number, stay.ward,
                stay.pathway.value, stay.spo2_scale, stay.pregnant, stay.monitoring_plan, at,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise EpisodeRefused("That NHS number belongs to another MRN") from None
        if created is not None:
            patient_id = created
            episode_id = await tx.fetchval(
                "UPDATE episodes SET team = $2, source = $3 WHERE patient_id = $1 RETURNING id",
                patient_id, stay.team, stay.source.value,
            )  # fmt: skip
        else:
            row = await tx.fetchrow(
                "SELECT id, display_name, date_of_birth, nhs_number FROM patients WHERE mrn = $1 FOR UPDATE",
                identity.mrn,
            )
            patient_id = row["id"]
            current = await _open_episode(tx, patient_id)
            if current is not None:
                raise AlreadyAdmitted(patient_id, current["ward"], current["admitted_at"])
            if differ := _differences(row, identity):
                raise IdentityMismatch(patient_id, differ)
            last = await tx.fetchval("SELECT max(discharged_at) FROM episodes WHERE patient_id = $1", patient_id)
            if last is not None and at < last:
                raise EpisodeRefused(f"A readmission cannot begin before the last discharge ({last:%Y-%m-%d %H:%M}Z)")
            episode_id = await _open(tx, patient_id, stay, at)
        await _event(tx, episode_id, patient_id, OPENING_EVENT[stay.source], at, actor,
                     to_ward=stay.ward, to_team=stay.team)  # fmt: skip
    return Admission(patient_id, episode_id, readmission=created is None)


async def _open(tx: asyncpg.Connection, patient_id: int, stay: Stay, at: datetime) -> int:
    episode_id: int = await tx.fetchval(
        "INSERT INTO episodes (patient_id, ward, team, pathway, spo2_scale, pregnant, monitoring_plan, source,"
        " admitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        patient_id, stay.ward, stay.team, stay.pathway.value, stay.spo2_scale, stay.pregnant,
        stay.monitoring_plan, stay.source.value, at,
    )  # fmt: skip
    return episode_id


async def _open_episode(conn: Conn, patient_id: int, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM episodes WHERE patient_id = $1 AND discharged_at IS NULL" + (" FOR UPDATE" if lock else ""),
        patient_id,
    )


async def _event(
    tx: asyncpg.Connection,
    episode_id: int,
    patient_id: int,
    kind: EventKind,
    at: datetime,
    actor: str,
    **detail: str | None,
) -> None:
    columns = ("from_ward", "to_ward", "from_team", "to_team", "outcome", "reason")
    values = [detail.get(c) for c in columns]
    await tx.execute(
        "INSERT INTO episode_events (episode_id, patient_id, kind, at, actor, from_ward, to_ward, from_team,"
        " to_team, outcome, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        episode_id, patient_id, kind.value, at, actor, *values,
    )  # fmt: skip


async def _end(
    tx: asyncpg.Connection, patient_id: int, at: datetime, outcome: Outcome, reason: str | None
) -> asyncpg.Record:
    current = await _open_episode(tx, patient_id, lock=True)
    if current is None:
        raise NotAdmitted()
    if at < current["admitted_at"]:
        raise EpisodeRefused("The time is before the stay began")
    await tx.execute(
        "UPDATE episodes SET discharged_at = $2, outcome = $3, outcome_reason = $4 WHERE id = $1",
        current["id"], at, outcome.value, reason,
    )  # fmt: skip
    return current


async def discharge(conn: Conn, patient_id: int, at: datetime, outcome: Outcome, reason: str | None, actor: str) -> int:
    """End the open stay with its outcome, and every open device binding at the same instant. A step-up
    (outcome `escalated_to_hospital`) is recorded as such. Returns the episode id."""
    if outcome is Outcome.TRANSFERRED:
        raise EpisodeRefused("A transfer opens the new ward's stay: use the transfer")
    async with transaction(conn) as tx:
        ended = await _end(tx, patient_id, at, outcome, reason)
        await tx.execute(
            "UPDATE device_bindings SET valid = tstzrange(lower(valid), $2)"
            " WHERE patient_id = $1 AND upper_inf(valid) AND lower(valid) < $2",
            patient_id,
            at,
        )
        kind = EventKind.STEPPED_UP if outcome is Outcome.ESCALATED_TO_HOSPITAL else EventKind.DISCHARGED
        await _event(tx, ended["id"], patient_id, kind, at, actor, from_ward=ended["ward"], from_team=ended["team"],
                     outcome=outcome.value, reason=reason)  # fmt: skip
    episode_id: int = ended["id"]
    return episode_id


async def transfer(
    conn: Conn, patient_id: int, at: datetime, ward: str, team: str | None, reason: str | None, actor: str
) -> tuple[str, int]:
    """Move the open stay to another ward (the old stay ends `transferred`, the new one opens at the same
    instant with the same pathway and plan; devices stay bound) or, within the ward, to another team.
    Returns the ward it came from and the episode now open."""
    async with transaction(conn) as tx:
        current = await _open_episode(tx, patient_id, lock=True)
        if current is None:
            raise NotAdmitted()
        await _check_ward(tx, ward)
        if current["ward"] == ward:
            if current["team"] == team:
                raise EpisodeRefused("The patient is already on that ward and team")
            await tx.execute("UPDATE episodes SET team = $2 WHERE id = $1", current["id"], team)
            await _event(tx, current["id"], patient_id, EventKind.TEAM_CHANGED, at, actor, from_team=current["team"],
                         to_team=team, reason=reason)  # fmt: skip
            return ward, int(current["id"])
        await _end(tx, patient_id, at, Outcome.TRANSFERRED, reason)
        stay = Stay(ward, Pathway(current["pathway"]), current["spo2_scale"], current["pregnant"],
                    current["monitoring_plan"], team, Source.TRANSFER)  # fmt: skip
        episode_id = await _open(tx, patient_id, stay, at)
        await _event(tx, episode_id, patient_id, EventKind.TRANSFERRED, at, actor, from_ward=current["ward"],
                     to_ward=ward, from_team=current["team"], to_team=team, reason=reason)  # fmt: skip
    return str(current["ward"]), episode_id


async def set_monitoring_plan(conn: Conn, patient_id: int, plan: dict[str, float]) -> None:
    """The open stay's plan (a discharged patient has none to change)."""
    status = await conn.execute(
        "UPDATE episodes SET monitoring_plan = $2 WHERE patient_id = $1 AND discharged_at IS NULL", patient_id, plan
    )
    if status.endswith(" 0"):
        raise NotAdmitted()


IDENTITY_FIELDS = ("display_name", "date_of_birth", "nhs_number")


async def update_identity(conn: Conn, patient_id: int, changes: dict[str, Any]) -> list[str]:
    """Change demographics explicitly; returns the names of the fields that changed, for the audit (which
    records what changed and why, not the values: they are patient data)."""
    async with transaction(conn) as tx:
        row = await tx.fetchrow(
            f"SELECT {', '.join(IDENTITY_FIELDS)} FROM patients WHERE id = $1 FOR UPDATE", patient_id
        )
        changed = [n for n in IDENTITY_FIELDS if n in changes and row[n] != changes[n]]
        if changed:
            sets = ", ".join(f"{n} = ${i + 2}" for i, n in enumerate(changed))
            try:
                await tx.execute(
                    f"UPDATE patients SET {sets} WHERE id = $1", patient_id, *(changes[n] for n in changed)
                )
            except asyncpg.UniqueViolationError:
                raise EpisodeRefused("That NHS number belongs to another MRN") from None
    return changed


async def episodes_of(conn: Conn, patient_id: int) -> list[asyncpg.Record]:
    """Every stay of the patient, oldest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, ward, team, pathway, source, admitted_at, discharged_at, outcome, outcome_reason"
        " FROM episodes WHERE patient_id = $1 ORDER BY admitted_at, id",
        patient_id,
    )
    return rows


async def events_of(conn: Conn, patient_id: int) -> list[asyncpg.Record]:
    """What happened to the patient's stays, in order."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, episode_id, kind, at, actor, from_ward, to_ward, from_team, to_team, outcome, reason"
        " FROM episode_events WHERE patient_id = $1 ORDER BY at, id",
        patient_id,
    )
    return rows
