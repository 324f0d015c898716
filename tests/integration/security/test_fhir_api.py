"""FHIR R4 endpoints: every response parses with fhir.resources (R4B models), codes follow design.md,
pages chain through `next` links, scoping answers 404, and each read writes one audit row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.support.api import api_client
from vward.domain.alerts import Role
from vward.settings import Settings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def parse(response: httpx.Response, expected_type: str) -> dict[str, Any]:
    """The body, after fhir.resources has validated it and every resource inside it (raises on any error)."""
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == expected_type
    get_fhir_model_class(expected_type).model_validate(body)
    for entry in body.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return body


async def _reading(
    pool: asyncpg.Pool, patient: int, device: str, msg: str, metric: str, value: float, at: datetime
) -> None:
    await pool.execute(
        "INSERT INTO readings (device_id, msg_id, metric, value, measured_at, received_at, patient_id)"
        " VALUES ($1, $2, $3, $4, $5, $5::timestamptz + interval '2 seconds', $6)",
        device,
        msg,
        metric,
        value,
        at,
        patient,
    )


@pytest.fixture
async def ward_patient(settings: Settings, db_pool: asyncpg.Pool) -> tuple[str, int, str]:
    """(ward, patient id, device id) with a few readings over two days and one open alert."""
    ward = f"Ward-{uuid.uuid4().hex[:6]}"
    device = f"ox_{uuid.uuid4().hex[:8]}"  # an underscore: not a legal FHIR id, so it is hashed
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        response = await admin.post(
            "/api/v1/patients",
            json={
                "mrn": f"MRN-{uuid.uuid4().hex[:8]}",
                "display_name": "Fhir Test",
                "ward": ward,
                "date_of_birth": "1950-03-04",
            },
        )
        patient = int(response.json()["id"])
        bound = await admin.post(f"/api/v1/patients/{patient}/devices", json={"device_id": device, "kind": "oximeter"})
        assert bound.status_code == 201, bound.text
    for day in range(2):
        at = T0 + timedelta(days=day)
        await _reading(db_pool, patient, device, f"m{day}", "heart_rate", 80 + day, at)
        await _reading(db_pool, patient, device, f"m{day}", "spo2", 95, at)
        await _reading(db_pool, patient, device, f"m{day}", "systolic_bp", 120, at)
        await _reading(db_pool, patient, device, f"m{day}", "diastolic_bp", 80, at)
        await _reading(db_pool, patient, device, f"m{day}", "temperature", 37.1, at)
    await db_pool.execute(
        "INSERT INTO alerts (patient_id, rule_id, rule_set_name, rule_set_version, severity, state, title,"
        " opened_at, updated_at) VALUES ($1, 'news2_high', 'default', 1, 3, 'open', 'NEWS2 high', $2, $2)",
        patient,
        T0,
    )
    return ward, patient, device


async def test_capability_statement_is_public_and_valid(settings: Settings, db_pool: asyncpg.Pool) -> None:
    async with api_client(settings, db_pool, role=None) as anonymous:
        body = parse(await anonymous.get("/fhir/r4/metadata"), "CapabilityStatement")
    types = {r["type"] for r in body["rest"][0]["resource"]}
    assert types == {"Patient", "Observation", "Device", "Flag"}


async def test_patient_device_and_flag(
    settings: Settings, db_pool: asyncpg.Pool, ward_patient: tuple[str, int, str]
) -> None:
    ward, patient, device = ward_patient
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        body = parse(await client.get(f"/fhir/r4/Patient/{patient}"), "Patient")
        assert body["identifier"][0]["value"].startswith("MRN-")
        assert body["birthDate"] == "1950-03-04"
        flags = parse(await client.get("/fhir/r4/Flag", params={"patient": f"Patient/{patient}"}), "Bundle")
        observations = parse(await client.get("/fhir/r4/Observation", params={"patient": patient}), "Bundle")
        device_ref = observations["entry"][0]["resource"]["device"]["reference"]
        body_device = parse(await client.get(f"/fhir/r4/{device_ref}"), "Device")
    assert flags["total"] == 1
    assert flags["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{patient}"
    assert body_device["identifier"][0]["value"] == device
    assert body_device["patient"]["reference"] == f"Patient/{patient}"


def _codes(resource: dict[str, Any]) -> set[str]:
    return {c["code"] for c in resource["code"]["coding"]}


async def test_observations_follow_the_vital_signs_profile(
    settings: Settings, db_pool: asyncpg.Pool, ward_patient: tuple[str, int, str]
) -> None:
    ward, patient, _ = ward_patient
    async with api_client(settings, db_pool, Role.VIEWER, wards=(ward,)) as client:
        bundle = parse(await client.get("/fhir/r4/Observation", params={"patient": patient}), "Bundle")
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 8  # per day: heart rate, SpO2, temperature and one blood pressure panel
    by_code = {frozenset(_codes(e["resource"])): e["resource"] for e in bundle["entry"]}
    bp = by_code[frozenset({"85354-9"})]
    assert "valueQuantity" not in bp
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in bp["component"]}
    assert components == {
        "8480-6": {"value": 120, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
        "8462-4": {"value": 80, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
    }
    spo2 = by_code[frozenset({"59408-5", "2708-6"})]
    assert spo2["valueQuantity"]["code"] == "%"
    assert by_code[frozenset({"8310-5"})]["valueQuantity"]["code"] == "Cel"
    assert by_code[frozenset({"8867-4"})]["valueQuantity"]["code"] == "/min"
    assert all(e["resource"]["category"][0]["coding"][0]["code"] == "vital-signs" for e in bundle["entry"])


async def test_code_and_date_search(
    settings: Settings, db_pool: asyncpg.Pool, ward_patient: tuple[str, int, str]
) -> None:
    ward, patient, _ = ward_patient
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        heart = parse(
            await client.get("/fhir/r4/Observation", params={"patient": patient, "code": "http://loinc.org|8867-4"}),
            "Bundle",
        )
        second_day = parse(
            await client.get(
                "/fhir/r4/Observation",
                params=[
                    ("patient", str(patient)),
                    ("code", "85354-9,2708-6"),
                    ("date", "ge2026-11-21"),
                    ("date", "lt2026-11-22"),
                ],
            ),
            "Bundle",
        )
        bad = await client.get("/fhir/r4/Observation", params={"patient": patient, "date": "ap2026"})
    assert [e["resource"]["valueQuantity"]["value"] for e in heart["entry"]] == [80, 81]
    assert second_day["total"] == 2
    assert {e["resource"]["effectiveDateTime"] for e in second_day["entry"]} == {"2026-11-21T08:00:00Z"}
    assert bad.status_code == 400
    parse(bad, "OperationOutcome")


async def test_paging_follows_next_links_without_gaps_or_overlap(
    settings: Settings, db_pool: asyncpg.Pool, ward_patient: tuple[str, int, str]
) -> None:
    ward, patient, _ = ward_patient
    seen: list[str] = []
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=(ward,)) as client:
        url: str | None = f"/fhir/r4/Observation?patient={patient}&_count=3"
        while url is not None:
            page = parse(await client.get(url), "Bundle")
            assert len(page["entry"]) <= 3
            seen += [e["resource"]["id"] for e in page["entry"]]
            url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        assert (await client.get(f"/fhir/r4/Observation?patient={patient}&_count=101")).status_code == 422
    assert len(seen) == len(set(seen)) == 8


async def test_scope_roles_and_audit(
    settings: Settings, db_pool: asyncpg.Pool, ward_patient: tuple[str, int, str]
) -> None:
    _, patient, _ = ward_patient
    request_id = f"fhir-{uuid.uuid4().hex[:8]}"
    async with api_client(settings, db_pool, Role.CLINICIAN, wards=("Elsewhere",)) as outsider:
        for path in (
            f"/fhir/r4/Patient/{patient}",
            f"/fhir/r4/Observation?patient={patient}",
            f"/fhir/r4/Flag?patient={patient}",
        ):
            response = await outsider.get(path)
            assert response.status_code == 404
            parse(response, "OperationOutcome")
        assert (await outsider.get("/fhir/r4/Flag")).json()["total"] == 0
    async with api_client(settings, db_pool, Role.OPS) as ops:
        assert (await ops.get(f"/fhir/r4/Patient/{patient}")).status_code == 403
    async with api_client(settings, db_pool, Role.ADMIN) as admin:
        ok = await admin.get(f"/fhir/r4/Observation?patient={patient}", headers={"X-Request-ID": request_id})
        assert ok.status_code == 200
    rows = await db_pool.fetch("SELECT action, patient_id, role FROM audit_log WHERE request_id = $1", request_id)
    assert [tuple(r) for r in rows] == [("fhir.observation.search", patient, "admin")]
