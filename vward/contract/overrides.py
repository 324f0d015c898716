"""A patient's own alert bounds (threshold overrides): each with a clinical reason and an expiry, after
which it is flagged for review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from vward.contract.text import StorableText
from vward.domain.metrics import Metric

MAX_OVERRIDE = timedelta(days=90)  # an override outliving a quarter's review is a forgotten one


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Metric
    low: float | None = Field(default=None, description="alert at or below this instead of the rule set's bound")
    high: float | None = Field(default=None, description="alert at or above this instead of the rule set's bound")
    reason: StorableText = Field(
        min_length=3, max_length=1000, description="the clinical reason (shown with every alert)"
    )
    expires_at: AwareDatetime = Field(description="in the future, at most 90 days ahead; then flagged for review")

    @model_validator(mode="after")
    def _sensible(self) -> OverrideIn:
        if self.low is None and self.high is None:
            raise ValueError("give low, high or both")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError("low must be below high")
        if not timedelta(0) < self.expires_at - datetime.now(UTC) <= MAX_OVERRIDE:
            raise ValueError(f"expires_at must be in the future and within {MAX_OVERRIDE.days} days")
        return self


class OverrideOut(BaseModel):
    id: int
    patient_id: int
    metric: str
    low: float | None
    high: float | None
    reason: str
    expires_at: datetime
    created_by: str
    created_at: datetime
