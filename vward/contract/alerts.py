"""Alerts as the API serves them and as the dashboard reads them: one alert, its trail, a page of the inbox,
and the bodies of the clinical actions. The API decides what a person may do next (`allowed_actions`, from
the lifecycle table and their role) and the order; the screens only show it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vward.contract.text import StorableText
from vward.domain.alerts import AlertState, ResolveOutcome

# The actions a person may take; a reopen is the timer's, when a snooze runs out.
AlertAction = Literal["acknowledge", "escalate", "resolve", "snooze"]


class PatientRef(BaseModel):
    """Who an alert is about, as a dialog must say it: two patients may share a name."""

    id: int
    display_name: str
    mrn: str
    date_of_birth: date | None
    age_years: int | None


class AlertOut(BaseModel):
    id: int
    patient_id: int | None
    patient: PatientRef | None = Field(description="None for a platform alert")
    rule_id: str
    rule_set_name: str
    rule_set_version: int
    severity: int
    severity_name: str
    state: AlertState
    title: str
    reason: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None
    outcome_code: ResolveOutcome | None = Field(description="the coded outcome of a resolved alert")
    snoozed_until: datetime | None
    snooze_reason: str | None
    escalation_tier: int = Field(description="how many tiers of the policy have been notified")
    next_escalation_at: datetime | None
    escalation_policy: dict[str, Any]
    auto_resolve: bool
    cleared_at: datetime | None = Field(description="when the condition went away (a person still closes it)")
    muted_by: int | None = Field(description="the higher alert of the same patient that mutes this one")
    absent_since: datetime | None = Field(
        description="its condition has been gone since then; it clears after the rule set's clear_after_minutes"
    )
    wavers: int = Field(description="times its condition came back before it cleared: one episode, not re-notified")
    allowed_actions: list[AlertAction] = Field(
        description="what the caller may do next, from the lifecycle table, the severity and their role"
    )


class AlertEvent(BaseModel):
    at: datetime
    kind: str
    actor: str
    from_state: str | None
    to_state: str | None
    severity: int | None
    detail: dict[str, Any]


class AlertDetail(AlertOut):
    events: list[AlertEvent]


class AlertPage(BaseModel):
    """One page in the inbox's order: worst severity first, then whoever has waited longest, then id."""

    items: list[AlertOut]
    total: int
    page: int
    page_size: int


class Note(BaseModel):
    """An acknowledgement or escalation, with what the nurse wants the next person to know."""

    model_config = ConfigDict(extra="forbid")

    note: StorableText | None = Field(default=None, max_length=2000)


class Resolution(Note):
    outcome_code: ResolveOutcome = Field(description="the coded outcome (docs/clinical-rules.md)")
    outcome: StorableText | None = Field(
        default=None, max_length=500, description="what was done or found; required for 'other'"
    )


class Snooze(Note):
    reason: StorableText = Field(min_length=1, max_length=500)
    until: AwareDatetime = Field(description="when the alert re-opens; at most 24 hours ahead")
