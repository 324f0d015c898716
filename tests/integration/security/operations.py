"""The API's patient-data operations, read from its OpenAPI description, and requests that fit them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

# Everything a patient's data or a change to the ward can be reached through.
PATIENT_PATHS = r"/(api/v1/(patients|alerts)|fhir/r4/(Patient|Observation|Device|Flag))"
PATIENT_DATA = re.compile(f"^{PATIENT_PATHS}")


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value of `schema` that validates, so a request fails on authority and never on shape."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], components)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: example(schema["properties"][name], components) for name in schema.get("required", [])}
    if kind == "string":
        if schema.get("format") == "date-time":
            return (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        if schema.get("format") == "date":
            return "1960-01-01"
        return f"matrix-{uuid.uuid4().hex[:8]}"[: schema.get("maxLength", 64)].ljust(schema.get("minLength", 0), "x")
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return {}


async def ward_objects(client: httpx.AsyncClient, pool: asyncpg.Pool, ward: str) -> dict[str, str]:
    """A patient with a device and an open alert in `ward`; their ids by path parameter name."""
    admitted = await client.post(
        "/api/v1/patients", json={"mrn": f"MX-{uuid.uuid4().hex[:10]}", "display_name": "Matrix", "ward": ward}
    )
    patient = admitted.json()["id"]
    device = f"mx-{uuid.uuid4().hex[:8]}"
    await client.post(f"/api/v1/patients/{patient}/devices", json={"device_id": device, "kind": "oximeter"})
    now = datetime.now(UTC)
    policy = {"name": "security-test", "tiers": [{"after_minutes": 0, "target": "ward", "channel": "dashboard"}]}
    alert = await pool.fetchval(
        "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title, opened_at,"
        " updated_at, escalation_policy) VALUES ($1, 'matrix', 'default', 1, 2, 'open', 'Matrix', $2, $2, $3)"
        " RETURNING id",
        patient,
        now,
        policy,
    )
    return {"patient_id": str(patient), "device_id": device, "alert_id": str(alert)}


def _valid_bodies() -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies the schema alone cannot give (cross-field rules), so these routes too are refused on authority."""
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return {
        ("POST", "/api/v1/patients/{patient_id}/observations"): {"readings": [{"metric": "heart_rate", "value": 80}]},
        ("POST", "/api/v1/patients/{patient_id}/threshold-overrides"): {
            "metric": "heart_rate", "high": 140, "reason": "athlete's heart", "expires_at": soon,
        },
    }  # fmt: skip


def patient_operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if PATIENT_DATA.match(path)
    ]


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    operation: dict[str, Any],
    ids: dict[str, str],
    components: dict[str, Any],
) -> httpx.Response:
    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), path)  # other ids: some row, maybe none
    params = {p["name"]: ids["patient_id"] for p in operation.get("parameters", []) if p["name"] == "patient"}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    json_body = example(body["schema"], components) if body else None
    json_body = _valid_bodies().get((method, path), json_body)
    if path == "/api/v1/patients" and method == "POST":
        json_body = {**json_body, "ward": ids["ward"]}
    return await client.request(method, url, params=params, json=json_body)
