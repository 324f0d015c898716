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
from rules.core.evaluate import evaluate, score_news2
from rules.core.model import EvaluationContext, Finding
from rules.core.news2 import News2Result
from rules.core.reconcile import reconcile
from rules.core.ruleset import DEFAULT_RULESET_PATH, RuleSet, parse_ruleset
from rules.decisions import Origin, apply_decision
from rules.shadow import evaluate_shadow
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.storage import alerts as alert_store
from vward.storage import rulesets as ruleset_store
from vward.storage.pool import Conn
from vward.storage.rulesets import RuleSetRecord
from vward.storage.scores import ScoreRow, save_score

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
    )


async def evaluate_batch(conn: Conn, patient_ids: list[int], live: LiveRules, now: datetime, *, notify: bool) -> None:
    """Evaluate each admitted patient in its own savepoint: one patient's failure never loses the batch."""
    published = live.published.record
    origin = Origin(RULES_ACTOR, published.name, published.version, notify)
    stalled = await alert_store.has_open_alert(conn, None, INGEST_STALLED_RULE)
    for context in await load_contexts(conn, patient_ids, live.every_ruleset(), now):
        try:
            async with conn.transaction():
                await _evaluate_patient(conn, context, live, origin, now, stalled=stalled)
        except Exception:
            log.exception("evaluation failed for patient id %d", context.patient.id)


def inhibit_no_data(findings: list[Finding], active: frozenset[str]) -> list[Finding]:
    """While ingest is stalled, one system alert speaks for every patient: no new no-data alerts open
    (those already open stay open rather than resolving for a reason that is not true)."""
    return [f for f in findings if f.rule_id in active or not f.rule_id.startswith(NO_DATA_RULES)]


async def _evaluate_patient(
    conn: Conn, context: EvaluationContext, live: LiveRules, origin: Origin, now: datetime, *, stalled: bool
) -> None:
    patient_id = context.patient.id
    result = score_news2(context, live.published.rules, now)
    await save_score(conn, patient_id, score_row(result), now, live.published.record.version)
    alerts = await alert_store.open_alerts_for_update(conn, patient_id)
    active = frozenset(a.rule_id for a in alerts)
    findings = evaluate(context, live.published.rules, now, active=active)
    if stalled:
        findings = inhibit_no_data(findings, active)
    decision = reconcile([snapshot(a) for a in alerts], findings, now)
    await apply_decision(conn, patient_id, decision, alerts, origin, now)
    for shadow in live.shadows:
        await evaluate_shadow(conn, context, shadow.record.id, shadow.rules, now)
