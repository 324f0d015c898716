"""Batches shrink to the time budget on a busy machine and grow back, within 1..rules_batch_size."""

from __future__ import annotations

from rules.worker import next_batch_limit


def test_a_slow_batch_shrinks_the_next_to_fit_the_budget() -> None:
    assert next_batch_limit(50, 2.5, 0.1, 50) == 2  # 50 ms a patient: two fit in 100 ms


def test_never_below_one_patient() -> None:
    assert next_batch_limit(1, 3.0, 0.1, 50) == 1


def test_a_fast_batch_grows_the_next_up_to_the_configured_most() -> None:
    assert next_batch_limit(4, 0.008, 0.1, 50) == 50
    assert next_batch_limit(4, 0.040, 0.1, 50) == 10


def test_a_batch_too_fast_to_time_allows_the_most() -> None:
    assert next_batch_limit(3, 0.0, 0.1, 20) == 20
