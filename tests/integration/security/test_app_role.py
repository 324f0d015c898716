"""Production runs the services as a login role in `vward_app`: that is enough for the whole API and
for ingest's writes, and still not enough to rewrite the audit log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.settings import Settings
from vward.storage.pool import create_pool

pytestmark = pytest.mark.integration


@pytest.fixture
async def app_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool connected as a fresh login role whose only privileges come from `vward_app`."""
    role = f"vward_test_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    owner = await asyncpg.connect(database_url)
    await owner.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE vward_app")
    host_and_database = database_url.split("@", 1)[1]
    pool = await create_pool(f"postgresql://{role}:{password}@{host_and_database}", min_size=1, max_size=2)
    try:
        assert await pool.fetchval("SELECT current_user") == role
        yield pool
    finally:
        await pool.close()
        await owner.execute(f"DROP ROLE {role}")
        await owner.close()


async def test_the_api_and_ingest_writes_work_as_the_application_role(
    settings: Settings, app_pool: asyncpg.Pool
) -> None:
    ward = f"Role-{uuid.uuid4().hex[:6]}"
    async with api_client(settings, app_pool, Role.ADMIN) as client:
        admitted = await client.post(
            "/api/v1/patients", json={"mrn": f"ROLE-{uuid.uuid4().hex[:8]}", "display_name": "Role", "ward": ward}
        )
        assert admitted.status_code == 201, admitted.text
        patient = admitted.json()["id"]
        device = f"role-{uuid.uuid4().hex[:8]}"
        bound = await client.post(f"/api/v1/patients/{patient}/devices", json={"device_id": device, "kind": "patch"})
        assert bound.status_code == 201
        await app_pool.execute(
            "INSERT INTO readings (device_id, msg_id, metric, value, measured_at, received_at, patient_id)"
            " VALUES ($1, 'm1', 'heart_rate', 70, $2, $2, $3)",
            device,
            datetime.now(UTC),
            patient,
        )
        for path in (
            f"/api/v1/patients/{patient}",
            f"/api/v1/patients/{patient}/readings",
            f"/fhir/r4/Observation?patient={patient}",
        ):
            assert (await client.get(path)).status_code == 200, path
        assert (
            await client.post(f"/api/v1/patients/{patient}/discharge", json={"outcome": "completed"})
        ).status_code == 204
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_pool.execute("DELETE FROM audit_log WHERE patient_id = $1", patient)
