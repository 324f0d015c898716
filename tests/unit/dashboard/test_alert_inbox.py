"""What the alert screens offer and ask for: the API's allowed actions, a dialog that names the patient, a
coded outcome on resolve, and rows that hold still after an action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from dashboard.alert_actions import about, action_buttons, body_for, last_action, missing_fields, resolve_warning
from dashboard.pages.alerts import held_in_place
from tests.unit.dashboard.builders import alert
from vward.contract.alerts import Note, Resolution, Snooze

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def button_ids(group: Any) -> list[str]:
    return [child.id["action"] for child in group.children if isinstance(getattr(child, "id", None), dict)]


def test_the_buttons_are_exactly_what_the_api_allows() -> None:
    assert button_ids(action_buttons(alert(1, actions=["escalate", "resolve"]))) == ["escalate", "resolve"]
    assert button_ids(action_buttons(alert(1, actions=[]))) == []


def test_every_button_and_dialog_names_the_patient_by_name_mrn_and_age() -> None:
    assert about(alert(1)) == "Ann Lee · MRN 0042 · 67 y"
    assert about(alert(1, patient=False)) == "the platform"
    labels = [child.to_plotly_json()["props"]["aria-label"] for child in action_buttons(alert(1)).children]
    assert all("Ann Lee · MRN 0042 · 67 y" in label for label in labels)


def test_the_alert_just_acted_on_says_so_beside_its_buttons() -> None:
    done = alert(1, state="acknowledged")
    texts = [getattr(c, "children", "") for c in action_buttons(alert(1), done).children]
    assert "✓ acknowledged just now" in texts
    assert "✓" not in " ".join(
        str(t) for t in (getattr(c, "children", "") for c in action_buttons(alert(2), done).children)
    )


def test_resolve_needs_a_coded_outcome_and_sends_the_note_as_its_text() -> None:
    with pytest.raises(ValidationError) as err:
        body_for("resolve", None, "Called; fine", None, None, NOW)
    assert missing_fields("resolve", err.value) == "Choose the outcome before resolving."
    body = body_for("resolve", "treated_at_home", "  Called; fine ", None, None, NOW)
    assert isinstance(body, Resolution)
    assert body.model_dump(mode="json", exclude_none=True) == {
        "outcome_code": "treated_at_home",
        "outcome": "Called; fine",
    }


def test_acknowledge_and_escalate_take_a_note_and_snooze_a_reason_and_length() -> None:
    assert body_for("acknowledge", None, "on my way", None, None, NOW) == Note(note="on my way")
    assert body_for("escalate", None, "  ", None, None, NOW) == Note(note=None)
    snooze = body_for("snooze", None, None, "Known COPD baseline", "4", NOW)
    assert isinstance(snooze, Snooze)
    assert snooze.model_dump(mode="json", exclude_none=True) == {
        "reason": "Known COPD baseline",
        "until": "2026-03-01T14:00:00Z",
    }
    with pytest.raises(ValidationError) as err:
        body_for("snooze", None, None, " ", "4", NOW)
    assert missing_fields("snooze", err.value) == "Give a reason for snoozing."


def test_rows_hold_their_places_after_an_action_and_the_resolved_one_stays_until_the_hold_ends() -> None:
    shown = [3, 1, 2]
    fresh = [alert(1), alert(2), alert(4)]  # 3 was resolved by the nurse; 4 is new
    resolved = alert(3, state="resolved", actions=[])
    assert [a.id for a in held_in_place(fresh, shown, resolved)] == [3, 1, 2, 4]
    version = {"at": NOW.isoformat(), "alert": resolved.model_dump(mode="json")}
    assert last_action(version, NOW + timedelta(seconds=10)) == resolved
    assert last_action(version, NOW + timedelta(seconds=31)) is None
    assert last_action(None, NOW) is None


def test_resolving_an_alert_whose_condition_holds_warns_that_it_will_open_again() -> None:
    """The demo: a BP alert resolved at 18:51:24 opened again at 18:51:39; the dialog had said nothing."""
    present = alert(5)
    assert (present.cleared_at, present.absent_since, present.auto_resolve) == (None, None, False)
    assert "still present" in (resolve_warning(present) or "")
    assert resolve_warning(present.model_copy(update={"cleared_at": datetime.now(UTC)})) is None
    assert resolve_warning(present.model_copy(update={"absent_since": datetime.now(UTC)})) is None
    assert resolve_warning(present.model_copy(update={"auto_resolve": True})) is None
