"""The value a continuous stream gives NEWS2: a robust summary of its last samples, not its last sample.

A wearable sends a value every few seconds; scoring each one made a respiratory rate moving between 20
and 21 open and clear an alert hundreds of times an hour, and one probe artefact (a heart rate of 160
among 72s) open a medium alert. For each stream the rule set declares (`news2.streams`):

- `window_seconds`: the samples that count, back from the newest one;
- `min_samples`: fewer than this in the window and the newest value is used as measured (a spot check, a
  cuff, a thermometer, a clinician's entry is always taken as measured);
- `spike`: an interior sample further than this from the mean of its two neighbours, while those two agree
  within it, is an isolated spike: rejected as artefact and counted (never silently).

The value is the median of the samples kept (documented in docs/clinical-rules.md, "Values from streams").
Two safeguards keep a deterioration from being smoothed away: a sustained change moves the median within
half the window, and a severe value confirmed by the next sample is used at once (`confirmed_severe`).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.core.model import Series

SEVERE = 3  # a NEWS2 parameter score of 3 (a red score) is acted on when two samples in a row show it


@dataclass(frozen=True, slots=True)
class StreamWindow:
    window: timedelta
    min_samples: int
    spike: float


@dataclass(frozen=True, slots=True)
class StreamValue:
    value: float
    measured_at: datetime  # of the newest sample
    samples: int  # kept in the window
    artefacts: int  # rejected as isolated spikes
    confirmed_severe: bool  # the two newest samples both score severe: used at once, not the median


def _time(point: tuple[datetime, float]) -> datetime:
    return point[0]


def artefacts(values: list[float], spike: float) -> set[int]:
    """Indexes of isolated spikes: interior samples that disagree with two neighbours that agree."""
    return {
        i
        for i in range(1, len(values) - 1)
        if abs(values[i + 1] - values[i - 1]) <= spike and abs(values[i] - (values[i - 1] + values[i + 1]) / 2) > spike
    }


def summarise(series: Series, stream: StreamWindow, score: Callable[[float], int]) -> StreamValue | None:
    """The stream's value as of its newest sample, or None when the window holds too few samples (then the
    newest value is taken as measured). `score` is the parameter's NEWS2 score of a value."""
    if not series:
        return None
    newest = series[-1][0]
    window = [v for _, v in series[bisect_left(series, newest - stream.window, key=_time) :]]  # in time order
    if len(window) < stream.min_samples:
        return None
    rejected = artefacts(window, stream.spike)
    kept = [v for i, v in enumerate(window) if i not in rejected]
    value = statistics.median(kept)
    last_two = kept[-2:]
    confirmed = len(last_two) == 2 and all(score(v) >= SEVERE for v in last_two) and score(value) < SEVERE
    if confirmed:  # the less extreme of the two: still severe, and what two samples agree on
        value = min(last_two, key=lambda v: abs(v - value))
    return StreamValue(value, newest, len(kept), len(rejected), confirmed)
