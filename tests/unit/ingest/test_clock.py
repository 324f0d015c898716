"""Device clocks: a fast clock is corrected from the first message, provably and to the millisecond; a slow
clock or a delayed link is flagged, never corrected (that would make readings look fresher than proven);
the correction moves only on agreeing evidence, so stored-and-forwarded bursts and resends do not move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.batch import Entry, decode
from ingest.clocks import Clocks
from ingest.core.clock import AGREE, IN_SYNC, LOWER_SAMPLES, LOWER_SPAN, STEP, DeviceClock, corrected, observe
from ingest.core.decode import ReadingsMessage
from ingest.core.skew import FUTURE
from ingest.core.topics import device_topic
from ingest.core.wire import encode_readings
from ingest.inbox import Delivery
from vward.domain.metrics import Metric

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
DELAY = timedelta(milliseconds=40)


def live(clock: DeviceClock, offset: timedelta, start: datetime, count: int, every: float = 5.0) -> DeviceClock:
    """`count` messages sent every `every` s by a device whose clock runs `offset` ahead, each 40 ms in transit."""
    for i in range(count):
        sent = start + timedelta(seconds=i * every)
        clock = observe(clock, sent + offset, sent + DELAY)
    return clock


def test_a_clock_in_sync_is_left_alone() -> None:
    clock = live(DeviceClock(), timedelta(seconds=2), T0, 20)
    assert clock.correction == timedelta(0)
    assert not clock.skewed
    assert clock.estimate == timedelta(seconds=2) - DELAY


def test_a_fast_clock_is_corrected_from_its_first_message() -> None:
    clock = live(DeviceClock(), timedelta(minutes=10), T0, 1)
    assert clock.correction == timedelta(minutes=10) - DELAY
    assert clock.skewed


@pytest.mark.parametrize(
    ("lag", "correction"),
    [
        (IN_SYNC, timedelta(0)),
        (IN_SYNC + timedelta(milliseconds=1), IN_SYNC + timedelta(milliseconds=1)),
    ],
)
def test_only_a_lag_beyond_network_jitter_is_corrected(lag: timedelta, correction: timedelta) -> None:
    assert observe(DeviceClock(), T0 + lag, T0).correction == correction


@pytest.mark.parametrize(("more", "moves"), [(STEP, False), (STEP + timedelta(milliseconds=1), True)])
def test_the_correction_moves_up_only_by_more_than_a_step(more: timedelta, moves: bool) -> None:
    clock = observe(DeviceClock(), T0 + timedelta(minutes=10), T0)
    clock = observe(clock, T0 + timedelta(seconds=5, minutes=10) + more, T0 + timedelta(seconds=5))
    assert clock.correction == (timedelta(minutes=10) + more if moves else timedelta(minutes=10))


def test_a_slow_clock_is_flagged_but_never_corrected() -> None:
    """Behind by 10 minutes, or every message 10 minutes in transit: one-way times cannot tell them apart."""
    clock = live(DeviceClock(), -timedelta(minutes=10), T0, 30)
    assert clock.correction == timedelta(0)
    assert clock.skewed
    assert clock.estimate == -timedelta(minutes=10) - DELAY


def test_a_stored_and_forwarded_burst_does_not_move_the_correction() -> None:
    """A fast device comes back after an hour and sends its backlog in a second: old sent_at, lags spread."""
    offset = timedelta(minutes=10)
    clock = live(DeviceClock(), offset, T0, 10)
    before = clock.correction
    back = T0 + timedelta(hours=1, minutes=1)
    for i in range(720):  # an hour of 5-s messages, oldest first, 1 ms apart
        sent = T0 + timedelta(minutes=1, seconds=5 * i)
        clock = observe(clock, sent + offset, back + timedelta(milliseconds=i))
        assert clock.correction == before
    assert live(clock, offset, back + timedelta(seconds=1), 5).correction == before


def _set_back(span: timedelta, spread: timedelta) -> DeviceClock:
    """A clock 10 minutes fast set right (NTP), then LOWER_SAMPLES messages over `span`, lags `spread` apart."""
    clock = live(DeviceClock(), timedelta(minutes=10), T0, 3)
    step = span / (LOWER_SAMPLES - 1)
    for i in range(LOWER_SAMPLES):
        received = T0 + timedelta(minutes=1) + i * step
        clock = observe(clock, received - (spread if i % 2 else timedelta(0)), received)
    return clock


def test_a_clock_set_right_drops_its_correction_on_agreeing_evidence() -> None:
    assert _set_back(LOWER_SPAN, AGREE).correction == timedelta(0)
    assert _set_back(LOWER_SPAN - timedelta(milliseconds=4), AGREE).correction > timedelta(0)
    assert _set_back(LOWER_SPAN, AGREE + timedelta(milliseconds=1)).correction > timedelta(0)


def _message(offset: timedelta, measured: datetime) -> bytes:
    return encode_readings("m-1", measured + offset, [(Metric.HEART_RATE, 72, measured + offset)])


def test_corrected_readings_are_on_the_platform_clock_keep_the_raw_time_and_lose_the_future_flag() -> None:
    received = T0 + DELAY
    entry = decode(
        "p/",
        Delivery(device_topic("p/", "d-1", "readings"), _message(timedelta(minutes=7), T0), 1, 1, 1, received, 0.0),
    )
    assert isinstance(entry.decoded, ReadingsMessage)
    raw = entry.decoded.readings[0]
    assert FUTURE in raw.flags
    fixed = corrected(entry.decoded, timedelta(minutes=7)).readings[0]
    assert fixed.measured_at == T0
    assert fixed.measured_at + (fixed.clock_correction or timedelta(0)) == raw.measured_at
    assert FUTURE not in fixed.flags
    assert corrected(entry.decoded, timedelta(0)) is entry.decoded


def _entry(offset: timedelta, measured: datetime, received: datetime, device: str = "d-1") -> Entry:
    return decode(
        "p/", Delivery(device_topic("p/", device, "readings"), _message(offset, measured), 1, 1, 1, received, 0.0)
    )


def test_ingest_resumes_stored_corrections_and_a_resend_is_corrected_as_it_was_first() -> None:
    offset = timedelta(minutes=7)
    first = Clocks({})
    stored = first.correct(_entry(offset, T0, T0 + DELAY))
    changes = first.take_changes()
    assert [(c.device_id, c.correction) for c in changes] == [("d-1", offset - DELAY)]
    assert first.take_changes() == []  # the next, in-step message changes nothing worth writing
    first.correct(_entry(offset, T0 + timedelta(seconds=5), T0 + timedelta(seconds=5) + DELAY))
    assert first.take_changes() == []

    restarted = Clocks({"d-1": (changes[0].correction, changes[0].estimate)})
    resent = restarted.correct(_entry(offset, T0, T0 + timedelta(minutes=3)))
    assert isinstance(stored.decoded, ReadingsMessage)
    assert isinstance(resent.decoded, ReadingsMessage)
    assert resent.decoded.readings[0].measured_at == stored.decoded.readings[0].measured_at
