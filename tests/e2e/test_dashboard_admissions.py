"""In a real browser: admit a COPD patient on SpO2 scale 2, be refused a second admission of the MRN, bind a
device, see them on the worklist, discharge with an outcome, readmit (a new stay of the same patient)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support.browser import choose, sign_in
from tests.e2e.support.dashboard import Platform, serve_platform
from vward.domain.alerts import Role

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
VIEWPORT = {"width": 1440, "height": 1100}


@pytest.fixture(scope="module")
def platform(database_url: str) -> Iterator[Platform]:
    with serve_platform(database_url) as running:
        yield running


def test_admit_bind_and_discharge(platform: Platform, page: Page) -> None:
    username, password = platform.user(Role.ADMIN)
    mrn, device = f"MRN-{uuid.uuid4().hex[:8]}", f"ox-{uuid.uuid4().hex[:8]}"
    sign_in(page, platform.base_url, username, password, path="/dash/admissions")

    page.locator("#admit-mrn").fill(mrn)
    page.locator("#admit-name").fill("Copd Cole")
    page.locator("#admit-ward").fill(platform.ward)
    choose(page, "admit-pathway", "COPD")
    choose(page, "admit-scale", "Scale 2 (hypercapnic failure, target 88-92%)")
    page.get_by_label("Oxygen saturation: every N hours").fill("4")
    page.get_by_role("button", name="Admit", exact=True).click()
    expect(page.locator(".admission-done")).to_contain_text("Admitted as patient")
    rows = platform.fetch("SELECT id, pathway, spo2_scale, monitoring_plan FROM patients WHERE mrn = $1", mrn)
    assert (rows[0]["pathway"], rows[0]["spo2_scale"], rows[0]["monitoring_plan"]) == ("copd", 2, {"spo2": 4.0})
    patient_id = rows[0]["id"]

    page.locator("#admit-name").fill("Someone Else")
    page.get_by_role("button", name="Admit", exact=True).click()
    expect(page.locator("#admit-result")).to_contain_text(f"already admitted as patient {patient_id}")
    assert (
        platform.fetch("SELECT display_name FROM patients WHERE id = $1", patient_id)[0]["display_name"] == "Copd Cole"
    )

    choose(page, "device-patient", f"Copd Cole ({mrn}, {platform.ward})")
    page.locator("#device-id").fill(device)
    choose(page, "device-kind", "oximeter")
    page.get_by_role("button", name="Bind", exact=True).click()
    expect(page.locator("#device-result")).to_contain_text(f"Device {device} bound to patient {patient_id}")

    page.get_by_role("button", name="Unbind").click()
    expect(page.locator("#device-result")).to_contain_text(f"Device {device} unbound from patient {patient_id}")

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Worklist").click()
    expect(page.locator("#worklist-grid")).to_contain_text("Copd Cole")

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Admissions").click()
    choose(page, "discharge-patient", f"Copd Cole ({mrn}, {platform.ward})")
    choose(page, "discharge-outcome", "Escalated to hospital (step-up)")
    page.get_by_role("button", name="Discharge…", exact=True).click()
    # Asked first, naming the patient and the outcome; nothing is discharged until the answer is yes.
    expect(page.locator("#discharge-question")).to_contain_text(
        f"Discharge Copd Cole ({mrn}, {platform.ward}), outcome: Escalated to hospital (step-up)?"
    )
    assert platform.fetch("SELECT discharged_at FROM patients WHERE id = $1", patient_id)[0]["discharged_at"] is None
    page.get_by_role("button", name="Yes, discharge").click()
    expect(page.locator("#discharge-result")).to_contain_text(f"(patient {patient_id})")
    expect(page.locator("#discharge-result")).to_contain_text("Copd Cole")
    assert platform.fetch("SELECT discharged_at FROM patients WHERE id = $1", patient_id)[0]["discharged_at"]
    ended = platform.fetch("SELECT outcome FROM episodes WHERE patient_id = $1", patient_id)
    assert [e["outcome"] for e in ended] == ["escalated_to_hospital"]

    # The form was left for the worklist and back, so it is empty: the readmission is typed afresh.
    page.locator("#admit-mrn").fill(mrn)
    page.locator("#admit-name").fill("Copd Cole")
    page.locator("#admit-ward").fill(platform.ward)
    page.get_by_role("button", name="Admit", exact=True).click()
    expect(page.locator("#admit-result")).to_contain_text(f"Readmitted patient {patient_id}: a new stay")
    stays = platform.fetch("SELECT outcome FROM episodes WHERE patient_id = $1 ORDER BY id", patient_id)
    assert [e["outcome"] for e in stays] == ["escalated_to_hospital", None]
