"""Clinical evaluation: a simulated ward replayed through the live rule code, measured against ground truth.

Each patient's readings go through the same steps as the rules worker and the golden tests
(PatientWindow -> evaluate -> reconcile -> AlertBook), evaluated at every arriving message and on the
worker's periodic re-evaluation; time is simulated, so days of ward run in seconds.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from device_sims.core.devices import HEARTBEAT, heartbeats
from device_sims.core.emitter import DeviceEmitter, Message
from device_sims.core.physiology import Vitals, true_vitals
from device_sims.core.scenarios import COURSES, ScenarioKind
from device_sims.ward import (
    INITIAL_SET_WITHIN,
    SILENT_FAILURE_COURSE,
    ScenarioMix,
    SimPatient,
    patient_emitters,
    plan_ward,
)
from rules.core.alertbook import ASSUMED_RESPONSE, AlertBook, Episode, Opening
from rules.core.burden import EpisodeCosts, episode_costs
from rules.core.evaluate import evaluate_scored
from rules.core.model import DeviceStatus, Finding
from rules.core.news2 import News2Result, score_values
from rules.core.reconcile import reconcile
from rules.core.replay import TREND_STEP
from rules.core.ruleset import RuleSet
from rules.core.window import PatientWindow
from vward.domain.metrics import Metric
from vward.domain.patients import DeviceKind, Patient
from vward.domain.readings import ReadingValue

NEWS2_ALERT_AT = 5  # the target: every deterioration reaching this score is alerted
STABLE_ALERTS_PER_DAY_TARGET = 0.5
# Deteriorations begin 15-60 % of their course after start, so every patient has a quiet baseline first.
EVALUATION_MIX = ScenarioMix(
    {
        ScenarioKind.STABLE: 0.4,
        ScenarioKind.SEPSIS: 0.12,
        ScenarioKind.COPD_EXACERBATION: 0.12,
        ScenarioKind.HF_DECOMPENSATION: 0.12,
        ScenarioKind.POSTOP_BLEED: 0.12,
        ScenarioKind.DEVICE_FAILURE: 0.12,
    },
    progress_from=-0.6,
    progress_to=-0.15,
)
EVALUATION_START = datetime(2026, 1, 5, tzinfo=UTC)  # fixed, so a seed always gives the same report
_NON_CLINICAL = ("device_offline:", "battery_low:", "news2_incomplete", "overdue:")


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    patients: int = 60
    seed: int = 1
    stable_days: float = 0.25  # how long patients without a deterioration are followed
    after_course: timedelta = timedelta(hours=6)  # at most this long after a deterioration's full course
    after_alert: timedelta = timedelta(hours=2)  # a deterioration is followed this long after its first alert
    patch_every: timedelta = timedelta(seconds=5)  # the patch's cadence (the demo's, as live)
    reeval_every: timedelta = timedelta(seconds=60)  # the worker's re-evaluation of quiet patients (rules_reeval_s)
    mix: ScenarioMix = field(default_factory=lambda: EVALUATION_MIX)


@dataclass(frozen=True, slots=True)
class Agreement:
    """Platform NEWS2 (from noisy device readings) against the true NEWS2 (from the simulated physiology)."""

    compared: int = 0
    exact: int = 0
    within_one: int = 0
    same_band: int = 0

    def add(self, platform: News2Result, truth: News2Result) -> Agreement:
        if platform.score is None or truth.score is None:
            return self
        return Agreement(
            self.compared + 1,
            self.exact + (platform.score == truth.score),
            self.within_one + (abs(platform.score - truth.score) <= 1),
            self.same_band + (platform.band == truth.band),
        )

    def merge(self, other: Agreement) -> Agreement:
        return Agreement(
            self.compared + other.compared,
            self.exact + other.exact,
            self.within_one + other.within_one,
            self.same_band + other.same_band,
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert as it opened, with the finding's title and reason: what the noise table shows."""

    opening: Opening
    title: str
    reason: dict[str, Any]

    @property
    def rule_id(self) -> str:
        return self.opening.rule_id

    @property
    def at(self) -> datetime:
        return self.opening.at

    @property
    def clinical(self) -> bool:
        return not self.rule_id.startswith(_NON_CLINICAL)


