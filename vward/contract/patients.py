"""Patients as the API serves them: the triage list, one record, its readings and its NEWS2 chart."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

# A reading's value keeps its type end to end: a boolean (oxygen, the patient's "I feel unwell") is a
# boolean, an ACVPU letter a string, everything else a number. StrictBool first, so 1.0 never becomes True.
Value = StrictBool | float | str
# A NEWS2 parameter as scored: present and fresh, never measured, or older than its freshness window.
ParameterStatus = Literal["ok", "missing", "stale"]
# Where a vital has gone over the trend window (vward.api.worklist.TREND_WINDOW).
TrendDirection = Literal["rising", "falling", "steady"]


class Reading(BaseModel):
    metric: str
    value: Value | None
    measured_at: datetime
    received_at: datetime
    device_id: str
    flags: list[str]


class Observation(BaseModel):
    metric: str
    value: Value | None
    measured_at: datetime
    device_id: str


class Device(BaseModel):
    id: str
    kind: str
    online: bool | None
    battery: int | None
    last_seen_at: datetime | None
    bound_from: datetime


class ParameterAge(BaseModel):
    """How old one NEWS2 parameter's value is now."""

    parameter: str
    measured_at: datetime
    age_minutes: float


class PatientSummary(BaseModel):
    """One worklist row; the list comes in the documented clinical order (docs/clinical-rules.md)."""

    id: int
    mrn: str
    display_name: str
    date_of_birth: date | None
    age_years: int | None
    ward: str
    pathway: str
    spo2_scale: int
    admitted_at: datetime
    discharged_at: datetime | None = Field(
        None, description="when the latest stay ended: only a patient's own record, never the worklist, has one"
    )
    news2_score: int | None
    news2_band: str | None
    news2_complete: bool = Field(description="every parameter present and, now, within its freshness window")
    news2_lower_bound: int | None = Field(description="an incomplete set: the known parameters' sum")
    news2_lower_band: str | None = Field(description="the band an incomplete set is at least in")
    news2_missing: list[str] = Field(description="parameters never measured")
    news2_stale: list[str] = Field(description="parameters older than the rule set's freshness window now")
    news2_applicable: bool
    news2_reason: str | None = Field(description="why NEWS2 does not apply (under 16, pregnant)")
    red_score: bool
    scored_at: datetime | None
    oldest_value: ParameterAge | None = Field(description="the NEWS2 parameter measured longest ago")
    overdue: list[str] = Field(description="metrics of the monitoring plan not measured within its interval")
    open_alerts: int
    top_severity: int | None
    oldest_alert_at: datetime | None
    escalation_tier: int | None
    next_escalation_at: datetime | None
    last_reading_at: datetime | None
    devices_offline: int
    min_battery: int | None
    news2_then: int | None = Field(description="the NEWS2 score as it stood 4 hours ago (None: not scored then)")
    trends: dict[str, TrendDirection] = Field(
        description="the main vitals' direction over the last 4 hours, where both ends have a value"
    )


class PatientDetail(BaseModel):
    summary: PatientSummary
    news2_parameters: dict[str, ParameterScoreOut]
    observations: list[Observation]
    devices: list[Device]
    monitoring_plan: dict[str, float] = Field(description="metric -> expected every N hours")


class ParameterScoreOut(BaseModel):
    """One NEWS2 parameter as last scored."""

    value: Value | None
    score: int | None
    status: ParameterStatus
    age_minutes: float | None
    measured_at: datetime | None = None


class ChartCell(BaseModel):
    parameter: str
    value: Value | None
    score: int | None
    status: ParameterStatus
    measured_at: datetime | None
    age_minutes: float | None = Field(description="age at the column's time")
    carried: bool = Field(description="measured before this column: the value the engine still used")


class ChartColumn(BaseModel):
    start: datetime
    at: datetime = Field(description="the column's newest reading: when this set was scored")
    score: int | None
    band: str | None
    complete: bool
    lower_bound: int | None
    red_score: bool
    cells: list[ChartCell]


class ScoreRange(BaseModel):
    low: float
    high: float
    score: int


class News2Chart(BaseModel):
    """The observation chart of a window, scored by the live rule set as the engine scores the patient."""

    scale: int
    applicable: bool
    reason: str | None
    rule_set: str
    columns: list[ChartColumn]
    ranges: dict[str, list[ScoreRange]] = Field(description="per numeric parameter: value ranges by score")


PatientDetail.model_rebuild()


class VitalBucket(BaseModel):
    """One time bucket of a numeric vital: its range and median, so a spike is never smoothed away."""

    start: datetime
    minimum: float
    maximum: float
    median: float
    readings: int


class VitalSeries(BaseModel):
    """A patient's numeric vitals over a window, a bucket of `step_minutes` at a time."""

    step_minutes: int
    series: dict[str, list[VitalBucket]] = Field(description="metric -> its buckets, oldest first")
    ranges: dict[str, list[ScoreRange]] = Field(description="where NEWS2 scores 0-3, on the patient's SpO2 scale")
