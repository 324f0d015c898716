"""In a real browser: the patient view's chart, trends and devices; acknowledge an alert from its timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support.browser import choose, sign_in
from tests.e2e.support.dashboard import Platform, SeedPatient, serve_platform
from vward.domain.alerts import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
VIEWPORT = {"width": 1440, "height": 1000}

AMBER = SeedPatient("Amber Ames", 6, "medium", alert_severity=2, alert_title="NEWS2 5-6")
RED = SeedPatient("Red Reyes", 9, "high", alert_severity=3, alert_title="NEWS2 7 or more", device_offline=True)


@pytest.fixture(scope="module")
def platform(database_url: str) -> Iterator[Platform]:
    with serve_platform(database_url) as running:
        running.seed((AMBER, RED))
        running.fetch(
            "INSERT INTO threshold_overrides (patient_id, metric, low, reason, expires_at, created_by)"
            " VALUES ($1, 'spo2', 88, 'COPD: usual saturation 88-92%', now() + interval '3 days', 'dr-who')",
            running.patients[RED.name],
        )
        yield running


def test_the_patient_view_shows_chart_trends_and_devices(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    patient_id = platform.patients[RED.name]
    sign_in(page, platform.base_url, username, password, path=f"/dash/patients/{patient_id}")

    expect(page.get_by_role("heading", name=RED.name)).to_be_visible()
    expect(page.locator("#patient-news2")).to_have_text("NEWS2 9 High")
    expect(page).to_have_title("virtual ward")
    assert re.search(rf"/dash/patients/{patient_id}$", page.url)
    expect(page.locator("#patient-alert-timeline")).to_contain_text("NEWS2 7 or more")
    # High severity is never snoozed: the button is not offered.
    expect(page.get_by_role("button", name=re.compile("^Snooze"))).to_have_count(0)

    chart = page.locator("#patient-news2-chart")
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(chart).to_contain_text("Respiration rate /min")
    expect(chart).to_contain_text("NEWS2 total")
    # Oxygen is stored as 0.0/1.0 and ACVPU as a letter: both show, scored, and the form opens once loaded
    # (the record was blank for every demo patient when a boolean arrived as a float).
    expect(chart).to_contain_text("Air or oxygen")
    expect(chart).to_contain_text("O2")
    expect(chart).to_contain_text("Air")
    expect(page.locator("#entry-fieldset")).to_be_enabled()
    expect(page.locator(".panel-error")).to_have_count(0)
    expect(page.locator("#patient-trends")).to_contain_text("Heart rate")
    expect(page.locator("#patient-weight")).to_contain_text("Weight")

    expect(page.locator("#patient-devices")).to_contain_text("Offline")
    expect(page.locator("#patient-overrides-table")).to_contain_text("COPD: usual saturation 88-92%")


def test_acknowledging_an_alert_shows_in_the_timeline_and_the_audit_log(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    patient_id = platform.patients[AMBER.name]
    sign_in(page, platform.base_url, username, password)
    page.locator("#worklist-grid .ag-row", has_text=AMBER.name).locator("[col-id='patient']").click()
    expect(page).to_have_url(re.compile(rf"/dash/patients/{patient_id}$"))

    page.get_by_role("button", name=re.compile("^Acknowledge alert")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"{AMBER.name} · MRN")  # two patients may share a name
    expect(dialog.get_by_label("Outcome")).to_be_hidden()
    dialog.get_by_label(re.compile("^Note")).fill("Phoned: breathless on stairs, visiting at 2")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#action-done")).to_contain_text("acknowledged")
    expect(page.locator("#action-done")).to_contain_text(AMBER.name)
    timeline = page.locator("#patient-alert-timeline")
    expect(timeline).to_contain_text(f"by {username}")
    expect(timeline).to_contain_text("open → acknowledged")
    expect(timeline).to_contain_text("Phoned: breathless on stairs")
    expect(timeline).to_contain_text("✓ acknowledged just now")  # beside the alert acted on
    expect(page.get_by_role("button", name=re.compile("^Acknowledge alert"))).to_have_count(0)

    audit = platform.fetch(
        "SELECT object_id, detail FROM audit_log WHERE username = $1 AND patient_id = $2"
        " AND action = 'alert.acknowledge'",
        username,
        patient_id,
    )
    assert len(audit) == 1
    assert audit[0]["detail"]["to"] == "acknowledged"
    expect(page.locator("#patient-audit")).to_contain_text("alert.acknowledge")


def test_resolving_asks_for_an_outcome_and_nothing_else(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    patient_id = platform.patients[RED.name]
    sign_in(page, platform.base_url, username, password, path=f"/dash/patients/{patient_id}")
    page.get_by_role("button", name=re.compile("^Resolve alert")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"{RED.name} · MRN")
    expect(dialog.get_by_label("Reason for snoozing")).to_be_hidden()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_contain_text("Choose the outcome before resolving.")  # nothing is pre-chosen
    choose(page, "action-outcome-code", "Treated or advised at home")
    dialog.get_by_label(re.compile("^Note")).fill("Reviewed by phone; GP visit arranged")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#action-done")).to_contain_text("resolved")
    timeline = page.locator("#patient-alert-timeline")
    expect(timeline).to_contain_text("Reviewed by phone")
    expect(timeline).to_contain_text("Treated or advised at home")
    stored = platform.fetch("SELECT outcome_code FROM alerts WHERE patient_id = $1 AND state = 'resolved'", patient_id)
    assert [r["outcome_code"] for r in stored] == ["treated_at_home"]


def test_bedside_entry_records_acvpu_and_oxygen_and_a_note(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.CLINICIAN)
    patient_id = platform.patients[AMBER.name]
    sign_in(page, platform.base_url, username, password, path=f"/dash/patients/{patient_id}")
    page.get_by_label("V – Voice").check()
    page.get_by_label("Supplemental oxygen").check()
    page.get_by_role("button", name="Record observation").click()
    expect(page.locator("#entry-result")).to_contain_text("Recorded ACVPU V on oxygen")
    stored = platform.fetch(
        "SELECT metric, value, value_text FROM readings WHERE patient_id = $1 AND device_id = $2 ORDER BY metric",
        patient_id,
        f"clinician:{username}",
    )
    assert [tuple(r) for r in stored] == [("consciousness", None, "V"), ("on_oxygen", 1.0, None)]
    page.get_by_label("Add a note").fill("Drowsy but rousable to voice; oxygen started.")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#note-result")).to_contain_text("Note saved")
    expect(page.locator("#patient-notes-list .patient-note")).to_have_count(1)
    expect(page.locator("#patient-notes-list")).to_contain_text(f"{username}")
    expect(page.locator("#patient-notes-list")).to_contain_text("Drowsy but rousable to voice; oxygen started.")
    expect(page.get_by_label("Add a note")).to_have_value("")
    notes = platform.fetch("SELECT author, text FROM patient_notes WHERE patient_id = $1", patient_id)
    assert [tuple(n) for n in notes] == [(username, "Drowsy but rousable to voice; oxygen started.")]
