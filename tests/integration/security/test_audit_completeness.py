"""Audit completeness: every patient-data operation the app serves, done by a clinician on their own
ward, writes exactly one audit row naming the user, role, patient and request when it succeeds, and
none when it is refused. The operations come from the app's OpenAPI description."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.integration.security.operations import call, patient_operations, ward_objects
from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.settings import Settings

pytestmark = pytest.mark.integration


def _order(operation: tuple[str, str, object]) -> tuple[bool, bool, bool]:
    """Reads first, then changes, and the ones that end a binding or a stay last."""
    method, path, _ = operation
    return (method != "GET", method == "DELETE", path.endswith("/discharge"))


async def test_each_patient_data_request_writes_exactly_one_audit_row(
    settings: Settings, db_pool: asyncpg.Pool
) -> None:
    ward = f"Audit-{uuid.uuid4().hex[:6]}"
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        ids = {**await ward_objects(client, db_pool, ward), "ward": ward}
        openapi = (await client.get("/openapi.json")).json()
        username = await db_pool.fetchval(
            "SELECT username FROM audit_log WHERE patient_id = $1 AND action = 'patient.admit'", int(ids["patient_id"])
        )
        succeeded = []
        for method, path, operation in sorted(patient_operations(openapi), key=_order):
            request_id = f"audit-{uuid.uuid4().hex}"
            client.headers["X-Request-ID"] = request_id
            response = await call(client, method, path, operation, ids, openapi["components"]["schemas"])
            rows = await db_pool.fetch(
                "SELECT username, role, patient_id, at FROM audit_log WHERE request_id = $1", request_id
            )
            label = f"{method} {path} -> {response.status_code}"
            if not response.is_success:
                assert rows == [], label
                continue
            succeeded.append(label)
            assert len(rows) == 1, label
            assert (rows[0]["username"], rows[0]["role"]) == (username, "clinician"), label
            if "{patient_id}" in path or "patient" in {p["name"] for p in operation.get("parameters", [])}:
                assert rows[0]["patient_id"] == int(ids["patient_id"]), label
    assert len(succeeded) >= 10, succeeded
