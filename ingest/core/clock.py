"""Device clocks: each device's offset estimated from its messages, and the correction readings get.

A message cannot arrive before it was sent, so every message's lag, `sent_at - received_at`, is the device
clock's offset minus a transport delay >= 0: a lower bound on the offset. The largest lag over recent
messages is the tightest bound (NTP's clock filter keeps the sample of least delay for the same reason), and
on a live link it is within milliseconds of the offset.

- **Ahead** (the largest lag is positive): provably fast. The correction is that lag, so `measured_at`
  becomes the platform's time; raw device time = corrected `measured_at` + correction, both kept.
- **Behind** (every recent lag negative): a slow clock and a delayed link look exactly alike from one-way
  timestamps. Correcting would make readings look fresher than anything proves, which could hide a
  deterioration, so they keep their device times (scored, shown with their age) and the device is flagged.

The applied correction moves only when the evidence disagrees with it by more than STEP: up at once (a
lower bound is proof), down only when LOWER_SAMPLES consecutive lags, arriving over at least LOWER_SPAN,
agree within AGREE (a clock set back; a burst of stored-and-forwarded messages, whose lags are spread by
their ages, never looks like that). So a device's correction is piecewise constant, a resent message is
corrected as it was first (de-duplication holds), and a lag below IN_SYNC is network jitter, not skew.
Pure: times are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from ingest.core.decode import ReadingsMessage
from ingest.core.skew import skew_flags

IN_SYNC: Final = timedelta(seconds=30)
STEP: Final = timedelta(seconds=30)
AGREE: Final = timedelta(seconds=5)
LOWER_SAMPLES: Final = 5
LOWER_SPAN: Final = timedelta(seconds=20)
RECENT: Final = 8  # lags kept per device; the estimate is their largest

_ZERO: Final = timedelta(0)
_MS: Final = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Lag:
    lag: timedelta  # sent_at - received_at
    received_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceClock:
    """`correction`: subtracted from the device's times (>= 0, piecewise constant); `recent`: newest last."""

    correction: timedelta = _ZERO
    recent: tuple[Lag, ...] = ()

    @property
    def estimate(self) -> timedelta | None:
        """The device clock's offset as far as recent messages bound it (None before any message)."""
        return max(s.lag for s in self.recent) if self.recent else None

    @property
    def skewed(self) -> bool:
        """Ahead or behind by more than network jitter explains: worth telling ops."""
        estimate = self.estimate
        return estimate is not None and abs(estimate) >= IN_SYNC


def observe(clock: DeviceClock, sent_at: datetime, received_at: datetime) -> DeviceClock:
    """The clock after one more message."""
    recent = (*clock.recent, Lag(sent_at - received_at, received_at))[-RECENT:]
    return replace(clock, correction=_correction(clock.correction, recent), recent=recent)


def _correction(current: timedelta, recent: tuple[Lag, ...]) -> timedelta:
    newest = recent[-1].lag
    if newest > current + STEP:
        return _applied(newest)
    tail = recent[-LOWER_SAMPLES:]
    if len(tail) < LOWER_SAMPLES or tail[-1].received_at - tail[0].received_at < LOWER_SPAN:
        return current
    highest, lowest = max(s.lag for s in tail), min(s.lag for s in tail)
    if highest < current - STEP and highest - lowest <= AGREE:
        return _applied(highest)
    return current


def _applied(bound: timedelta) -> timedelta:
    """A correction of a provably fast clock, in whole milliseconds (a stored, repeatable amount) rounded up so
    that a corrected time is never after the arrival; none otherwise."""
    if bound < IN_SYNC:
        return _ZERO
    return -(-bound // _MS) * _MS


def corrected(message: ReadingsMessage, correction: timedelta) -> ReadingsMessage:
    """The message with each reading's `measured_at` moved onto the platform's clock and its skew flags
    judged again there; the amount rides on each reading so the raw device time is kept."""
    if not correction:
        return message
    readings = []
    for r in message.readings:
        at = r.measured_at - correction
        flags = skew_flags(at, r.received_at) if r.received_at is not None else r.flags
        readings.append(replace(r, measured_at=at, flags=flags, clock_correction=correction))
    return replace(message, readings=tuple(readings))
