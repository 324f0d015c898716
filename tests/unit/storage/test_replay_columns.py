"""Replay columns arrive in (time, metric) order even if the database's aggregate did not keep it."""

from __future__ import annotations

from vward.storage.evaluation import in_time_order


def test_columns_already_in_order_are_returned_as_they_are() -> None:
    columns = ([1, 2, 2], ["spo2", "heart_rate", "spo2"], [97.0, 70.0, 96.0], [None, None, None])
    assert in_time_order(columns) is columns


def test_columns_out_of_order_are_sorted_together_by_time_then_metric() -> None:
    columns = ([3, 1, 2, 1], ["spo2", "spo2", "consciousness", "heart_rate"], [95.0, 97.0, float("nan"), 70.0])
    texts: list[str | None] = [None, None, "A", None]
    times, metrics, values, ordered_texts = in_time_order((*columns, texts))
    assert times == [1, 1, 2, 3]
    assert metrics == ["heart_rate", "spo2", "consciousness", "spo2"]
    assert [v for v in values if v == v] == [70.0, 97.0, 95.0]  # NaN (no number) stays with its text row
    assert ordered_texts == [None, None, "A", None]