@dataclass(frozen=True, slots=True)
class PatientOutcome:
    patient: SimPatient
    followed: timedelta
    alerts: tuple[Alert, ...]
    crossed_at: datetime | None  # first evaluation after onset whose platform NEWS2 reached the target score
    evaluations_to_alert: int | None  # from that evaluation to the first clinical alert since onset (<= 0: already)
    agreement: Agreement
    episodes: tuple[Episode, ...] = ()
    # When the truth, as far as the devices had measured it, first scored NEWS2 >= NEWS2_ALERT_AT after onset
    # (`observed_truth`): the earliest any rule on these readings could know, whatever its smoothing.
    observed_crossing: datetime | None = None

    def costs(self) -> EpisodeCosts:
        """What this patient's alerts cost the nurses (staff at the RCP's response times)."""
        return episode_costs(self.episodes, ASSUMED_RESPONSE, EVALUATION_START + self.followed)

    @property
    def onset(self) -> datetime | None:
        return self.patient.scenario.onset

    def first_alert_after_onset(self, clinical: bool = True) -> Alert | None:
        onset = self.onset
        return next((a for a in self.alerts if onset is not None and a.at >= onset and a.clinical == clinical), None)

    def noise(self) -> tuple[Alert, ...]:
        """Alerts with nothing to find: on a stable patient, before a deterioration began, or a clinical
        alert on a patient whose only problem is a silent device."""
        kind, onset = self.patient.scenario.kind, self.onset
        if onset is None:
            return self.alerts
        if kind is ScenarioKind.DEVICE_FAILURE:
            return tuple(a for a in self.alerts if a.at < onset or a.clinical)
        return tuple(a for a in self.alerts if a.at < onset)


def true_news2(patient: SimPatient, at: datetime) -> News2Result:
    """NEWS2 of the patient's true physiology at `at`, rounded as a device would display it."""
    vitals = true_vitals(patient.profile, patient.scenario.deviation(at), at)
    return score_values(displayed(vitals), scale=patient.spo2_scale)


def displayed(v: Vitals) -> dict[str, ReadingValue | None]:
    """The NEWS2 parameters of `v` as devices display them (whole numbers, temperature to a tenth)."""
    return {
        Metric.RESPIRATORY_RATE: round(v.respiratory_rate),
        Metric.SPO2: round(v.spo2),
        Metric.ON_OXYGEN: v.on_oxygen,
        Metric.SYSTOLIC_BP: round(v.systolic_bp),
        Metric.HEART_RATE: round(v.heart_rate),
        Metric.CONSCIOUSNESS: v.consciousness,
        Metric.TEMPERATURE: round(v.temperature, 1),
    }


def _followed(patient: SimPatient, config: EvaluationConfig) -> timedelta:
    """Stable: `stable_days`; a deterioration (a silent device too): to its full course and `after_course`
    beyond (the replay stops earlier, `after_alert` after its first alert)."""
    onset = patient.scenario.onset
    if onset is None:
        return timedelta(days=config.stable_days)
    course = COURSES.get(patient.scenario.kind)
    return (
        onset - EVALUATION_START + (SILENT_FAILURE_COURSE if course is None else course.duration) + config.after_course
    )


class _PatientReplay:
    """One patient in the rule engine: the rules' window, the alert book and what the devices last said."""

    def __init__(self, sim: SimPatient, number: int, ruleset: RuleSet, emitters: list[DeviceEmitter]) -> None:
        domain = Patient(
            number, sim.mrn, sim.display_name, sim.ward, sim.pathway, sim.spo2_scale, sim.date_of_birth, False,
            EVALUATION_START,
        )  # fmt: skip
        self.ruleset = ruleset
        self.emitters = emitters
        self.window, self.book = PatientWindow(domain, ruleset), AlertBook(number, staff=ASSUMED_RESPONSE)
        self.last_seen: dict[str, datetime] = {}
        self.alerts: list[Alert] = []
        self.trends: list[Finding] = []
        self.trends_at: datetime | None = None

    def receive(self, message: Message) -> None:
        for metric, value, at in message.readings:
            self.window.add(at, metric, value)
        self.last_seen[message.device_id] = message.measured_at

    def evaluate(self, now: datetime) -> News2Result:
        """One evaluation as the worker runs it; returns the NEWS2 the triage list would show."""
        self.book.close_due(now)  # staff close clinical alerts after the RCP response times (alertbook)
        statuses = _statuses(self.emitters, self.last_seen, now)
        active = self.book.active()
        if self.trends_at is None or now - self.trends_at >= TREND_STEP:
            # trends read days of history (a 7-day heart-rate baseline): as the replay does, hourly
            context = self.window.context(now, statuses)
            findings, score = evaluate_scored(context, self.ruleset, now, active=active)
            self.trends = [f for f in findings if f.rule_id.startswith("trend:")]
            self.trends_at = now
        else:
            context = self.window.context(now, statuses, trend_history=False)
            findings, score = evaluate_scored(context, self.ruleset, now, active=active, trends=self.trends)
        decision = reconcile(self.book.alerts(), findings, now, clear_after=self.ruleset.clear_after())
        self.book.apply(decision, now)
        opened = [c.finding for c in decision.changes if c.kind == "open" and c.finding is not None]
        new = self.book.openings[len(self.book.openings) - len(opened) :]
        self.alerts += [Alert(o, f.title, f.reason) for o, f in zip(new, opened, strict=True)]
        return score


