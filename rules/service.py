"""Load -> core -> persist for a batch of claimed patients: NEWS2 into patient_scores, findings through
reconcile into alerts, events, audit and outbox rows, all in the caller's transaction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from rules.actions import snapshot
from rules.context import load_contexts
from rules.core.evaluate import evaluate_scored
from rules.core.model import Decision, EvaluationContext, Finding
from rules.core.news2 import News2Result
from rules.core.reconcile import reconcile
from rules.core.ruleset import DEFAULT_RULESET_PATH, RuleSet, parse_ruleset
from rules.decisions import Origin, apply_decision
from rules.shadow import evaluate_shadow
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.storage import alerts as alert_store
from vward.storage import rulesets as ruleset_store
from vward.storage.alerts import StoredAlert
from vward.storage.pool import Conn
from vward.storage.rulesets import RuleSetRecord
from vward.storage.scores import ScoreRow, locked_scores, save_scores

log = logging.getLogger(__name__)

RULES_ACTOR = Principal(username="rules-worker", role=Role.ADMIN)
INGEST_STALLED_RULE = "system:ingest_stalled"
# Findings about absent data, which a stalled ingest would raise for every patient at once.
NO_DATA_RULES = ("overdue:", "device_offline:", "news2_incomplete")


@dataclass(frozen=True, slots=True)
class LiveRuleSet:
    record: RuleSetRecord
    rules: RuleSet


@dataclass(frozen=True, slots=True)
class LiveRules:
    """The published rule set, which alerts, and the shadow drafts, which only record would-be alerts."""

    published: LiveRuleSet
    shadows: tuple[LiveRuleSet, ...] = ()

    def every_ruleset(self) -> list[RuleSet]:
        return [self.published.rules, *(s.rules for s in self.shadows)]


class RuleSetCache:
    """Parses rule sets only when the published or shadow versions change (one cheap query per batch)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._generation: tuple[tuple[int, int], ...] | None = None
        self._live: LiveRules | None = None

    async def current(self, conn: Conn) -> LiveRules:
        generation = await ruleset_store.ruleset_generation(conn)
        if self._live is None or generation != self._generation:
            published = await ruleset_store.load_published(conn, self.name)
            if published is None:
                raise LookupError(f"no published version of rule set {self.name!r}")
            shadows = await ruleset_store.shadow_rulesets(conn)
            self._live = LiveRules(_parsed(published), tuple(_parsed(s) for s in shadows))
            self._generation = generation
        return self._live


def _parsed(record: RuleSetRecord) -> LiveRuleSet:
    return LiveRuleSet(record, RuleSet.model_validate(record.body))


def parse_document(text: str, source: str) -> tuple[RuleSet, dict[str, Any]]:
    """The validated rule set and the document as its author wrote it, which is what gets stored: it
    re-validates as written (severity names, not the enum numbers a model dump would produce)."""
    ruleset = parse_ruleset(text, source)
    document: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(text), default=str))
    return ruleset, document


async def seed_default_ruleset(conn: Conn) -> RuleSetRecord:
    """The shipped default rule set as published version 1, on the first start only."""
    ruleset, document = parse_document(DEFAULT_RULESET_PATH.read_text(encoding="utf-8"), str(DEFAULT_RULESET_PATH))
    return await ruleset_store.ensure_default_ruleset(conn, document, ruleset.name)


def score_row(result: News2Result) -> ScoreRow:
    return ScoreRow(
        score=result.score,
        band=None if result.band is None else str(result.band),
        complete=result.complete,
        missing=(*result.missing, *result.stale),
        parameters=result.to_json()["parameters"],
        red_score=result.red_score,
        applicable=result.applicable,
        reason=result.reason,
        lower_bound=result.lower_bound,
    )


@dataclass(frozen=True, slots=True)
class PatientPlan:
    """What the pure core decided for one patient: the score to store and the alert changes to apply."""

    context: EvaluationContext
    score: ScoreRow
    alerts: list[StoredAlert]  # unresolved, locked
    decision: Decision


async def evaluate_batch(conn: Conn, patient_ids: list[int], live: LiveRules, now: datetime, *, notify: bool) -> None:
    """Evaluate the admitted patients among `patient_ids`. Reads and score writes are one statement each for
    the whole batch; alert changes (and shadow rule sets) are applied per patient in a savepoint, so one
    patient's failure never loses the batch or another patient's alerts."""
    published = live.published.record
    origin = Origin(RULES_ACTOR, published.name, published.version, notify)
    stalled = await alert_store.has_open_alert(conn, None, INGEST_STALLED_RULE)
    contexts = await load_contexts(conn, patient_ids, live.every_ruleset(), now)
    ids = [c.patient.id for c in contexts]
    previous = await locked_scores(conn, ids)
    open_alerts = await alert_store.open_alerts_by_patient(conn, ids)
    plans: list[PatientPlan] = []
    for context in contexts:
        try:
            plans.append(plan_patient(context, open_alerts.get(context.patient.id, []), live, now, stalled=stalled))
        except Exception:
            log.exception("evaluation failed for patient id %d", context.patient.id)
    await _save_scores(conn, [(p.context.patient.id, p.score) for p in plans], previous, now, published.version)
    for plan in plans:
        if not plan.decision.changes and not live.shadows:
            continue
        try:
            async with conn.transaction():
                await apply_decision(conn, plan.context.patient.id, plan.decision, plan.alerts, origin, now)
                for shadow in live.shadows:
                    await evaluate_shadow(conn, plan.context, shadow.record.id, shadow.rules, now)
        except Exception:
            log.exception("applying the evaluation failed for patient id %d", plan.context.patient.id)


def plan_patient(
    context: EvaluationContext, alerts: list[StoredAlert], live: LiveRules, now: datetime, *, stalled: bool
) -> PatientPlan:
    """No I/O: the patient's NEWS2 and the reconciled alert changes against the `alerts` already open."""
    rules = live.published.rules
    active = frozenset(a.rule_id for a in alerts)
    findings, score = evaluate_scored(context, rules, now, active=active)
    if stalled:
        findings = inhibit_no_data(findings, active)
    decision = reconcile([snapshot(a) for a in alerts], findings, now, clear_after=rules.clear_after())
    return PatientPlan(context, score_row(score), alerts, decision)


async def _save_scores(
    conn: Conn, scores: list[tuple[int, ScoreRow]], previous: dict[int, ScoreRow], now: datetime, version: int
) -> None:
    """All scores in one savepoint; if the database refuses that, each in its own, so one bad row costs only
    its own patient's score."""
    if not scores:
        return
    try:
        async with conn.transaction():
            await save_scores(conn, scores, previous, now, version)
        return
    except Exception:
        log.exception("saving %d scores together failed; saving them one by one", len(scores))
    for one in scores:
        try:
            async with conn.transaction():
                await save_scores(conn, [one], previous, now, version)
        except Exception:
            log.exception("saving the score failed for patient id %d", one[0])


def inhibit_no_data(findings: list[Finding], active: frozenset[str]) -> list[Finding]:
    """While ingest is stalled, one system alert speaks for every patient: no new no-data alerts open
    (those already open stay open rather than resolving for a reason that is not true)."""
    return [f for f in findings if f.rule_id in active or not f.rule_id.startswith(NO_DATA_RULES)]
