"""The NEWS2 observation chart as the engine sees it: one column per time step, each scored exactly as the
rules worker would have scored the patient at that column's last reading.

Public API: `ChartColumn` and `chart_columns(observations, start=..., step=..., scale=..., freshness=...,
not_applicable_reason=..., streams=..., samples=...) -> list[ChartColumn]`.

A column carries every parameter's latest value as of its time, not only those measured within it: a
temperature taken three hours earlier still counts (and says how old it is) until it is older than its
freshness window, when it is stale and the column is incomplete, as on the live worklist. A paper chart
leaves empty columns out, and so does this. For a patient NEWS2 must not score (under 16, pregnant) the
columns keep the values and their ages but no score. A continuous stream is scored as the worker scores it
(rules.core.streams): `samples` holds, per stream metric, the samples of its window before each column's
last reading, and the column's value is their summary, its cell showing the median it scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.core.evaluate import stream_values
from rules.core.model import Series
from rules.core.news2 import PARAMETERS, News2Result, assess, values_only
from rules.core.ruleset import News2Stream
from vward.domain.metrics import Metric
from vward.domain.readings import Observation


@dataclass(frozen=True, slots=True)
class ChartColumn:
    """`start` is the column's slot; `at` its newest reading, the moment the set was scored."""

    start: datetime
    at: datetime
    result: News2Result
    measured: frozenset[str]  # parameters with a reading inside this column (the others are carried)


def chart_columns(
    observations: Iterable[Observation],
    *,
    start: datetime,
    step: timedelta,
    scale: int,
    freshness: Mapping[str, timedelta],
    not_applicable_reason: str | None = None,
    streams: Mapping[Metric, News2Stream] | None = None,
    samples: Mapping[str, Series] | None = None,
) -> list[ChartColumn]:
    """Columns for observations in time order; those before `start` only seed the carried values."""
    latest: dict[str, Observation] = {}
    slots: dict[int, list[Observation]] = {}
    parameters = {str(p) for p in PARAMETERS}
    for o in observations:
        if str(o.metric) not in parameters:
            continue
        if o.measured_at < start:
            latest[str(o.metric)] = o
        else:
            slots.setdefault((o.measured_at - start) // step, []).append(o)
    columns = []
    for index in sorted(slots):
        inside = slots[index]
        latest.update({str(o.metric): o for o in inside})
        at = max(o.measured_at for o in inside)
        scored, _ = stream_values(latest, scale, streams or {}, samples or {})
        result = assess(scored, scale=scale, now=at, freshness=freshness)
        if not_applicable_reason:
            result = values_only(result, not_applicable_reason)
        columns.append(ChartColumn(start + index * step, at, result, frozenset(str(o.metric) for o in inside)))
    return columns
