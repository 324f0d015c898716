"""FHIR mapping: date search bounds, code search, ids, and resources that fhir.resources accepts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.observation import Observation

from vward.api.fhir_mapping import (
    BadSearch,
    ObservationGroup,
    date_bounds,
    fhir_id,
    metrics_for_codes,
    observation_resource,
)
from vward.domain.metrics import Metric


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], (None, None)),
        (["2026-11-21"], (utc(2026, 11, 21), utc(2026, 11, 22))),
        (["ge2026-11"], (utc(2026, 11, 1), None)),
        (["gt2026-12"], (utc(2027, 1, 1), None)),
        (["lt2026"], (None, utc(2026, 1, 1))),
        (["le2026-11-21T10:00:00+01:00"], (None, datetime.fromisoformat("2026-11-21T09:00:01+00:00"))),
        (["ge2026-11-01", "lt2026-11-02T06:30Z"], (utc(2026, 11, 1), utc(2026, 11, 2, 6, 30))),
    ],
)
def test_date_bounds(values: list[str], expected: tuple[datetime | None, datetime | None]) -> None:
    assert date_bounds(values) == expected


@pytest.mark.parametrize(
    "value", ["ap2026-11-21", "2026-13-01", "yesterday", "2026-11-21T10:00", "9999-12-31", "9999-12-31T23:59:59Z"]
)
def test_unreadable_dates_are_bad_searches(value: str) -> None:
    with pytest.raises(BadSearch):
        date_bounds([value])


def test_codes_select_metrics() -> None:
    assert metrics_for_codes(["http://loinc.org|85354-9"]) == {Metric.SYSTOLIC_BP, Metric.DIASTOLIC_BP}
    assert metrics_for_codes(["2708-6", "8867-4"]) == {Metric.SPO2, Metric.HEART_RATE}
    assert metrics_for_codes(["http://snomed.info/sct|8867-4", "nope"]) == set()


def test_fhir_ids_are_legal() -> None:
    assert fhir_id("ox-12.a") == "ox-12.a"
    hashed = fhir_id("ox_12")
    assert len(hashed) == 64
    assert hashed.isalnum()


def test_single_component_blood_pressure_is_still_a_panel() -> None:
    group = ObservationGroup(1, "cuff-1", "m1", utc(2026, 11, 21), utc(2026, 11, 21), {Metric.SYSTOLIC_BP: 131.0})
    resource = observation_resource(group)
    Observation.model_validate(resource)
    assert resource["code"]["coding"][0]["code"] == "85354-9"
    assert [c["code"]["coding"][0]["code"] for c in resource["component"]] == ["8480-6"]