def replay_patient(patient: SimPatient, number: int, ruleset: RuleSet, config: EvaluationConfig) -> PatientOutcome:
    """One simulated patient through the live rule code, from admission to the end of follow-up."""
    devices = tuple(
        replace(d, cadence=config.patch_every) if d.kind is DeviceKind.PATCH else d for d in patient.devices
    )
    sim = replace(patient, devices=devices)
    emitters = patient_emitters(sim, EVALUATION_START, seed=config.seed)
    replay = _PatientReplay(sim, number, ruleset, emitters)
    followed, onset = _followed(sim, config), sim.scenario.onset
    crossed: tuple[datetime, int] | None = None
    alerted_at: int | None = None
    agreement = Agreement()
    evaluations = 0
    end = EVALUATION_START + followed
    observed: dict[str, ReadingValue | None] = {}
    observed_crossing: datetime | None = None
    for now, which in _merged(emitters, end, config.reeval_every):
        if now > end:  # followed long enough after its first alert
            break
        message = emitters[which].step(now) if which >= 0 else None
        if message is not None:
            replay.receive(message)
            observed |= observed_truth(sim, message)
        if now < EVALUATION_START + INITIAL_SET_WITHIN:  # admission: the kit's first readings still arriving
            continue
        platform = replay.evaluate(now)
        agreement = agreement.add(platform, true_news2(sim, now))
        if onset is not None and now >= onset:
            if (
                observed_crossing is None
                and (score_values(observed, scale=sim.spo2_scale).score or 0) >= NEWS2_ALERT_AT
            ):
                observed_crossing = now
            if crossed is None and platform.score is not None and platform.score >= NEWS2_ALERT_AT:
                crossed = (now, evaluations)
            if alerted_at is None and any(a.at >= onset and a.clinical for a in replay.alerts):
                alerted_at = evaluations
                end = min(end, now + config.after_alert)
        evaluations += 1
    to_alert = None if crossed is None or alerted_at is None else alerted_at - crossed[1]
    first_crossed = None if crossed is None else crossed[0]
    return PatientOutcome(
        patient,
        end - EVALUATION_START,
        tuple(replay.alerts),
        first_crossed,
        to_alert,
        agreement,
        tuple(replay.book.episodes),
        observed_crossing,
    )


def observed_truth(patient: SimPatient, message: Message) -> dict[str, ReadingValue | None]:
    """The true (noise-free) value of each NEWS2 parameter the message measured, at its measurement time.
    Kept per parameter until measured again, this is the truth as the devices could know it: a cuff read
    every 4 hours cannot show a pressure that fell an hour ago, whatever the rules do."""
    true = displayed(true_vitals(patient.profile, patient.scenario.deviation(message.measured_at), message.measured_at))
    return {str(metric): true[metric] for metric, _, _ in message.readings if metric in true}


def _merged(emitters: list[DeviceEmitter], until: datetime, every: timedelta) -> Iterator[tuple[datetime, int]]:
    """Each emitter's measurement times (its index) merged with periodic re-evaluations (-1), in order."""
    heap = [(e.next_due, i) for i, e in enumerate(emitters)]
    heapq.heapify(heap)
    tick = EVALUATION_START + every
    while True:
        due = heap[0][0]
        if min(due, tick) > until:
            return
        if tick < due:
            yield tick, -1
            tick += every
            continue
        _, i = heapq.heappop(heap)
        yield due, i  # the caller steps the emitter, which moves its next_due on
        heapq.heappush(heap, (emitters[i].next_due, i))


