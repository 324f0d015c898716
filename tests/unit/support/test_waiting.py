"""The tests' waits: deadlines scale with one setting, a wait returns the moment its condition holds, and
one that runs out names what did not happen."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support import waiting
from tests.support.waiting import eventually, finishes, until, wait_until


def test_the_time_scale_lengthens_deadlines_and_never_shortens_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VWARD_TEST_TIME_SCALE", "2.5")
    assert waiting._time_scale() == 2.5
    monkeypatch.delenv("VWARD_TEST_TIME_SCALE")
    assert waiting._time_scale() == 1.0
    for bad in ("0.5", "fast"):
        monkeypatch.setenv("VWARD_TEST_TIME_SCALE", bad)
        with pytest.raises(RuntimeError, match="VWARD_TEST_TIME_SCALE"):
            waiting._time_scale()


def test_the_size_setting_is_ci_unless_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VWARD_TEST_SIZE", raising=False)
    assert waiting._full_size() is False
    monkeypatch.setenv("VWARD_TEST_SIZE", "full")
    assert waiting._full_size() is True
    monkeypatch.setenv("VWARD_TEST_SIZE", "huge")
    with pytest.raises(RuntimeError, match="VWARD_TEST_SIZE"):
        waiting._full_size()


def test_budget_multiplies_by_the_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting, "TIME_SCALE", 3.0)
    assert waiting.budget(20) == 60
    assert waiting.Deadline(20, "x").seconds == 60


def test_a_wait_returns_the_first_truthy_value() -> None:
    calls = itertools.count(1)
    assert wait_until(lambda: (n := next(calls)) >= 3 and n, within=30, what="three calls", every=0.001) == 3


def test_a_wait_that_runs_out_names_what_did_not_happen_and_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"the kettle boiling: not within 0 s \(last: 0\)"):
        wait_until(lambda: 0, within=0.05, what="the kettle boiling", every=0.01)


async def test_the_async_waits_behave_the_same() -> None:
    ticks = itertools.count()

    async def probe() -> int:
        return next(ticks)

    assert await eventually(probe, within=30, what="a tick", every=0.001) == 1
    assert await until(lambda: next(ticks) > 3, within=30, what="four ticks", every=0.001) is True
    with pytest.raises(AssertionError, match="nothing: not within"):
        await eventually(lambda: asyncio.sleep(0, result=None), within=0.05, what="nothing", every=0.01)


async def test_finishes_gives_the_result_or_names_what_hung() -> None:
    assert await finishes(asyncio.sleep(0, result="done"), within=30, what="a quick sleep") == "done"
    with pytest.raises(AssertionError, match="a stuck task: not within"):
        await finishes(asyncio.Event().wait(), within=0.05, what="a stuck task")
