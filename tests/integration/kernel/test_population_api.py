"""The population view with known answers: stays, a readmission, a step-up, a transfer between wards and
alerts with known acknowledgement times, over a 10-day period, as JSON and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.domain.episodes import Outcome, Source
from vward.settings import Settings
from vward.storage.episodes import Identity, Stay, admit, discharge, transfer

pytestmark = pytest.mark.integration

JUNE = datetime(2026, 6, 1, tzinfo=UTC)
PERIOD = {"since": JUNE.isoformat(), "until": (JUNE + timedelta(days=10)).isoformat()}


def day(n: float) -> datetime:
    return JUNE + timedelta(days=n)


async def _alert(pool: asyncpg.Pool, patient: int, severity: int, opened: datetime, acked: float | None) -> None:
    await pool.execute(
        "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, opened_at,"
        " updated_at, acknowledged_at) VALUES ($1, $5, 'default', 1, $2, 'open', 'NEWS2', $3, $3, $4)",
        patient,
        severity,
        opened,
        None if acked is None else opened + timedelta(minutes=acked),
        f"news2-{uuid.uuid4().hex[:6]}",  # one open alert per rule and patient
    )


async def _ward_of_stays(pool: asyncpg.Pool, north: str, south: str) -> None:
    def who() -> Identity:
        return Identity(f"POP-{uuid.uuid4().hex[:10]}", "Pop Patient")

    one = who()
    p1 = (await admit(pool, one, Stay(north), day(0), "test")).patient_id
    await discharge(pool, p1, day(4), Outcome.COMPLETED, None, "test")
    await admit(pool, one, Stay(north, source=Source.STEP_DOWN), day(7), "test")  # readmitted, still in at the end
    p2 = (await admit(pool, who(), Stay(north), day(-2), "test")).patient_id  # admitted before the period
    await discharge(pool, p2, day(2), Outcome.ESCALATED_TO_HOSPITAL, "sepsis", "test")
    p3 = (await admit(pool, who(), Stay(north), day(1), "test")).patient_id
    await transfer(pool, p3, day(3), south, None, "beds", "test")
    await discharge(pool, p3, day(5), Outcome.COMPLETED, None, "test")
    await _alert(pool, p1, 3, day(1), 10)
    await _alert(pool, p1, 3, day(1.5), 30)
    await _alert(pool, p1, 2, day(2), None)
    await _alert(pool, p1, 3, day(5), 1)  # between p1's stays: on no ward


async def test_the_figures_of_a_known_ward(settings: Settings, db_pool: asyncpg.Pool) -> None:
    north, south = f"North-{uuid.uuid4().hex[:6]}", f"South-{uuid.uuid4().hex[:6]}"
    await _ward_of_stays(db_pool, north, south)
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(north, south)) as client:
        answer = await client.get("/api/v1/population", params=PERIOD | {"nurses": 2})
        exported = await client.get("/api/v1/population.csv", params=PERIOD | {"nurses": 2})
        backwards = await client.get("/api/v1/population", params={"since": PERIOD["until"], "until": PERIOD["since"]})
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=("elsewhere",)) as other:
        hidden = (await other.get("/api/v1/population", params=PERIOD)).json()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    wards = {w["ward"]: w for w in body["wards"]}
    n, s = wards[north], wards[south]
    assert body["shifts"] == 20
    # north: three admissions (one a step-down readmission 3 days after a discharge), 4 + 3 + 2 + 2 bed-days
    assert (n["admissions"], n["step_downs"], n["readmissions_30d"]) == (3, 1, 1)
    assert (n["bed_days"], n["occupancy"]) == (11.0, 1.1)
    # two stays ended there (the transfer out is not an end), one stepped up to hospital; each 4 days long
    assert (n["discharges"], n["escalations"], n["escalation_rate"]) == (2, 1, 0.5)
    assert n["length_of_stay"] == {"stays": 2, "median_days": 4.0, "q1_days": 4.0, "q3_days": 4.0}
    assert (n["alerts"], n["alerts_per_patient_day"], n["alerts_per_nurse_shift"]) == (3, 0.273, 0.075)
    high, medium = n["acknowledgement"]
    assert (high["severity"], high["alerts"], high["median_minutes"], high["p90_minutes"]) == (3, 2, 20.0, 28.0)
    assert (medium["alerts"], medium["acknowledged"], medium["median_minutes"]) == (1, 0, None)
    # south: the transfer in is no admission; its stay of care ran 4 days from the north admission
    assert (s["admissions"], s["bed_days"], s["discharges"]) == (0, 2.0, 1)
    assert s["length_of_stay"]["median_days"] == 4.0
    census = {w: sum(d["census"] for d in body["daily"] if d["ward"] == w) for w in (north, south)}
    assert census == pytest.approx({north: 11.0, south: 2.0}, abs=0.02)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.headers["content-type"].startswith("text/csv")
    assert [(r["ward"], r["admissions"], r["los_median_days"], r["ack_p90_minutes_high"]) for r in rows] == [
        (north, "3", "4.0", "28.0"),
        (south, "0", "4.0", ""),
    ]
    assert backwards.status_code == 422
    assert hidden["wards"] == []
