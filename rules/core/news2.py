"""NEWS2 (RCP 2017) scoring, exact to the chart in shared/reference/news2.md.

Public API:
- `score_parameter(metric, value, scale=1, on_oxygen=False) -> int`: one parameter's chart score.
- `score_values(values, scale=1) -> News2Result`: a bedside set of values (the CLI); absent keys are missing.
- `assess(latest, scale=..., now=..., freshness=...) -> News2Result`: latest observations with their ages;
  a parameter older than its freshness window is stale and, like a missing one, makes the result incomplete.
- `not_applicable(reason) -> News2Result` and `applicability(patient, now) -> str | None` (under 16, pregnant);
  `values_only(result, reason)` keeps an unscored patient's values and ages on show.
- `guidance(result) -> Guidance | None`: RCP clinical risk, minimum monitoring and response for the result.
- `score_ranges(metric, low, high, step, scale)`: value ranges with one score each, for charts' bands.

An incomplete result has `score=None, band=None`: it is never a silent 0; its `lower_bound` is the sum of
the parameters that are known, since a missing parameter can only add points.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from vward.domain.metrics import ACVPU_LEVELS, Metric
from vward.domain.patients import Patient
from vward.domain.readings import Observation, ReadingValue

# The seven NEWS2 parameters, in chart order, named by the metric that carries them.
PARAMETERS: tuple[Metric, ...] = (
    Metric.RESPIRATORY_RATE,
    Metric.SPO2,
    Metric.ON_OXYGEN,
    Metric.SYSTOLIC_BP,
    Metric.HEART_RATE,
    Metric.CONSCIOUSNESS,
    Metric.TEMPERATURE,
)

MINIMUM_AGE_YEARS = 16
RED_SCORE = 3

# (highest value in the band, inclusive; score). The last band is open-ended.
_Bands = tuple[tuple[float, int], ...]
_INF = float("inf")
_RESPIRATION: _Bands = ((8, 3), (11, 1), (20, 0), (24, 2), (_INF, 3))
_SPO2_SCALE1: _Bands = ((91, 3), (93, 2), (95, 1), (_INF, 0))
_SPO2_SCALE2_LOW: _Bands = ((83, 3), (85, 2), (87, 1), (92, 0))
_SPO2_SCALE2_OXYGEN: _Bands = ((94, 1), (96, 2), (_INF, 3))
_SYSTOLIC: _Bands = ((90, 3), (100, 2), (110, 1), (219, 0), (_INF, 3))
_PULSE: _Bands = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (_INF, 3))
_TEMPERATURE: _Bands = ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (_INF, 2))
_ACVPU_SCORE = {"A": 0, "C": 3, "V": 3, "P": 3, "U": 3}


class Band(enum.StrEnum):
    LOW = "low"
    LOW_MEDIUM = "low-medium"
    MEDIUM = "medium"
    HIGH = "high"


class Status(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Guidance:
    """Charts 3 and 4: what the score means and what the ward must do."""

    risk: str
    monitoring: str
    response: str


_GUIDANCE_ZERO = Guidance("low", "every 12 h", "continue routine monitoring")
_GUIDANCE: dict[Band, Guidance] = {
    Band.LOW: Guidance(
        "low", "every 4-6 h", "inform the registered nurse, who assesses and decides on frequency or escalation"
    ),
    Band.LOW_MEDIUM: Guidance(
        "low-medium", "every hour", "nurse informs the medical team, who review and decide whether to escalate"
    ),
    Band.MEDIUM: Guidance(
        "medium",
        "every hour",
        "nurse immediately informs the medical team; urgent assessment by a clinician competent in acute "
        "illness; monitored environment",
    ),
    Band.HIGH: Guidance(
        "high",
        "continuous",
        "immediate emergency assessment by a team with critical-care skills; consider transfer to level 2/3 care",
    ),
}


@dataclass(frozen=True, slots=True)
class ParameterScore:
    """One parameter as scored: its value, chart score, age and whether it counted."""

    value: ReadingValue | None
    score: int | None
    status: Status
    age_minutes: float | None = None
    measured_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        age = None if self.age_minutes is None else round(self.age_minutes, 1)
        at = None if self.measured_at is None else self.measured_at.isoformat()
        return {
            "value": self.value,
            "score": self.score,
            "status": str(self.status),
            "age_minutes": age,
            "measured_at": at,
        }


@dataclass(frozen=True, slots=True)
class News2Result:
    """A NEWS2 outcome: a complete score with its band, an incomplete one, or not applicable with a reason."""

    score: int | None
    band: Band | None
    complete: bool
    parameters: Mapping[str, ParameterScore] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    red_score: bool = False
    scale: int = 1
    applicable: bool = True
    reason: str | None = None
    lower_bound: int | None = None  # an incomplete set: the known parameters' sum, which missing ones only raise

    def to_json(self) -> dict[str, Any]:
        """The CLI and API contract: score, band, complete and per-parameter detail."""
        return {
            "score": self.score,
            "band": None if self.band is None else str(self.band),
            "complete": self.complete,
            "parameters": {name: p.to_json() for name, p in self.parameters.items()},
        }

    def detail_json(self) -> dict[str, Any]:
        """Everything the triage list and an alert's reason show: the contract plus why."""
        advice = guidance(self)
        return {
            **self.to_json(),
            "missing": list(self.missing),
            "stale": list(self.stale),
            "red_score": self.red_score,
            "scale": self.scale,
            "applicable": self.applicable,
            "reason": self.reason,
            "lower_bound": self.lower_bound,
            "guidance": None if advice is None else dataclasses.asdict(advice),
        }


