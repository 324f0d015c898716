"""The page router's rules: which page a URL shows, and who may see it."""

from __future__ import annotations

import pytest

from dashboard.routing import Route, nav_pages, resolve


def test_clinicians_land_on_the_worklist_and_open_patients_by_id() -> None:
    assert resolve("/dash/", "clinician") == Route("worklist")
    assert resolve("/dash", "clinician") == Route("worklist")
    assert resolve("/dash/patients/42", "clinician") == Route("patient", patient_id=42)
    assert resolve("/dash/patients/42/", "viewer") == Route("patient", patient_id=42)


@pytest.mark.parametrize("path", ["/dash/rules", "/dash/burden", "/dash/data-quality"])
def test_clinicians_cannot_reach_ops_pages(path: str) -> None:
    route = resolve(path, "clinician")
    assert route.denied is not None
    assert "clinician" in route.denied


def test_ops_staff_land_on_rule_sets_and_cannot_open_patients() -> None:
    assert resolve("/dash/", "ops") == Route("rules")
    assert resolve("/dash/patients/1", "ops").denied is not None
    assert resolve("/dash/alerts", "ops").denied is not None


def test_admins_reach_every_page() -> None:
    for path in ("/dash/", "/dash/alerts", "/dash/rules", "/dash/admissions", "/dash/data-quality"):
        assert resolve(path, "admin").denied is None


def test_unknown_paths_are_not_found_rather_than_a_guess() -> None:
    assert resolve("/dash/patients/abc", "clinician") == Route("not_found")
    assert resolve("/dash/nowhere", "admin") == Route("not_found")


def test_navigation_lists_only_what_the_role_may_open() -> None:
    assert [p.name for p in nav_pages("clinician")] == ["worklist", "alerts", "admissions", "population"]
    assert [p.name for p in nav_pages("ops")] == ["rules", "burden", "data_quality", "population"]
    assert "patient" not in [p.name for p in nav_pages("admin")]
