"""Replay: the same openings as evaluating every minute, at a fraction of the evaluations; alert burden."""

from __future__ import annotations

import heapq
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bench.rules_preview import candidate_ruleset
from rules.core.alertbook import ASSUMED_RESPONSE, AlertBook, Opening
from rules.core.burden import alert_burden, shift_of
from rules.core.evaluate import evaluate
from rules.core.reconcile import reconcile
from rules.core.replay import Reading, micros, replay, replay_sides
from rules.core.ruleset import RuleSet, default_ruleset
from rules.core.window import PatientWindow
from tests.unit.rules.builders import NOW, patient
from vward.domain.alerts import Severity
from vward.domain.patients import Pathway, Patient

START = NOW - timedelta(days=3)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return default_ruleset()


def eventful_series(seed: int, minutes: int) -> list[Reading]:
    """A wearable each minute with dips, fevers, a silent spell, spot checks, the concern button, weights."""
    rnd = random.Random(seed)
    readings: list[Reading] = []
    spo2, rr, hr = 96.0, 16.0, 80.0
    for i in range(minutes):
        at = START + timedelta(minutes=i)
        if 600 <= i % 1440 < 1100:  # 8 silent hours a day: NEWS2 goes stale, vital signs overdue
            continue
        dip = 6 if 200 <= i % 700 < 240 else 0
        spo2 = min(100.0, spo2 + rnd.gauss(0, 0.7) + (96 - spo2) * 0.2)
        rr = rr + rnd.gauss(0, 0.8) + (17 - rr) * 0.1
        hr = hr + rnd.gauss(0, 2) + (85 - hr) * 0.05
        readings += [
            (at, "spo2", round(spo2) - dip),
            (at, "respiratory_rate", round(rr)),
            (at, "heart_rate", round(hr)),
        ]
        if i % 180 == 0:
            temperature = 38.6 if i % 1000 < 300 else 37.0
            readings += [
                (at, "systolic_bp", rnd.choice([95, 118, 124])),
                (at, "temperature", temperature),
                (at, "consciousness", "A"),
                (at, "on_oxygen", i % 2000 < 500),
            ]
        if i % 480 == 30:
            readings.append((at, "weight", round(80 + i / 800, 1)))  # 1.8 kg a day
        if i % 900 == 45:
            readings.append((at, "patient_concern", i % 1800 == 45))
    return readings


