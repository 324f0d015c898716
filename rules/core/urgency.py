"""Which readings jump the evaluation queue: those outside their metric's quiet range, the values that
cannot open or worsen an alert on their own under a rule set (NEWS2 parameter score 0 on Scale 1, inside
every threshold of every pathway, awake, on air, no concern pressed).

The ranges only order the queue: a patient whose new readings are all quiet is still evaluated, after the
urgent ones. So a ward streaming normal readings faster than one worker evaluates them delays the normal,
not the deteriorating. NEWS2 ranges are exact to the chart's rounding on Scale 1, so Scale 2 patients in
their target range (88-92%) are urgent more often than needed. Per-patient threshold overrides and trends
have no range here: a narrowed override or a weight trend is evaluated in queue order."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rules.core.news2 import NUMERIC_PARAMETERS, zero_band
from rules.core.ruleset import RuleSet
from vward.domain.metrics import Metric


@dataclass(frozen=True, slots=True)
class QuietRange:
    """A value is unusual when `value <= above`, `value > up_to`, or (text metrics) not in `usual_text`."""

    metric: Metric
    above: float | None = None
    up_to: float | None = None
    usual_text: tuple[str, ...] | None = None

    def is_unusual(self, value: float | str | bool) -> bool:
        if isinstance(value, str):
            return self.usual_text is not None and value not in self.usual_text
        number = float(value)
        return (self.above is not None and number <= self.above) or (self.up_to is not None and number > self.up_to)


def quiet_ranges(ruleset: RuleSet) -> dict[Metric, QuietRange]:
    """The range of every metric a value of which can raise an alert under `ruleset`."""
    ranges: dict[Metric, QuietRange] = {
        Metric.ON_OXYGEN: QuietRange(Metric.ON_OXYGEN, up_to=0.0),  # booleans are stored as 1.0 / 0.0
        Metric.PATIENT_CONCERN: QuietRange(Metric.PATIENT_CONCERN, up_to=0.0),
        Metric.CONSCIOUSNESS: QuietRange(Metric.CONSCIOUSNESS, usual_text=("A",)),
    }
    for metric in NUMERIC_PARAMETERS:
        ranges[metric] = QuietRange(metric, *zero_band(metric))
    thresholds = ruleset.thresholds + [t for p in ruleset.pathways.values() for t in p.thresholds]
    for threshold in thresholds:
        current = ranges.get(threshold.metric, QuietRange(threshold.metric))
        above, up_to = current.above, current.up_to
        if threshold.low:  # the first bound is the innermost
            above = max(above if above is not None else -math.inf, threshold.low[0].at_or_below)
        if threshold.high:  # at_or_above fires at the bound itself: just below it is the last quiet value
            last_quiet = math.nextafter(threshold.high[0].at_or_above, -math.inf)
            up_to = min(up_to if up_to is not None else math.inf, last_quiet)
        ranges[threshold.metric] = QuietRange(threshold.metric, above, up_to, current.usual_text)
    return ranges
