"""Platform operations as the API serves them to ops: refused messages (dead letters), device clocks and
the alert-burden meter. None carries a name, MRN or reading: a dead letter comes without its raw payload,
and the burden names patients by database id only."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str = Field(description="the ingest's reason code")
    detail: str
    payload_size: int


class DeviceClockOut(BaseModel):
    """A device whose clock ingest judges off (ingest.core.clock): ahead is corrected, behind only flagged."""

    device_id: str
    kind: str
    offset_seconds: float | None = Field(
        description="how far the device's clock runs ahead of the platform's (negative: behind, or its messages"
        " arrive late); null once back in sync"
    )
    corrected_seconds: float = Field(description="subtracted from the device's times before they are used")
    estimated_at: datetime | None
    last_seen_at: datetime | None


class WardShiftCount(BaseModel):
    ward: str = Field(description="'platform' for alerts about the platform itself")
    shift_start: date = Field(description="the ward-time date the shift starts on (a night belongs to it)")
    shift: str = Field(description="the shift's hours in ward time, e.g. 07:00-19:00")
    alerts: int = Field(description="alerts opened")
    state_changes: int = Field(0, description="alert events after the opening: escalated, worsened, cleared ...")
    notifications: int = Field(0, description="notifications queued (every tier and reminder)")
    open_alert_hours: float = Field(0, description="hours alerts were open in the shift, summed over alerts")
    open_per_nurse: float = Field(
        0, description="alerts open on average per nurse on shift: open alert-hours / staffed nurse-hours"
    )


class RuleCount(BaseModel):
    rule_id: str
    alerts: int


class PatientCount(BaseModel):
    patient_id: int
    alerts: int


class AlertBurden(BaseModel):
    since: datetime
    total: int = Field(description="alerts opened")
    state_changes: int = 0
    notifications: int = 0
    wavers: int = Field(0, description="conditions that went and came back within an episode (no event, no notice)")
    open_alert_hours: float = 0
    state_changes_per_alert_hour: float = 0
    nurses_per_shift: int = Field(description="the staffing the per-nurse figures assume, per ward and shift")
    notifications_on: bool = Field(True, description="false: no channel is configured, so nothing is notified")
    per_ward_shift: list[WardShiftCount]
    noisiest_rules: list[RuleCount]
    noisiest_patients: list[PatientCount]