def every_minute(person: Patient, readings: list[Reading], ruleset: RuleSet, until: datetime) -> list[Opening]:
    """The reference: the live loop run at every reading time, every minute between, and when staff close an
    alert (a person closes it at a time of their own, not on the minute)."""
    window, book = PatientWindow(person, ruleset), AlertBook(person.id, staff=ASSUMED_RESPONSE)
    times = sorted(
        {t for t, _, _ in readings}
        | {START + timedelta(minutes=i) for i in range(int((until - START).total_seconds() // 60))}
    )
    heapq.heapify(times)
    added, done = 0, set()
    while times:
        now = heapq.heappop(times)
        if now in done:
            continue
        done.add(now)
        while added < len(readings) and readings[added][0] <= now:
            window.add(*readings[added])
            added += 1
        book.close_due(now)
        findings = evaluate(window.context(now), ruleset, now, active=book.active())
        book.apply(reconcile(book.alerts(), findings, now, clear_after=ruleset.clear_after()), now)
        for t in book.closing_times():
            if now < t < until and t not in done:
                heapq.heappush(times, t)
    return book.openings


# Heart failure runs shorter: its heart-rate baseline makes every reference evaluation read days of history.
@pytest.mark.parametrize(
    ("pathway", "seed", "days"), [(Pathway.GENERAL, 1, 3), (Pathway.COPD, 3, 3), (Pathway.HEART_FAILURE, 2, 1.2)]
)
def test_replay_matches_evaluating_every_minute(ruleset: RuleSet, pathway: Pathway, seed: int, days: float) -> None:
    person = patient(pathway, admitted_at=START)
    readings = eventful_series(seed, int(days * 1440))
    until = START + timedelta(days=days)
    expected = every_minute(person, readings, ruleset, until)
    result = replay(person, readings, ruleset, until=until)
    assert len(expected) >= 5
    assert pathway is not Pathway.HEART_FAILURE or "trend:weight_gain" in {o.rule_id for o in expected}
    assert [(o.rule_id, o.severity) for o in result.openings] == [(o.rule_id, o.severity) for o in expected]
    for got, want in zip(result.openings, expected, strict=True):
        assert timedelta(0) <= want.at - got.at < timedelta(minutes=1), (got, want)  # the reference ticks each minute
    assert result.readings == len(readings)
    assert result.evaluations < len({t for t, _, _ in readings}) / 3


def wearable_series(seed: int, minutes: int) -> list[Reading]:
    """The preview bench's shape: heart rate, respiratory rate and SpO2 taking turns each minute (so every
    value is minutes old when the next of its kind comes), spot checks twice a day, one deterioration."""
    rnd = random.Random(seed)
    level = {"heart_rate": 85.0, "respiratory_rate": 17.0, "spo2": 94.0}
    episode = rnd.randrange(minutes - 400)
    readings: list[Reading] = []
    for i in range(minutes):
        at = START + timedelta(minutes=i)
        metric = ("heart_rate", "respiratory_rate", "spo2")[i % 3]
        sick = 0 <= i - episode < 300
        target = {"heart_rate": 85 + 45 * sick, "respiratory_rate": 17 + 10 * sick, "spo2": 94 - 7 * sick}[metric]
        level[metric] += 0.05 * (target - level[metric]) + rnd.gauss(0, {"spo2": 0.4}.get(metric, 1.0))
        readings.append((at, metric, round(min(level[metric], 100.0), 1) if metric == "spo2" else round(level[metric])))
        if i % 720 == 0:
            readings += [(at, "systolic_bp", round(rnd.gauss(110, 15))), (at, "temperature", 37.0)]
        if i % 1440 == 0:
            readings += [(at, "consciousness", "A"), (at, "on_oxygen", False)]
    return readings


# Values a few minutes old when the next comes, spot checks falling due and staleness timers that newer
# readings keep moving on: the deadlines replay derives again before it evaluates at them.
@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("candidate", [False, True])
def test_replay_of_a_wearable_matches_evaluating_every_minute(ruleset: RuleSet, seed: int, candidate: bool) -> None:
    rules = candidate_ruleset() if candidate else ruleset  # NEWS2 at 3, SpO2 at 92% held 5 minutes
    person = patient(Pathway.GENERAL, admitted_at=START)
    readings = wearable_series(seed, 2 * 1440)
    until = START + timedelta(days=2, hours=14)  # the last spot checks go stale and overdue
    expected = every_minute(person, readings, rules, until)
    result = replay(person, readings, rules, until=until)
    assert len(expected) >= 2
    assert [(o.rule_id, o.severity) for o in result.openings] == [(o.rule_id, o.severity) for o in expected]
    for got, want in zip(result.openings, expected, strict=True):
        assert timedelta(0) <= want.at - got.at < timedelta(minutes=1), (got, want)
    assert result.evaluations < len(readings) / 5


# One pass for both rule sets shares the latest values and the history although their SpO2 holds (so
# lookbacks) differ: each must open what it opens replayed alone, and what the live loop opens.
@pytest.mark.parametrize("seed", [11, 14])
def test_replaying_two_rule_sets_in_one_pass_matches_each_alone(ruleset: RuleSet, seed: int) -> None:
    person = patient(Pathway.GENERAL, admitted_at=START)
    readings = sorted(wearable_series(seed, 2 * 1440) + eventful_series(seed, 2 * 1440), key=lambda r: (r[0], r[1]))
    until = START + timedelta(days=2, hours=14)
    rulesets = (candidate_ruleset(), ruleset)
    both = replay_sides(person, [(micros(t), m, v) for t, m, v in readings], rulesets, until=until)
    assert both == [replay(person, readings, rules, until=until) for rules in rulesets]
    assert both[0].openings != both[1].openings
    for result, rules in zip(both, rulesets, strict=True):
        expected = every_minute(person, readings, rules, until)
        assert [(o.rule_id, o.severity) for o in result.openings] == [(o.rule_id, o.severity) for o in expected]


# Spot checks crossing thresholds without a hold (they fire on the reading), back and forth, beside a
# wearable whose holds only start runs: the crossings replay evaluates at and the ones it only dates.
def test_replay_of_spot_checks_crossing_thresholds_without_a_hold(ruleset: RuleSet) -> None:
    person = patient(Pathway.GENERAL, admitted_at=START)
    readings = wearable_series(15, 2 * 1440)
    for step, i in enumerate(range(0, 2 * 1440, 120)):
        at = START + timedelta(minutes=i, seconds=30)
        readings += [
            (at, "systolic_bp", (118, 88, 92, 86, 225, 130)[step % 6]),
            (at, "temperature", (37.0, 39.4, 39.0, 34.8, 36.9)[step % 5]),
        ]
    readings.sort(key=lambda r: (r[0], r[1]))
    until = START + timedelta(days=2, hours=2)
    expected = every_minute(person, readings, ruleset, until)
    result = replay(person, readings, ruleset, until=until)
    assert {"threshold:systolic_bp:low", "threshold:temperature:high"} <= {o.rule_id for o in expected}
    assert [(o.rule_id, o.severity) for o in result.openings] == [(o.rule_id, o.severity) for o in expected]
    for got, want in zip(result.openings, expected, strict=True):
        assert timedelta(0) <= want.at - got.at < timedelta(minutes=1), (got, want)


def test_micros_is_exact() -> None:
    at = datetime(2026, 11, 22, 12, 0, 0, 123457, tzinfo=UTC)
    assert micros(at) == 1_795_348_800_123_457
    assert micros(at.astimezone(ZoneInfo("Europe/London"))) == micros(at)


def test_replay_of_nothing_is_empty(ruleset: RuleSet) -> None:
    result = replay(patient(), [], ruleset, until=NOW)
    assert (result.openings, result.readings, result.evaluations) == ((), 0, 0)


def opening(hour: int, rule_id: str = "news2", patient_id: int = 1, day: int = 22) -> Opening:
    return Opening(patient_id, rule_id, Severity.MEDIUM, datetime(2026, 11, day, hour, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (6, (21, "19:00-07:00")),
        (7, (22, "07:00-19:00")),
        (18, (22, "07:00-19:00")),
        (19, (22, "19:00-07:00")),
        (23, (22, "19:00-07:00")),
    ],
)
def test_shift_of(hour: int, expected: tuple[int, str]) -> None:
    day, label = shift_of(datetime(2026, 11, 22, hour, 30), (time(19), time(7)))
    assert (day.day, label) == expected


def test_alert_burden_per_patient_day_rule_and_shift() -> None:
    openings = [opening(8), opening(9, "patient_concern"), opening(20, patient_id=2), opening(2, patient_id=2, day=23)]
    burden = alert_burden(openings)
    assert burden.total == 4
    assert burden.per_rule == {"news2": 3, "patient_concern": 1}
    assert burden.per_severity == {"medium": 4}
    assert burden.per_patient_day[(1, datetime(2026, 11, 22).date())] == 2
    assert burden.per_shift == {
        (datetime(2026, 11, 22).date(), "07:00-19:00"): 2,
        (datetime(2026, 11, 22).date(), "19:00-07:00"): 2,
    }
    assert burden.mean_per_patient_day(2) == 2.0
    assert burden.mean_per_patient_day(0) == 0.0


def test_alert_burden_uses_the_ward_time_zone() -> None:
    summer = Opening(1, "news2", Severity.HIGH, datetime(2026, 7, 1, 6, 30, tzinfo=UTC))  # 07:30 in London
    burden = alert_burden([summer], tz=ZoneInfo("Europe/London"), shift_starts=(time(7), time(19)))
    assert list(burden.per_shift) == [(datetime(2026, 7, 1).date(), "07:00-19:00")]


def test_alert_burden_needs_a_shift() -> None:
    with pytest.raises(ValueError, match="shift"):
        alert_burden([], shift_starts=())


def dense_wearable(seed: int, minutes: int) -> list[Reading]:
    """The demo's shape: heart rate, respiratory rate, SpO2 and temperature every 5 s with noise, probe
    artefacts and one deterioration, beside the spot checks: NEWS2 scores these streams from their medians."""
    rnd = random.Random(seed)
    readings: list[Reading] = [(START, "systolic_bp", 118), (START, "consciousness", "A"), (START, "on_oxygen", False)]
    episode = rnd.randrange(minutes // 3, minutes // 2) * 12
    for i in range(minutes * 12):
        at = START + timedelta(seconds=5 * i)
        sick = 0 <= i - episode < 30 * 12
        for metric, base, worse, noise in (
            ("heart_rate", 78, 50, 3.0),
            ("respiratory_rate", 19, 8, 1.0),
            ("spo2", 96, -6, 0.6),
            ("temperature", 37.0, 1.4, 0.05),
        ):
            value = base + worse * sick + rnd.gauss(0, noise)
            if rnd.random() < 0.01:  # an artefact: the probe slips
                value += rnd.choice((-1, 1)) * 40 * noise
            readings.append((at, metric, round(value, 1)))
    return readings


@pytest.mark.parametrize("seed", [21, 22])
def test_replay_of_dense_streams_matches_evaluating_at_every_reading(ruleset: RuleSet, seed: int) -> None:
    """With streams summarised, a sample of the same kind can still move the median: replay evaluates where
    the live loop would and opens the same alerts at the same times."""
    person = patient(Pathway.GENERAL, admitted_at=START)
    readings = dense_wearable(seed, 150)
    until = START + timedelta(minutes=150)
    expected = every_minute(person, readings, ruleset, until)
    result = replay(person, readings, ruleset, until=until)
    assert any(o.rule_id == "news2" for o in expected)  # the deterioration is found
    assert [(o.rule_id, o.severity, o.at) for o in result.openings] == [(o.rule_id, o.severity, o.at) for o in expected]