_SCALE1_BANDS: dict[Metric, _Bands] = {
    Metric.RESPIRATORY_RATE: _RESPIRATION,
    Metric.SPO2: _SPO2_SCALE1,
    Metric.SYSTOLIC_BP: _SYSTOLIC,
    Metric.HEART_RATE: _PULSE,
    Metric.TEMPERATURE: _TEMPERATURE,
}
NUMERIC_PARAMETERS = tuple(_SCALE1_BANDS)


def zero_band(metric: Metric) -> tuple[float | None, float | None]:
    """The raw values a numeric parameter scores 0 for on Scale 1, as (above, up_to): exactly the values
    with above < value <= up_to, after the chart's rounding (half up, to a tenth for temperature, else
    whole numbers). None is an open end."""
    half = Decimal("0.05") if metric is Metric.TEMPERATURE else Decimal("0.5")
    lower = -_INF
    for upper, score in _SCALE1_BANDS[metric]:
        if score == 0:
            return _last_below(lower, half), _last_below(upper, half)
        lower = upper
    raise AssertionError(f"{metric} has no score-0 band")


def _last_below(edge: float, half: Decimal) -> float | None:
    """The largest float that rounds to `edge` or less: just under the first value that rounds past it."""
    if math.isinf(edge):
        return None
    return math.nextafter(float(Decimal(str(edge)) + half), -_INF)


def _banded(value: float, bands: _Bands) -> int:
    for upper, score in bands:
        if value <= upper:
            return score
    raise ValueError(f"value {value} is outside every band")