def _statuses(emitters: list[DeviceEmitter], last_seen: dict[str, datetime], now: datetime) -> list[DeviceStatus]:
    """What the platform knows of each device: its last message, or its last heartbeat while it is alive."""
    statuses = []
    for e in emitters:
        seen = last_seen.get(e.device_id)
        if heartbeats(e.cadence) and not e.silent(now) and e.powered(now):
            beat = EVALUATION_START + ((now - EVALUATION_START) // HEARTBEAT) * HEARTBEAT
            seen = max(seen, beat) if seen else beat
        statuses.append(DeviceStatus(e.device_id, e.kind.value, True, e.battery.level(now), seen))
    return statuses


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    config: EvaluationConfig
    ruleset: str
    outcomes: tuple[PatientOutcome, ...]
    smoothing: timedelta = timedelta(0)  # the rule set's longest stream window


def run_evaluation(config: EvaluationConfig, ruleset: RuleSet) -> EvaluationResult:
    """Plan the evaluation ward and replay every patient through the rule set."""
    plan = plan_ward(config.patients, config.seed, config.mix, start=EVALUATION_START)
    outcomes = tuple(replay_patient(p, i + 1, ruleset, config) for i, p in enumerate(plan.patients))
    windows = [timedelta(seconds=s.window_seconds) for s in ruleset.news2.streams.values()]
    return EvaluationResult(config, f"{ruleset.name} v{ruleset.version}", outcomes, max(windows, default=timedelta(0)))


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool


def per_sample(ruleset: RuleSet) -> RuleSet:
    """The rule set as alerts ran before streams and episodes (issue 12): each sample scored as measured, an
    alert clearing the moment its condition goes, a gap alerted at once. The evaluation's "before"."""
    news2 = ruleset.news2.model_copy(update={"streams": {}, "incomplete_after_minutes": 0})
    return ruleset.model_copy(update={"name": f"{ruleset.name} per sample", "clear_after_minutes": 0, "news2": news2})


@dataclass(frozen=True, slots=True)
class Burden:
    """A run's detection and noise in the units the issue measures them in."""

    deteriorations: int
    detected: int
    detection_hours: list[float]  # onset -> first alert, per detected deterioration
    patient_days: float
    alerts: int
    notifications: int
    state_changes: int
    open_alert_hours: float
    stable_per_day: float


def first_alert(outcome: PatientOutcome) -> Alert | None:
    """The alert that detects the patient's problem: clinical, or for a silent device a device alert."""
    return outcome.first_alert_after_onset(clinical=outcome.patient.scenario.kind is not ScenarioKind.DEVICE_FAILURE)


def burden(result: EvaluationResult) -> Burden:
    deteriorating = [o for o in result.outcomes if o.onset is not None]
    detected = [(o, a) for o in deteriorating if (a := first_alert(o)) is not None]
    costs = [o.costs() for o in result.outcomes]
    return Burden(
        deteriorations=len(deteriorating),
        detected=len(detected),
        detection_hours=[(a.at - o.onset).total_seconds() / 3600 for o, a in detected if o.onset is not None],
        patient_days=sum(o.followed.total_seconds() for o in result.outcomes) / 86400,
        alerts=sum(len(o.alerts) for o in result.outcomes),
        notifications=sum(c.notifications for c in costs),
        state_changes=sum(c.state_changes for c in costs),
        open_alert_hours=sum(c.open_alert_hours for c in costs),
        stable_per_day=stable_alert_rate(result),
    )


def smoothing_delay(outcome: PatientOutcome) -> timedelta | None:
    """From the observed truth reaching the alert score to the first alert after onset (0 when the ward was
    alerted before it, by a trend, a threshold or the patient's own call); None when it never did."""
    alert = first_alert(outcome)
    if outcome.observed_crossing is None or alert is None:
        return None
    return max(alert.at - outcome.observed_crossing, timedelta(0))


def smoothing_delays(result: EvaluationResult) -> list[timedelta]:
    """Per deterioration whose observed truth reached the alert score, the delay to its first alert."""
    return [d for o in result.outcomes if o.onset is not None and (d := smoothing_delay(o)) is not None]


def delay_target(result: EvaluationResult) -> Target:
    """Smoothing may delay an alert by at most its window (the longest declared stream's) and one evaluation,
    measured from the moment the readings' true values scored it (so a spot check's cadence is not charged
    to the smoothing: the per-sample set cannot see between cuff readings either)."""
    allowed = result.smoothing + result.config.patch_every
    delays = smoothing_delays(result)
    worst = max(delays, default=timedelta(0))
    return Target(
        f"alerted within the smoothing window plus one evaluation ({allowed.total_seconds():g} s) of the measured"
        f" truth reaching NEWS2 {NEWS2_ALERT_AT}",
        f"largest {worst.total_seconds():.0f} s over {len(delays)}",
        worst <= allowed,
    )


def stable_alert_rate(result: EvaluationResult) -> float:
    """Alerts per patient-day on stable patients (every rule: each one is a nurse's interruption)."""
    stable = [o for o in result.outcomes if o.patient.scenario.kind is ScenarioKind.STABLE]
    days = sum(o.followed.total_seconds() for o in stable) / 86400
    return sum(len(o.alerts) for o in stable) / days if days else 0.0


def targets(result: EvaluationResult) -> list[Target]:
    """The issue's targets with the default rule set, measured."""
    crossed = [o for o in result.outcomes if o.crossed_at is not None]
    timely = [o for o in crossed if o.evaluations_to_alert is not None and o.evaluations_to_alert <= 1]
    rate = stable_alert_rate(result)
    return [
        Target(
            f"every deterioration reaching NEWS2 >= {NEWS2_ALERT_AT} is alerted within one evaluation",
            f"{len(timely)}/{len(crossed)}",
            len(timely) == len(crossed),
        ),
        Target(
            f"stable patients raise <= {STABLE_ALERTS_PER_DAY_TARGET} alerts per patient-day",
            f"{rate:.2f}",
            rate <= STABLE_ALERTS_PER_DAY_TARGET,
        ),
        delay_target(result),
    ]
