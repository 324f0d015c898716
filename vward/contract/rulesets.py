"""Rule sets as the API serves them and as the dashboard's editor reads them: versions (which one runs,
whether four eyes bars the caller from publishing), the bodies the editor sends (its unsaved text, a
shadow switch, a publication), shadow counts, the diff against the live version and the burden preview."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from vward.contract.text import StorableText

MAX_RULESET_BYTES = 256 * 1024

RuleSetStatus = Literal["draft", "published", "retired"]


class RuleSetSummary(BaseModel):
    id: int
    name: str
    version: int
    status: RuleSetStatus
    shadow: bool
    live: bool = Field(
        description="the version the rules worker evaluates (the published version of VWARD_RULES_RULESET); "
        "other published versions never run"
    )
    created_by: str
    created_at: datetime
    edited_by: str | None = Field(description="who last replaced the body; null: nobody since its author")
    published_by: str | None
    published_at: datetime | None
    publish_reason: str | None


class RuleSetDetail(RuleSetSummary):
    body: dict[str, Any]
    four_eyes_refusal: str | None = Field(
        description="why you may not publish this draft (four eyes: you wrote or last edited it); null if you may"
    )


class ShadowSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shadow: bool


class ShadowCount(BaseModel):
    rule_id: str
    severity: int
    opened: int
    patients: int


class Publication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: StorableText = Field(min_length=3, max_length=2000, description="why this version goes live (audited)")


class CandidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    draft: str | None = Field(
        default=None,
        max_length=MAX_RULESET_BYTES,
        description="the editor's unsaved text (YAML or JSON), validated as saving it would be; "
        "default: this version as stored",
    )


class RuleChange(BaseModel):
    section: str = Field(description="top-level key of the rule set, e.g. thresholds, news2")
    item: str | None = Field(description="the threshold's metric or the trend's or overdue plan's name")
    change: Literal["added", "removed", "changed"]


class RuleSetDiff(BaseModel):
    live: RuleSetSummary = Field(description="the version the rules worker evaluates, compared against")
    candidate: str = Field(
        description="what was compared: name@version, then '(unsaved)' when the editor's text differs from it"
    )
    changes: list[RuleChange] = Field(description="per rule, in document order; empty when nothing changes")
    unified: str = Field(description="unified diff of both as YAML (keys sorted); empty when identical")


class PreviewRequest(CandidateRequest):
    days: float = Field(default=7, gt=0, le=14, description="how far back to replay")
    until: AwareDatetime | None = Field(default=None, description="end of the window (default: now)")
    patient_ids: list[int] | None = Field(default=None, max_length=2000, description="only these patients")
    nurses: int = Field(default=2, ge=1, le=100, description="nurses on duty for these patients throughout")


class PreviewWindow(BaseModel):
    start: datetime
    end: datetime


class PreviewSide(BaseModel):
    """One rule set's alert burden over the replayed window."""

    rule_set: str = Field(description="name@version, with '(unsaved)' for the editor's text")
    total: int
    per_patient_day: float
    busiest_patient_day: int = Field(description="the most alerts one patient had in one day")
    per_severity: dict[str, int]
    per_shift: dict[str, int] = Field(description="'YYYY-MM-DD HH:MM-HH:MM' (ward time) -> alerts opened then")
    state_changes: int = Field(description="alert events after opening: escalations, acknowledgements, clears ...")
    state_changes_per_alert_hour: float
    notifications: int = Field(description="every notice: each tier reached before acknowledgement, reminders")
    notifications_per_patient_day: float
    reminders: int
    open_alert_hours: float = Field(description="hours alerts stayed open (until a person would close them)")
    open_per_nurse: float = Field(description="alerts open on average per nurse on duty")


class PreviewStaff(BaseModel):
    """What the preview assumes of the people: how fast they act, and how many are on duty."""

    source: str = Field(description="'observed: high (12), ...' from the ward's closed alerts, else 'assumed'")
    nurses: int
    acknowledge_minutes: dict[str, float] = Field(description="per severity, opening to acknowledgement")
    close_minutes: dict[str, float] = Field(description="per severity, opening to closing (once it has cleared)")


class PreviewRuleCount(BaseModel):
    rule_id: str
    candidate: int
    published: int


class RuleSetPreview(BaseModel):
    """A candidate and the published rule set replayed over the same stored readings (no patient data)."""

    window: PreviewWindow
    patients: int
    patient_days: float
    readings: int
    evaluations: int
    elapsed_s: float
    candidate: PreviewSide
    published: PreviewSide
    staff: PreviewStaff
    per_rule: list[PreviewRuleCount] = Field(description="alerts per rule of either side, by rule id")