def _whole(value: float) -> int:
    """Chart values are whole numbers; a wearable's 20.5 /min rounds half up like a person would."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _tenth(value: float) -> float:
    """Temperature is charted at one decimal: 38.05 is 38.1, not 38.0 by binary accident."""
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def score_spo2(spo2: float, *, scale: int, on_oxygen: bool) -> int:
    """Scale 1 ignores oxygen; Scale 2 scores 93% and above only when the patient is on oxygen."""
    value = _whole(spo2)
    if scale == 1:
        return _banded(value, _SPO2_SCALE1)
    if scale != 2:
        raise ValueError(f"SpO2 scale must be 1 or 2, not {scale}")
    if value <= 92:
        return _banded(value, _SPO2_SCALE2_LOW)
    return _banded(value, _SPO2_SCALE2_OXYGEN) if on_oxygen else 0


def score_parameter(metric: Metric, value: ReadingValue, *, scale: int = 1, on_oxygen: bool = False) -> int:
    """The chart score of one parameter; raises ValueError for a value the chart cannot score."""
    if metric is Metric.ON_OXYGEN:
        if not isinstance(value, bool):
            raise ValueError(f"on_oxygen must be true or false, not {value!r}")
        return 2 if value else 0
    if metric is Metric.CONSCIOUSNESS:
        if value not in _ACVPU_SCORE:
            raise ValueError(f"consciousness must be one of {', '.join(ACVPU_LEVELS)}, not {value!r}")
        return _ACVPU_SCORE[str(value)]
    if isinstance(value, bool | str):
        raise ValueError(f"{metric} must be a number, not {value!r}")
    if metric is Metric.SPO2:
        return score_spo2(value, scale=scale, on_oxygen=on_oxygen)
    if metric is Metric.TEMPERATURE:
        return _banded(_tenth(value), _TEMPERATURE)
    tables = {Metric.RESPIRATORY_RATE: _RESPIRATION, Metric.SYSTOLIC_BP: _SYSTOLIC, Metric.HEART_RATE: _PULSE}
    if metric not in tables:
        raise ValueError(f"{metric} is not a NEWS2 parameter")
    return _banded(_whole(value), tables[metric])


def band_for(total: int, red_score: bool) -> Band:
    """Chart 3: a single red score lifts only totals of 0-4; 5 and more keep their own band."""
    if total >= 7:
        return Band.HIGH
    if total >= 5:
        return Band.MEDIUM
    return Band.LOW_MEDIUM if red_score else Band.LOW


def guidance(result: News2Result) -> Guidance | None:
    """Chart 4 for a complete result (total 0 has its own, lighter monitoring); None otherwise."""
    if result.band is None:
        return None
    return _GUIDANCE_ZERO if result.score == 0 else _GUIDANCE[result.band]


def _combine(entries: dict[str, ParameterScore], scale: int) -> News2Result:
    missing = tuple(name for name, p in entries.items() if p.status is Status.MISSING)
    stale = tuple(name for name, p in entries.items() if p.status is Status.STALE)
    red = any(p.score == RED_SCORE for p in entries.values() if p.status is Status.OK)
    if missing or stale:
        known = sum(p.score or 0 for p in entries.values() if p.status is Status.OK)
        return News2Result(None, None, False, entries, missing, stale, red, scale, lower_bound=known)
    total = sum(p.score or 0 for p in entries.values())
    return News2Result(total, band_for(total, red), True, entries, (), (), red, scale)


def _oxygen(values: Mapping[str, ReadingValue | None]) -> bool:
    return values.get(Metric.ON_OXYGEN) is True


def score_values(values: Mapping[str, ReadingValue | None], *, scale: int = 1) -> News2Result:
    """Score a bedside set of values taken now; an absent or None parameter is missing."""
    entries: dict[str, ParameterScore] = {}
    for metric in PARAMETERS:
        value = values.get(metric)
        if value is None:
            entries[str(metric)] = ParameterScore(None, None, Status.MISSING)
        else:
            score = score_parameter(metric, value, scale=scale, on_oxygen=_oxygen(values))
            entries[str(metric)] = ParameterScore(value, score, Status.OK)
    return _combine(entries, scale)


def assess(
    latest: Mapping[str, Observation], *, scale: int, now: datetime, freshness: Mapping[str, timedelta]
) -> News2Result:
    """Score the latest observations; one older than its parameter's freshness window is stale, and one the
    chart cannot score (bad data that slipped past ingest) counts as missing rather than stopping the ward."""
    values: dict[str, ReadingValue | None] = {m: latest[m].value for m in PARAMETERS if m in latest}
    entries: dict[str, ParameterScore] = {}
    for metric in PARAMETERS:
        observation = latest.get(metric)
        if observation is None:
            entries[str(metric)] = ParameterScore(None, None, Status.MISSING)
            continue
        age = now - observation.measured_at
        window = freshness.get(metric)
        status = Status.STALE if window is not None and age > window else Status.OK
        try:
            score: int | None = score_parameter(metric, observation.value, scale=scale, on_oxygen=_oxygen(values))
        except ValueError:
            score, status = None, Status.MISSING
        entries[str(metric)] = ParameterScore(
            observation.value, score, status, age.total_seconds() / 60, observation.measured_at
        )
    return _combine(entries, scale)


def applicability(patient: Patient, now: datetime) -> str | None:
    """Why NEWS2 must not score this patient (not validated under 16 or in pregnancy), or None."""
    if patient.pregnant:
        return "pregnant: NEWS2 is not validated in pregnancy"
    age = patient.age_on(now.date())
    if age is not None and age < MINIMUM_AGE_YEARS:
        return f"aged {age}: NEWS2 is not validated under {MINIMUM_AGE_YEARS}"
    return None


def not_applicable(reason: str, *, scale: int = 1) -> News2Result:
    """A patient NEWS2 must not score: no score, no band, and the reason."""
    return News2Result(None, None, False, {}, (), (), False, scale, applicable=False, reason=reason)


def values_only(result: News2Result, reason: str) -> News2Result:
    """`result` for a patient NEWS2 must not score: the values and their ages stay visible, unscored."""
    unscored = {name: dataclasses.replace(p, score=None) for name, p in result.parameters.items()}
    return dataclasses.replace(not_applicable(reason, scale=result.scale), parameters=unscored)


def score_ranges(
    metric: Metric, low: float, high: float, step: float, scale: int = 1
) -> list[tuple[float, float, int]]:
    """Contiguous value ranges with the same score, found by scoring the axis (the chart is the spec)."""
    ranges: list[tuple[float, float, int]] = []
    for i in range(round((high - low) / step) + 1):
        value = round(low + i * step, 6)
        score = score_parameter(metric, value, scale=scale)
        if ranges and ranges[-1][2] == score:
            ranges[-1] = (ranges[-1][0], value, score)
        else:
            ranges.append((value, value, score))
    return ranges
