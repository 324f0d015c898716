"""Pure mapping from the ward's records to FHIR R4 JSON: Patient, vital-signs Observations, Device, Flag.

Codes follow design.md: LOINC for what was measured, UCUM for units, blood pressure as the 85354-9
panel with systolic and diastolic components, SpO2 carrying both 59408-5 and 2708-6.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.patients import Patient

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MRN_SYSTEM = "urn:vward:mrn"
DEVICE_SYSTEM = "urn:vward:device"
BP_PANEL = "85354-9"
_SPO2_ALT = "2708-6"
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
_FHIR_ID = re.compile(r"^[A-Za-z0-9.-]{1,64}$")

# The metrics exported as Observations: those with a LOINC code and a numeric value.
OBSERVED: tuple[Metric, ...] = (
    Metric.HEART_RATE,
    Metric.RESPIRATORY_RATE,
    Metric.SPO2,
    Metric.TEMPERATURE,
    Metric.SYSTOLIC_BP,
    Metric.DIASTOLIC_BP,
    Metric.WEIGHT,
    Metric.GLUCOSE,
)
BP_METRICS = (Metric.SYSTOLIC_BP, Metric.DIASTOLIC_BP)


def fhir_id(raw: str) -> str:
    """A FHIR id for one of our ids: itself when legal, else its SHA-256 (FHIR ids forbid `_`)."""
    return raw if _FHIR_ID.match(raw) else hashlib.sha256(raw.encode()).hexdigest()


def instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _loinc(code: str, display: str) -> dict[str, str]:
    return {"system": LOINC, "code": code, "display": display}


def _codes(metric: Metric) -> list[dict[str, str]]:
    spec = METRIC_SPECS[metric]
    codes = [_loinc(spec.loinc, spec.display)]
    if metric is Metric.SPO2:
        codes.append(_loinc(_SPO2_ALT, "Oxygen saturation in Arterial blood"))
    return codes


def metrics_for_codes(codes: list[str]) -> set[Metric]:
    """The metrics a `code` search asks for; tokens may be `system|code` or a bare code, OR-ed."""
    wanted: set[Metric] = set()
    for token in codes:
        system, _, code = token.rpartition("|")
        if system not in ("", LOINC):
            continue
        if code == BP_PANEL:
            wanted.update(BP_METRICS)
        wanted.update(m for m in OBSERVED if code in {c["code"] for c in _codes(m)})
    return wanted


_DATE_PARAM = re.compile(
    r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"(Z|[+-]\d{2}:\d{2}))?)?)?$"
)


class BadSearch(ValueError):
    """A search parameter FHIR cannot interpret; answered with an OperationOutcome."""


def date_bounds(values: list[str]) -> tuple[datetime | None, datetime | None]:
    """The [start, end) instant range that `date=` parameters select (eq, ge, gt, le, lt; UTC when unzoned)."""
    start: datetime | None = None
    end: datetime | None = None
    for value in values:
        match = _DATE_PARAM.match(value)
        if not match:
            raise BadSearch(f"cannot read date parameter {value!r}")
        prefix = match.group(1) or "eq"
        if prefix not in ("eq", "ge", "gt", "le", "lt"):
            raise BadSearch(f"date prefix {prefix!r} is not supported")
        low, high = _period(match)
        if prefix in ("eq", "ge", "gt"):
            begin = high if prefix == "gt" else low
            start = begin if start is None else max(start, begin)
        if prefix in ("eq", "le", "lt"):
            finish = low if prefix == "lt" else high
            end = finish if end is None else min(end, finish)
    return start, end


def _period(match: re.Match[str]) -> tuple[datetime, datetime]:
    """The instants a (possibly partial) date or dateTime covers."""
    year, month, day, hour, minute, second, zone = match.groups()[1:]
    try:
        if hour is not None:
            text = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{'+00:00' if zone == 'Z' else zone}"
            at = datetime.fromisoformat(text)
            return at, at + timedelta(seconds=1 if second else 60)
        if day is not None:
            first = datetime.combine(date(int(year), int(month), int(day)), datetime.min.time(), UTC)
            return first, first + timedelta(days=1)
        if month is not None:
            first = datetime(int(year), int(month), 1, tzinfo=UTC)
            after = datetime(int(year) + int(month) // 12, int(month) % 12 + 1, 1, tzinfo=UTC)
            return first, after
        return datetime(int(year), 1, 1, tzinfo=UTC), datetime(int(year) + 1, 1, 1, tzinfo=UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: the period would end after the year 9999
        raise BadSearch(f"not a date: {match.group(0)!r}") from exc


def patient_resource(p: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(p.id),
        "identifier": [{"system": MRN_SYSTEM, "value": p.mrn}],
        "active": p.discharged_at is None,
        "name": [{"text": p.display_name}],
    }
    if p.date_of_birth is not None:
        resource["birthDate"] = p.date_of_birth.isoformat()
    return resource


@dataclass(frozen=True, slots=True)
class ObservationGroup:
    """The readings of one message that make one Observation: one metric, or a blood pressure pair."""

    patient_id: int
    device_id: str
    msg_id: str
    measured_at: datetime
    received_at: datetime
    values: dict[Metric, float]


def _quantity(metric: Metric, value: float) -> dict[str, Any]:
    unit = METRIC_SPECS[metric].unit
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation_resource(g: ObservationGroup) -> dict[str, Any]:
    key = f"{g.device_id}|{g.msg_id}|{instant(g.measured_at)}|{','.join(sorted(g.values))}"
    vital = not set(g.values) & {Metric.GLUCOSE}
    category = "vital-signs" if vital else "laboratory"
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": hashlib.sha256(key.encode()).hexdigest()[:64],
        "status": "final",
        "category": [{"coding": [{"system": _CATEGORY, "code": category, "display": category.replace("-", " ")}]}],
        "subject": {"reference": f"Patient/{g.patient_id}"},
        "effectiveDateTime": instant(g.measured_at),
        "issued": instant(g.received_at),
        "device": {"reference": f"Device/{fhir_id(g.device_id)}"},
    }
    if set(g.values) <= set(BP_METRICS):
        resource["code"] = {"coding": [_loinc(BP_PANEL, "Blood pressure panel")], "text": "Blood pressure"}
        resource["component"] = [
            {"code": {"coding": _codes(m)}, "valueQuantity": _quantity(m, g.values[m])}
            for m in BP_METRICS
            if m in g.values
        ]
        return resource
    ((metric, value),) = g.values.items()
    resource["code"] = {"coding": _codes(metric), "text": METRIC_SPECS[metric].display}
    resource["valueQuantity"] = _quantity(metric, value)
    return resource


def device_resource(device_id: str, kind: str, patient_id: int | None, online: bool | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": fhir_id(device_id),
        "identifier": [{"system": DEVICE_SYSTEM, "value": device_id}],
        "status": "active" if patient_id is not None else "inactive",
        "type": {"text": kind},
    }
    if patient_id is not None:
        resource["patient"] = {"reference": f"Patient/{patient_id}"}
    if online is not None:
        resource["note"] = [{"text": "online" if online else "offline"}]
    return resource


def flag_resource(alert_id: int, patient_id: int, title: str, severity: int, opened_at: datetime) -> dict[str, Any]:
    """An open alert as a clinical Flag, so other systems show that the ward is worried."""
    return {
        "resourceType": "Flag",
        "id": str(alert_id),
        "status": "active",
        "category": [{"coding": [{"system": _FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}],
        "code": {"text": f"{title} (severity {severity})"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": instant(opened_at)},
    }


def searchset(base: str, resources: list[dict[str, Any]], total: int, links: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def operation_outcome(code: str, diagnostics: str) -> dict[str, Any]:
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(now: datetime, software_version: str) -> dict[str, Any]:
    """What this server can do: read Patient and Device, search Observation and Flag, JSON only."""

    def search(name: str, kind: str, doc: str) -> dict[str, str]:
        return {"name": name, "type": kind, "documentation": doc}

    paging = [search("_count", "number", "page size, at most 100"), search("_offset", "number", "entries to skip")]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "kind": "instance",
        "software": {"name": "virtual ward", "version": software_version},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "OAuth2 password flow at /api/v1/auth/token; send the bearer token",
                },
                "resource": [
                    {"type": "Patient", "interaction": [{"code": "read"}]},
                    {"type": "Device", "interaction": [{"code": "read"}]},
                    {
                        "type": "Observation",
                        "supportedProfile": ["http://hl7.org/fhir/StructureDefinition/vitalsigns"],
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            search("patient", "reference", "required: the patient's id"),
                            search("code", "token", "LOINC code, e.g. 8867-4 or http://loinc.org|85354-9"),
                            search("date", "date", "effective time with eq, ge, gt, le or lt"),
                            *paging,
                        ],
                    },
                    {
                        "type": "Flag",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [search("patient", "reference", "the patient's id"), *paging],
                    },
                ],
            }
        ],
    }
