"""Where a ward chart's axis sits for each numeric NEWS2 parameter, and the score of each stretch of it:
the NEWS2 chart and the trend charts shade the same ranges, from the same table (rules.core.news2)."""

from __future__ import annotations

from rules.core.news2 import NUMERIC_PARAMETERS, score_ranges
from vward.contract.patients import ScoreRange
from vward.domain.metrics import Metric

# (low, high, the step its values are scored at) per parameter.
AXES: dict[Metric, tuple[float, float, float]] = {
    Metric.RESPIRATORY_RATE: (4.0, 32.0, 1.0),
    Metric.SPO2: (80.0, 100.0, 1.0),
    Metric.SYSTOLIC_BP: (70.0, 230.0, 1.0),
    Metric.HEART_RATE: (30.0, 150.0, 1.0),
    Metric.TEMPERATURE: (34.0, 40.5, 0.1),
}


def score_bands(scale: int) -> dict[str, list[ScoreRange]]:
    """Each numeric parameter's axis cut into the ranges NEWS2 scores alike, on the patient's SpO2 scale."""
    return {str(m): _bands(m, scale) for m in NUMERIC_PARAMETERS}


def _bands(metric: Metric, scale: int) -> list[ScoreRange]:
    low, high, step = AXES[metric]
    return [ScoreRange(low=a, high=b, score=s) for a, b, s in score_ranges(metric, low, high, step, scale)]
