"""Role x endpoint x foreign id: every operation the app serves, for every role, aimed at another ward's
patient, device and alert, answers no 2xx; and the role gates hold on the user's own ward's objects.

The operations come from the app's own OpenAPI description, so a router added later is covered too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.integration.security.operations import PATIENT_PATHS, call, patient_operations, ward_objects
from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.settings import Settings

pytestmark = pytest.mark.integration

MINE, THEIRS = "Matrix-mine", "Matrix-theirs"


@pytest.fixture
async def world(settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[dict[str, dict[str, str]]]:
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        yield {
            "mine": {**await ward_objects(admin, db_pool, MINE), "ward": MINE},
            "theirs": {**await ward_objects(admin, db_pool, THEIRS), "ward": THEIRS},
        }


@pytest.mark.parametrize("role", list(Role))
async def test_no_role_reaches_another_wardsward_objects(
    settings: Settings, db_pool: asyncpg.Pool, world: dict[str, dict[str, str]], role: Role
) -> None:
    leaks = []
    theirs = world["theirs"]
    async with api_client(settings, db_pool, role, wards=(MINE,)) as client:
        openapi = (await client.get("/openapi.json")).json()
        operations = patient_operations(openapi)
        for method, path, operation in operations:
            names = {p["name"] for p in operation.get("parameters", [])}
            if method == "GET" and "{" not in path and "patient" not in names:
                continue  # a list: what it must not contain is checked below
            response = await call(client, method, path, operation, theirs, openapi["components"]["schemas"])
            if response.is_success:
                leaks.append(f"{method} {path} -> {response.status_code}")
        leaks += await _foreign_rows_in_lists(client, theirs)
    assert len(operations) >= 10
    assert leaks == []


async def _foreign_rows_in_lists(client: httpx.AsyncClient, theirs: dict[str, str]) -> list[str]:
    """Lists answer 200 with the caller's rows: none of them may be the foreign patient's."""
    found = []
    patient = int(theirs["patient_id"])
    listed = await client.get("/api/v1/patients")
    if listed.is_success and patient in [p["id"] for p in listed.json()]:
        found.append("GET /api/v1/patients lists the foreign patient")
    alerts = await client.get("/api/v1/alerts")
    if alerts.is_success and patient in [a["patient_id"] for a in alerts.json()["items"]]:
        found.append("GET /api/v1/alerts lists the foreign alert")
    flags = await client.get("/fhir/r4/Flag")
    if flags.is_success and f"Patient/{patient}" in flags.text:
        found.append("GET /fhir/r4/Flag lists the foreign alert")
    return found


# Operations each role may never succeed at, even on its own ward's objects.
FORBIDDEN: dict[Role, tuple[re.Pattern[str], int]] = {
    # ops run the platform; they see no patient identifiers at all
    Role.OPS: (re.compile(f"^[A-Z]+ {PATIENT_PATHS}"), 10),
    Role.VIEWER: (re.compile(r"^(POST|PUT|PATCH|DELETE) /(?!api/v1/auth/)"), 4),
    Role.CLINICIAN: (re.compile(r"^POST /api/v1/rulesets/\{\w+\}/publish$"), 0),
}


@pytest.mark.parametrize("role", list(FORBIDDEN))
async def test_role_gates_hold_on_own_ward(
    settings: Settings, db_pool: asyncpg.Pool, world: dict[str, dict[str, str]], role: Role
) -> None:
    allowed = []
    pattern, at_least = FORBIDDEN[role]
    checked = 0
    async with api_client(settings, db_pool, role, wards=(MINE,)) as client:
        openapi = (await client.get("/openapi.json")).json()
        for method, path, operation in [
            (m.upper(), p, op) for p, ops in openapi["paths"].items() for m, op in ops.items()
        ]:
            if not pattern.match(f"{method} {path}"):
                continue
            checked += 1
            response = await call(client, method, path, operation, world["mine"], openapi["components"]["schemas"])
            if response.is_success:
                allowed.append(f"{method} {path} -> {response.status_code}")
    assert checked >= at_least
    assert allowed == []
