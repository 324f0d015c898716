"""Every page's layout builds with the installed component versions (a wrong prop fails here, not in a browser)."""

from __future__ import annotations

from dashboard.alert_actions import action_frame
from dashboard.pages import admissions, alerts, burden, data_quality, patient, rules, worklist
from dashboard.routing import Route
from dashboard.session import login_form, session_expired
from dashboard.shell import denied, nav_links, not_found


def test_every_page_layout_builds() -> None:
    for layout in (
        worklist.layout([], [], "", None),
        alerts.layout(),
        rules.layout(),
        burden.layout(),
        data_quality.layout(),
        admissions.layout(),
        patient.layout(Route("patient", patient_id=7)),
        action_frame(),  # the alert dialog on every page (a prop Mantine lacks failed only in the browser)
        login_form("Wrong username or password"),
        session_expired(),
    ):
        assert layout.to_plotly_json()["props"]


def test_the_frame_pieces_build() -> None:
    assert [link.href for link in nav_links("ops", "rules")] == [
        "/dash/rules",
        "/dash/burden",
        "/dash/data-quality",
        "/dash/population",
    ]
    assert denied("no").to_plotly_json()["props"]["children"] == "no"
    assert not_found().to_plotly_json()["props"]["title"] == "Page not found"
