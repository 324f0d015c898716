"""The ward's outcomes over a period as the API serves them and the population page shows them
(definitions: docs/episodes.md)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from pydantic import BaseModel, Field


class LengthOfStay(BaseModel):
    stays: int = Field(description="stays of care that ended in the period (transfers are part of one stay)")
    median_days: float | None
    q1_days: float | None = Field(description="25th percentile")
    q3_days: float | None = Field(description="75th percentile")


class AcknowledgementTimes(BaseModel):
    severity: int
    alerts: int
    acknowledged: int
    median_minutes: float | None
    p90_minutes: float | None


class WardPopulation(BaseModel):
    ward: str
    admissions: int = Field(description="stays begun in the period (not transfers in)")
    step_downs: int = Field(description="of those, stepped down from an acute hospital")
    readmissions_30d: int = Field(description="admissions within 30 days of the same patient's last discharge")
    readmission_rate: float | None
    bed_days: float = Field(description="days patients spent on the ward within the period")
    occupancy: float = Field(description="patients on the ward on average (bed-days / days)")
    discharges: int = Field(description="stays of care ended in the period (not transfers out)")
    escalations: int = Field(description="of those, stepped up to hospital")
    escalation_rate: float | None
    deaths: int
    self_discharges: int
    length_of_stay: LengthOfStay
    alerts: int = Field(description="alerts opened in the period on the ward's patients")
    alerts_per_patient_day: float | None
    alerts_per_nurse_shift: float = Field(description="alerts / (12-hour shifts in the period x nurses per shift)")
    acknowledgement: list[AcknowledgementTimes] = Field(description="by severity, highest first")


class CensusDay(BaseModel):
    ward: str
    day: date = Field(description="ward-time day")
    census: float = Field(description="patients on the ward on average that day")
    admissions: int
    discharges: int


class Population(BaseModel):
    since: datetime
    until: datetime
    nurses: int = Field(description="nurses per ward per shift, as given")
    shifts: float = Field(description="12-hour shifts in the period")
    wards: list[WardPopulation]
    daily: list[CensusDay]


CSV_COLUMNS = (
    "ward", "admissions", "step_downs", "readmissions_30d", "readmission_rate", "bed_days", "occupancy",
    "discharges", "escalations", "escalation_rate", "deaths", "self_discharges", "los_median_days",
    "los_q1_days", "los_q3_days", "alerts", "alerts_per_patient_day", "alerts_per_nurse_shift",
    "ack_median_minutes_high", "ack_p90_minutes_high", "ack_median_minutes_medium", "ack_p90_minutes_medium",
)  # fmt: skip


def population_csv(figures: Population) -> str:
    """One row per ward; time to acknowledge for high (3) and medium (2) alerts. The API's export and the
    dashboard's download are this one text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("period_since", "period_until", *CSV_COLUMNS))
    for w in figures.wards:
        ack = {a.severity: a for a in w.acknowledgement}
        los = w.length_of_stay
        writer.writerow((
            figures.since.isoformat(), figures.until.isoformat(), w.ward, w.admissions, w.step_downs,
            w.readmissions_30d, w.readmission_rate, w.bed_days, w.occupancy, w.discharges, w.escalations,
            w.escalation_rate, w.deaths, w.self_discharges, los.median_days, los.q1_days, los.q3_days, w.alerts,
            w.alerts_per_patient_day, w.alerts_per_nurse_shift,
            *(getattr(ack.get(s), f, None) for s in (3, 2) for f in ("median_minutes", "p90_minutes")),
        ))  # fmt: skip
    return out.getvalue()
