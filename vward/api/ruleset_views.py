"""How the rule set routes build their answers (the shapes are vward.contract.rulesets): versions as the API
shows them (which one runs, whether four eyes bars the caller from publishing), rule set texts validated the
one way saving validates them, and a candidate's changes against the version that runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status

from rules.core.ruleset import RuleSet, RuleSetError
from rules.core.ruleset_diff import rule_changes, unified_diff
from rules.service import parse_document
from vward.api.deps import AppSettings, CurrentUser
from vward.contract.rulesets import RuleChange, RuleSetDetail, RuleSetDiff, RuleSetSummary
from vward.storage.rulesets import RuleSetRecord, four_eyes_refusal


@dataclass(frozen=True, slots=True)
class Presenter:
    """Records as answers for one request: which version runs (the API reads the worker's own setting, so
    no client works it out) and whether four eyes bars the caller from publishing."""

    worker_ruleset: str
    four_eyes: bool
    username: str

    def summary(self, record: RuleSetRecord) -> RuleSetSummary:
        stored = {k: getattr(record, k) for k in RuleSetSummary.model_fields if k != "live"}
        return RuleSetSummary(**stored, live=record.is_live(self.worker_ruleset))

    def detail(self, record: RuleSetRecord) -> RuleSetDetail:
        barred = self.four_eyes and record.status == "draft"
        refusal = four_eyes_refusal(record, self.username) if barred else None
        return RuleSetDetail(**self.summary(record).model_dump(), body=record.body, four_eyes_refusal=refusal)


def _presenter(settings: AppSettings, principal: CurrentUser) -> Presenter:
    return Presenter(settings.rules_ruleset, settings.ruleset_four_eyes, principal.username)


Presented = Annotated[Presenter, Depends(_presenter)]


def validated(text: str, source: str) -> tuple[RuleSet, dict[str, Any]]:
    """A rule set text as a validated rule set and its document; 422 listing every problem with its line."""
    try:
        return parse_document(text, source=source)
    except RuleSetError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def same_rule_set(record: RuleSetRecord, ruleset: RuleSet) -> None:
    """A text sent for a version must keep its rule set's name (a new name is a new rule set: save it)."""
    if ruleset.name != record.name:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"This version belongs to rule set {record.name!r}; the body names {ruleset.name!r}",
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A version, or unsaved text for it, to compare with what runs."""

    record: RuleSetRecord
    rules: RuleSet
    document: dict[str, Any]

    @property
    def unsaved(self) -> bool:
        return self.document != self.record.body

    @property
    def label(self) -> str:
        return f"{self.record.name}@{self.record.version}{' (unsaved)' if self.unsaved else ''}"


def candidate(record: RuleSetRecord, draft: str | None) -> Candidate:
    """The text when one is sent (what the editor shows is what gets judged), else the stored version."""
    if draft is None:
        return Candidate(record, RuleSet.model_validate(record.body), record.body)
    rules, document = validated(draft, "unsaved draft")
    same_rule_set(record, rules)
    return Candidate(record, rules, document)


def diff_against(live: RuleSetRecord, compared: Candidate, view: Presenter) -> RuleSetDiff:
    changes = rule_changes(live.body, compared.document)
    return RuleSetDiff(
        live=view.summary(live),
        candidate=compared.label,
        changes=[RuleChange.model_validate(c, from_attributes=True) for c in changes],
        unified=unified_diff(live.body, compared.document, f"{live.name}@{live.version} (live)", compared.label),
    )
