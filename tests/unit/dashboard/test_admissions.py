"""The admission form sends the API exactly what the clinician chose."""

from __future__ import annotations

from dashboard.pages.admissions import admission_body, monitoring_plan


def test_blank_or_zero_plan_entries_are_left_out() -> None:
    assert monitoring_plan({"spo2": 4, "weight": "24", "glucose": None, "temperature": 0, "heart_rate": ""}) == {
        "spo2": 4.0,
        "weight": 24.0,
    }


def test_an_admission_carries_pathway_scale_and_plan() -> None:
    body = admission_body(" M-1 ", "Pat One", "North", "copd", "2", "1950-02-03", {"spo2": 4.0})
    assert body == {
        "mrn": "M-1",
        "display_name": "Pat One",
        "ward": "North",
        "pathway": "copd",
        "spo2_scale": 2,
        "monitoring_plan": {"spo2": 4.0},
        "source": "community",
        "date_of_birth": "1950-02-03",
    }
    assert admission_body("M", "N", "W", None, None, None, {}, source="transfer")["source"] == "transfer"
    assert "date_of_birth" not in admission_body("M", "N", "W", None, None, "", {})
