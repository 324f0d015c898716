"""How the tests wait: for a condition, until a deadline sized for a loaded machine, never a fixed sleep.

A deadline costs time only when the condition will never hold, so each one is generous: a budget in seconds
that passes on a busy 2-core machine, times `TIME_SCALE`. `VWARD_TEST_TIME_SCALE` (default 1) lengthens every
deadline at once, for a slower runner; `.ci/run` raises it. A wait that runs out names what did not happen.
Polling intervals are not deadlines and do not scale.

How big the slow tests are (a soak's length, a fault run's readings) is one setting too: `VWARD_TEST_SIZE`,
`ci` by default (what `make test` and CI run), `full` for the sizes their issues were measured at.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def _time_scale() -> float:
    raw = os.environ.get("VWARD_TEST_TIME_SCALE", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise RuntimeError(f"VWARD_TEST_TIME_SCALE must be a number, not {raw!r}") from None
    if scale < 1:
        raise RuntimeError(f"VWARD_TEST_TIME_SCALE only lengthens deadlines: {scale} < 1")
    return scale


def _full_size() -> bool:
    raw = os.environ.get("VWARD_TEST_SIZE", "ci")
    if raw not in ("ci", "full"):
        raise RuntimeError(f"VWARD_TEST_SIZE is 'ci' or 'full', not {raw!r}")
    return raw == "full"


TIME_SCALE = _time_scale()
FULL_SIZE = _full_size()


def budget(seconds: float) -> float:
    """A deadline of `seconds` on a busy machine, lengthened by `TIME_SCALE`."""
    return seconds * TIME_SCALE


def sized(ci: T, full: T) -> T:
    """The size a slow test runs at: `ci` in `make test`, `full` under `VWARD_TEST_SIZE=full`."""
    return full if FULL_SIZE else ci


class Deadline:
    """A point `budget(seconds)` from now, and the failure that names what had not happened by then."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = budget(seconds)
        self.what = what
        self.at = time.monotonic() + self.seconds

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def fail(self, detail: str = "") -> AssertionError:
        return AssertionError(f"{self.what}: not within {self.seconds:.0f} s{f' ({detail})' if detail else ''}")


def wait_until(probe: Callable[[], T], *, within: float, what: str, every: float = 0.1) -> T:
    """Call `probe` until it returns something truthy, and return that; fail naming `what` at the deadline."""
    deadline = Deadline(within, what)
    while True:
        value = probe()
        if value:
            return value
        if deadline.passed():
            raise deadline.fail(f"last: {value!r}")
        time.sleep(every)


async def eventually(probe: Callable[[], Awaitable[T]], *, within: float, what: str, every: float = 0.05) -> T:
    """Await `probe()` until it gives something truthy, and return that; fail naming `what` at the deadline."""
    deadline = Deadline(within, what)
    while True:
        value = await probe()
        if value:
            return value
        if deadline.passed():
            raise deadline.fail(f"last: {value!r}")
        await asyncio.sleep(every)


async def until(condition: Callable[[], T], *, within: float, what: str, every: float = 0.05) -> T:
    """`wait_until` inside an event loop: check `condition` between the loop's other work."""

    async def probe() -> T:
        return condition()

    return await eventually(probe, within=within, what=what, every=every)


async def finishes(awaitable: Awaitable[T], *, within: float, what: str) -> T:
    """`awaitable`'s result, or a failure naming `what` if it has not finished by the deadline."""
    deadline = Deadline(within, what)
    try:
        return await asyncio.wait_for(awaitable, deadline.seconds)
    except TimeoutError:
        raise deadline.fail() from None
