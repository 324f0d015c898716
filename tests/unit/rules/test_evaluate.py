"""evaluate() with the default rule set: which rules fire for a patient, and why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.core.evaluate import evaluate, score_news2
from rules.core.model import DeviceStatus, Finding
from rules.core.ruleset import RuleSet, default_ruleset
from tests.unit.rules.builders import NORMAL, NOW, context, obs
from vward.domain.alerts import Severity
from vward.domain.metrics import Metric
from vward.domain.patients import Pathway
from vward.domain.readings import Observation, ReadingValue


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return default_ruleset()


def fired(findings: list[Finding]) -> dict[str, Severity]:
    return {f.rule_id: f.severity for f in findings}


def with_values(**changes: ReadingValue) -> dict[str, ReadingValue]:
    return {**NORMAL, **changes}


def test_stable_patient_raises_nothing(ruleset: RuleSet) -> None:
    assert evaluate(context(), ruleset, NOW) == []


def test_news2_medium_with_reason_and_policy_snapshot(ruleset: RuleSet) -> None:
    values = with_values(respiratory_rate=22, heart_rate=115, temperature=38.5)
    [finding] = evaluate(context(values), ruleset, NOW)
    assert (finding.rule_id, finding.severity, finding.auto_resolve) == ("news2", Severity.MEDIUM, False)
    assert finding.reason["score"] == 5
    assert finding.reason["band"] == "medium"
    assert finding.reason["guidance"]["monitoring"] == "every hour"
    assert finding.escalation_policy["name"] == "standard"
    assert finding.title == "NEWS2 5 (medium)"


def test_news2_high(ruleset: RuleSet) -> None:
    values = with_values(respiratory_rate=26, on_oxygen=True, temperature=39.5)
    findings = fired(evaluate(context(values), ruleset, NOW))
    assert findings["news2"] is Severity.HIGH


def test_single_red_score_alerts_medium(ruleset: RuleSet) -> None:
    findings = evaluate(context(with_values(consciousness="V")), ruleset, NOW)
    assert fired(findings) == {"news2": Severity.MEDIUM}
    assert findings[0].reason["red_score"] is True


def test_low_total_does_not_alert(ruleset: RuleSet) -> None:
    assert evaluate(context(with_values(temperature=38.5, heart_rate=95)), ruleset, NOW) == []


@pytest.mark.parametrize(
    ("admitted_minutes_ago", "stale_minutes", "fires"),
    [
        (9.99, None, False),  # the kit's first readings still arriving: not a gap to alert
        (10, None, True),
        (600, 369.99, False),  # a value 9.99 min past its 360-min window
        (600, 370, True),
    ],
)
def test_a_gap_alerts_once_it_has_lasted_incomplete_after_minutes(
    ruleset: RuleSet, admitted_minutes_ago: float, stale_minutes: float | None, fires: bool
) -> None:
    values = dict(NORMAL)
    ages: dict[str, float] = {m: min(5, admitted_minutes_ago) for m in values}
    if stale_minutes is None:
        del values["temperature"]
    else:
        ages["temperature"] = stale_minutes - 360 + 720  # temperature's window is 720 min
    ctx = context(values, ages=ages, admitted_at=NOW - timedelta(minutes=admitted_minutes_ago))
    assert fired(evaluate(ctx, ruleset, NOW)) == ({"news2_incomplete": Severity.LOW} if fires else {})


def test_an_incomplete_set_that_already_reaches_a_band_alerts_at_once_without_waiting(ruleset: RuleSet) -> None:
    values = with_values(respiratory_rate=26, spo2=90, heart_rate=135)  # 3 + 3 + 3 without temperature
    del values["temperature"]
    ctx = context(values, ages=dict.fromkeys(values, 0.5), admitted_at=NOW - timedelta(minutes=1))
    findings = fired(evaluate(ctx, ruleset, NOW))
    assert findings == {"news2": Severity.HIGH}


def test_stale_parameter_is_missing_data_not_zero(ruleset: RuleSet) -> None:
    values = with_values(respiratory_rate=30)
    findings = evaluate(context(values, ages={"respiratory_rate": 370}), ruleset, NOW)
    assert fired(findings) == {"news2_incomplete": Severity.LOW}
    assert findings[0].auto_resolve is True
    assert findings[0].reason["stale"] == ["respiratory_rate"]
    assert findings[0].reason["score"] is None
    assert "Respiratory rate (stale)" in findings[0].title


def test_not_applicable_patient_is_not_scored(ruleset: RuleSet) -> None:
    values = with_values(respiratory_rate=30, on_oxygen=True)
    ctx = context(values, pregnant=True)
    assert evaluate(ctx, ruleset, NOW) == []
    assert score_news2(ctx, ruleset, NOW).reason == "pregnant: NEWS2 is not validated in pregnancy"


def spo2_run(*points: tuple[float, float]) -> tuple[Observation, ...]:
    """SpO2 readings as (minutes ago, value)."""
    return tuple(obs("spo2", value, ago) for ago, value in points)


def spo2_findings(ruleset: RuleSet, *points: tuple[float, float], **kwargs: object) -> dict[str, Severity]:
    ctx = context(history=spo2_run(*points), **kwargs)  # type: ignore[arg-type]
    return {k: v for k, v in fired(evaluate(ctx, ruleset, NOW)).items() if k.startswith("threshold")}


def test_spo2_threshold_needs_ten_minutes_outside(ruleset: RuleSet) -> None:
    assert spo2_findings(ruleset, (20, 97), (9, 90), (1, 90)) == {}
    assert spo2_findings(ruleset, (20, 97), (10, 90), (1, 90)) == {"threshold:spo2:low": Severity.MEDIUM}


def test_severity_steps_up_when_the_worse_tier_is_held(ruleset: RuleSet) -> None:
    assert spo2_findings(ruleset, (15, 86), (0, 86)) == {"threshold:spo2:low": Severity.HIGH}
    assert spo2_findings(ruleset, (15, 90), (5, 86), (0, 86)) == {"threshold:spo2:low": Severity.MEDIUM}


def test_open_threshold_alert_keeps_firing_within_hysteresis(ruleset: RuleSet) -> None:
    ctx = context(history=spo2_run((30, 90), (0, 92)))
    assert "threshold:spo2:low" not in fired(evaluate(ctx, ruleset, NOW))
    still = evaluate(ctx, ruleset, NOW, active=frozenset({"threshold:spo2:low"}))
    assert fired(still)["threshold:spo2:low"] is Severity.MEDIUM
    recovered = context(history=spo2_run((30, 90), (0, 93)))
    assert "threshold:spo2:low" not in fired(
        evaluate(recovered, ruleset, NOW, active=frozenset({"threshold:spo2:low"}))
    )


def test_threshold_reason_says_why(ruleset: RuleSet) -> None:
    ctx = context(history=spo2_run((30, 90), (2, 89)))
    [finding] = [f for f in evaluate(ctx, ruleset, NOW) if f.rule_id == "threshold:spo2:low"]
    assert finding.reason["value"] == 89
    assert finding.reason["bound"] == 91
    assert finding.reason["age_minutes"] == 2
    assert finding.reason["outside_since"] == (NOW - timedelta(minutes=30)).isoformat()
    assert finding.title == "Oxygen saturation 89 % (at or below 91)"
    assert finding.auto_resolve is False


def test_copd_patient_at_89_percent_on_scale2_raises_nothing(ruleset: RuleSet) -> None:
    history = spo2_run((60, 89), (30, 89), (0, 89))
    ctx = context(history=history, pathway=Pathway.COPD, scale=2)
    assert evaluate(ctx, ruleset, NOW) == []


def test_active_override_moves_the_bound(ruleset: RuleSet) -> None:
    override = {"metric": "spo2", "low": 88, "reason": "baseline 89-91%", "expires_at": NOW + timedelta(days=1)}
    ctx = context(history=spo2_run((30, 90), (0, 90)), overrides=(override,))
    assert "threshold:spo2:low" not in fired(evaluate(ctx, ruleset, NOW))
    lower = context(history=spo2_run((30, 87), (0, 87)), overrides=(override,))
    [finding] = [f for f in evaluate(lower, ruleset, NOW) if f.rule_id == "threshold:spo2:low"]
    assert finding.reason["bound"] == 88
    assert finding.reason["override"]["reason"] == "baseline 89-91%"


def test_expired_override_is_ignored_and_flagged_for_review(ruleset: RuleSet) -> None:
    override = {"metric": "spo2", "low": 85, "reason": "baseline", "expires_at": NOW - timedelta(minutes=1)}
    ctx = context(history=spo2_run((30, 90), (0, 90)), overrides=(override,))
    findings = fired(evaluate(ctx, ruleset, NOW))
    assert findings["threshold:spo2:low"] is Severity.MEDIUM
    assert findings["override_review:spo2"] is Severity.LOW


def test_unreadable_override_is_flagged_for_review(ruleset: RuleSet) -> None:
    ctx = context(overrides=({"metric": "spo2", "low": 85},))
    assert fired(evaluate(ctx, ruleset, NOW)) == {"override_review:spo2": Severity.LOW}


def weights(*points: tuple[float, float]) -> tuple[Observation, ...]:
    """Weights as (hours ago, kg)."""
    return tuple(obs("weight", kg, hours * 60) for hours, kg in points)


@pytest.mark.parametrize(
    ("points", "fires"),
    [
        (((72, 80.0), (48, 80.5), (0, 82.0)), True),  # 2 kg in 3 days
        (((72, 80.0), (48, 80.5), (0, 81.9)), False),
        (((96, 80.0), (0, 82.5)), False),  # more than 3 days apart, not within one day
        (((24, 80.0), (0, 81.5)), True),  # 1.5 kg in a day
        (((30, 80.0), (0, 81.5)), False),
    ],
)
def test_heart_failure_weight_gain(ruleset: RuleSet, points: tuple[tuple[float, float], ...], fires: bool) -> None:
    ctx = context(history=weights(*points), pathway=Pathway.HEART_FAILURE)
    assert ("trend:weight_gain" in fired(evaluate(ctx, ruleset, NOW))) is fires


def test_weight_gain_only_on_heart_failure_pathway(ruleset: RuleSet) -> None:
    ctx = context(history=weights((24, 80.0), (0, 82.0)))
    assert evaluate(ctx, ruleset, NOW) == []


def test_overdue_plan(ruleset: RuleSet) -> None:
    ctx = context(ages={"systolic_bp": 12 * 60 + 61})
    findings = evaluate(ctx, ruleset, NOW)
    assert fired(findings) == {"overdue:blood_pressure": Severity.LOW, "news2_incomplete": Severity.LOW}
    [late] = [f for f in findings if f.rule_id == "overdue:blood_pressure"]
    assert late.auto_resolve is True
    assert late.reason["overdue_minutes"] == 61
    assert "overdue:blood_pressure" not in fired(evaluate(context(ages={"systolic_bp": 780}), ruleset, NOW))


def test_heart_failure_expects_daily_weight(ruleset: RuleSet) -> None:
    ctx = context(pathway=Pathway.HEART_FAILURE)
    assert fired(evaluate(ctx, ruleset, NOW)) == {"overdue:weight": Severity.LOW}


def test_device_offline_and_battery(ruleset: RuleSet) -> None:
    devices = (
        DeviceStatus("ox-1", "oximeter", True, 80, NOW - timedelta(minutes=61)),
        DeviceStatus("patch-1", "patch", False, 15, NOW),
        DeviceStatus("cuff-1", "bp_cuff", True, 90, NOW - timedelta(minutes=60)),
    )
    findings = evaluate(context(devices=devices), ruleset, NOW)
    assert fired(findings) == {
        "battery_low:patch-1": Severity.LOW,
        "device_offline:ox-1": Severity.LOW,
        "device_offline:patch-1": Severity.LOW,
    }
    assert all(f.auto_resolve for f in findings)
    assert findings[0].escalation_policy["tiers"][0]["target"] == "device_support"


@pytest.mark.parametrize(
    ("estimate", "title"),
    [
        (None, None),
        (timedelta(seconds=60), None),
        (-timedelta(seconds=60), None),
        (timedelta(seconds=60, milliseconds=1), "Device p-1 clock 1 min fast: reading times corrected"),
        (timedelta(minutes=10), "Device p-1 clock 10 min fast: reading times corrected"),
        (-timedelta(minutes=7), "Device p-1 readings arrive 7 min late: clock slow or link delayed"),
    ],
)
def test_a_device_clock_off_by_more_than_a_minute_raises_a_low_device_alert(
    ruleset: RuleSet, estimate: timedelta | None, title: str | None
) -> None:
    correction = estimate if estimate is not None and estimate > timedelta(0) else timedelta(0)
    device = DeviceStatus("p-1", "patch", True, 80, NOW, estimate, correction)
    findings = [f for f in evaluate(context(devices=(device,)), ruleset, NOW) if f.rule_id.startswith("clock")]
    assert [f.title for f in findings] == ([] if title is None else [title])
    for f in findings:
        assert (f.rule_id, f.severity, f.auto_resolve) == ("clock_skew:p-1", Severity.LOW, True)
        assert f.reason["offset_seconds"] == round(estimate.total_seconds(), 1)  # type: ignore[union-attr]
        assert f.reason["corrected_seconds"] == round(correction.total_seconds(), 1)


@pytest.mark.parametrize(("value", "minutes_ago", "fires"), [(True, 5, True), (True, 1441, False), (False, 5, False)])
def test_patient_concern(ruleset: RuleSet, value: bool, minutes_ago: float, fires: bool) -> None:
    ctx = context(history=(obs("patient_concern", value, minutes_ago),))
    findings = evaluate(ctx, ruleset, NOW)
    assert fired(findings) == ({"patient_concern": Severity.MEDIUM} if fires else {})
    assert all(not f.auto_resolve for f in findings)


@pytest.mark.parametrize(
    ("values", "severity", "at_least"),
    [
        (with_values(respiratory_rate=26, on_oxygen=True, heart_rate=115), Severity.HIGH, 7),  # 3 + 2 + 2
        (with_values(respiratory_rate=22, heart_rate=115, spo2=95), Severity.MEDIUM, 5),  # 2 + 2 + 1
        (with_values(respiratory_rate=26), Severity.MEDIUM, 3),  # a known red score
    ],
)
def test_an_incomplete_set_alerts_as_at_least_the_band_its_known_part_reaches(
    ruleset: RuleSet, values: dict[str, ReadingValue], severity: Severity, at_least: int
) -> None:
    """Missing data can only add points: the known part is a lower bound and is escalated as that band."""
    partial = {k: v for k, v in values.items() if k != "temperature"}
    findings = evaluate(context(partial), ruleset, NOW)
    news2_findings = {k: v for k, v in fired(findings).items() if k.startswith("news2")}
    assert news2_findings == {"news2": severity, "news2_incomplete": Severity.LOW}
    news2 = next(f for f in findings if f.rule_id == "news2")
    assert news2.reason["at_least"] == at_least
    assert news2.title == f"NEWS2 at least {at_least} (Body temperature missing)"
    assert news2.reason["complete"] is False  # never shown as complete


def test_an_incomplete_set_below_every_band_raises_only_the_gap(ruleset: RuleSet) -> None:
    partial = {k: v for k, v in with_values(respiratory_rate=22, heart_rate=95).items() if k != "temperature"}
    news2_findings = {k for k in fired(evaluate(context(partial), ruleset, NOW)) if k.startswith("news2")}
    assert news2_findings == {"news2_incomplete"}


@pytest.mark.parametrize(("minutes_ago", "overdue"), [(240, False), (240.02, True), (390, True)])
def test_the_patients_own_plan_makes_a_measurement_overdue_beside_the_rule_sets(
    ruleset: RuleSet, minutes_ago: float, overdue: bool
) -> None:
    """The plan entered at admission is live: blood pressure every 4 h is overdue just after 4 h (the demo's
    patient got nothing at 6.5 h)."""
    plan = ((Metric.SYSTOLIC_BP, 4.0),)
    ctx = context(ages={"systolic_bp": minutes_ago}, monitoring_plan=plan)
    found = {f.rule_id: f for f in evaluate(ctx, ruleset, NOW)}
    assert ("overdue:plan_systolic_bp" in found) is overdue
    if overdue:
        assert found["overdue:plan_systolic_bp"].reason["expected_every_hours"] == 4.0
        assert found["overdue:plan_systolic_bp"].auto_resolve is True
    assert "overdue:plan_systolic_bp" not in {
        f.rule_id for f in evaluate(context(ages={"systolic_bp": minutes_ago}), ruleset, NOW)
    }


def test_a_press_whose_alert_was_resolved_raises_nothing_again_but_a_new_press_does(ruleset: RuleSet) -> None:
    """A resolved "I feel unwell" alert was reopened 60 s later by the same earlier press."""
    press = obs("patient_concern", True, 30)
    handled = context(history=(press,), handled_concerns=frozenset({press.measured_at}))
    assert "patient_concern" not in fired(evaluate(handled, ruleset, NOW))
    again = context(history=(obs("patient_concern", True, 2),), handled_concerns=frozenset({press.measured_at}))
    assert fired(evaluate(again, ruleset, NOW))["patient_concern"] is Severity.MEDIUM
