"""Is a wire value one a living patient's sensor could report? Ranges live in METRIC_SPECS."""

from __future__ import annotations

import math

from ingest.core.rejections import Reason, Rejection
from vward.domain.metrics import ACVPU_LEVELS, MetricSpec, ValueKind
from vward.domain.readings import ReadingValue


def check_value(spec: MetricSpec, raw: object) -> ReadingValue | Rejection:
    """The typed value, or why it is refused (wrong type, NaN/inf, outside the plausible range)."""
    if spec.kind is ValueKind.BOOLEAN:
        return raw if isinstance(raw, bool) else Rejection(Reason.BAD_VALUE, f"{spec.metric} takes true or false")
    if spec.kind is ValueKind.ACVPU:
        if isinstance(raw, str) and raw in ACVPU_LEVELS:
            return raw
        return Rejection(Reason.BAD_VALUE, f"{spec.metric} takes one of {','.join(ACVPU_LEVELS)}")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return Rejection(Reason.BAD_VALUE, f"{spec.metric} takes a number")
    try:
        value = float(raw)
    except OverflowError:  # an integer literal too large for a double
        return Rejection(Reason.NOT_FINITE, f"{spec.metric} is not finite")
    if not math.isfinite(value):
        return Rejection(Reason.NOT_FINITE, f"{spec.metric} is not finite")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        return Rejection(Reason.IMPLAUSIBLE, f"{spec.metric} outside {spec.low}..{spec.high}")
    return value
