"""Ward scope on every write: a clinician of one ward, aiming each write route the app serves at another
ward's patient, device and alert (and with emergency access, which reads but never writes), gets 403 or
404 and changes nothing in the database. The routes come from the app's OpenAPI description."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.integration.security.operations import call, patient_operations, ward_objects
from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.settings import Settings

pytestmark = pytest.mark.integration

MINE, THEIRS = "Scope-mine", "Scope-theirs"
# Everything a write could change about a patient, their stays, devices, alerts and notes.
TABLES = (
    "patients",
    "episodes",
    "episode_events",
    "devices",
    "device_bindings",
    "alerts",
    "alert_events",
    "patient_notes",
    "readings",
    "threshold_overrides",
    "eval_queue",
)


async def _snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    """Each table's rows, hashed in a stable order."""
    return {
        t: await pool.fetchval(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
        for t in TABLES
    }


async def _writes(client: httpx.AsyncClient, ids: dict[str, str]) -> list[tuple[str, int]]:
    openapi = (await client.get("/openapi.json")).json()
    answers = []
    for method, path, operation in patient_operations(openapi):
        if method == "GET":
            continue
        response = await call(client, method, path, operation, ids, openapi["components"]["schemas"])
        answers.append((f"{method} {path}", response.status_code))
    return answers


@pytest.mark.parametrize("emergency", [False, True], ids=["own-ward", "break-glass"])
async def test_every_write_route_aimed_at_another_ward_is_refused_and_changes_nothing(
    settings: Settings, db_pool: asyncpg.Pool, emergency: bool
) -> None:
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        mine = await ward_objects(admin, db_pool, MINE)
        theirs = {**await ward_objects(admin, db_pool, THEIRS), "ward": THEIRS}
        mrn = await db_pool.fetchval("SELECT mrn FROM patients WHERE id = $1", int(theirs["patient_id"]))
    before = await _snapshot(db_pool)
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(MINE,)) as client:
        if emergency:
            client.headers["X-Break-Glass-Reason"] = "cardiac arrest call, covering the other ward"
        answers = await _writes(client, theirs)
        own = f"/api/v1/patients/{mine['patient_id']}"
        pull = {"mrn": mrn, "display_name": "X", "ward": MINE}  # their patient into my ward, by MRN
        take = {"device_id": theirs["device_id"], "transfer": True}
        aimed = [
            ("admit their MRN", await client.post("/api/v1/patients", json=pull)),
            ("take their device", await client.post(f"{own}/devices", json=take)),
            ("transfer mine to theirs", await client.post(f"{own}/transfer", json={"ward": THEIRS})),
        ]
    assert len(answers) >= 12, answers
    wrong = [(route, code) for route, code in answers if code not in {403, 404}]
    assert wrong == [], wrong
    assert [(what, r.status_code) for what, r in aimed] == [
        ("admit their MRN", 409),
        ("take their device", 403 if emergency else 404),
        ("transfer mine to theirs", 403),
    ]
    assert await _snapshot(db_pool) == before
