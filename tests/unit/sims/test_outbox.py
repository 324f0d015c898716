"""Store-and-forward: held until confirmed, resent after a timeout or reconnect, bounded, faults on first send."""

from __future__ import annotations

import json

import pytest

from device_sims.core.outbox import MAX_BACKOFF, Outbox


def test_a_new_message_goes_once_and_again_only_after_the_timeout() -> None:
    box = Outbox(capacity=10, resend_after=30.0)
    box.add("m1", b"{}", not_before=0.0)
    assert [(t.msg_id, t.kind) for t in box.take_due(1.0)] == [("m1", "first")]
    assert box.take_due(30.0) == []
    assert [(t.msg_id, t.kind) for t in box.take_due(31.0)] == [("m1", "resend")]
    assert box.take_due(60.0) == []
    assert len(box) == 1


def test_a_confirmed_message_is_never_resent() -> None:
    box = Outbox(capacity=10, resend_after=30.0)
    box.add("m1", b"{}", not_before=0.0)
    box.add("m2", b"{}", not_before=0.0)
    box.take_due(0.0)
    assert box.confirm("m1")
    assert not box.confirm("m1")
    assert [t.msg_id for t in box.take_due(100.0)] == ["m2"]
    assert len(box) == 1


def test_a_reconnect_resends_everything_unconfirmed_oldest_first() -> None:
    box = Outbox(capacity=10, resend_after=30.0)
    for m in ("m1", "m2"):
        box.add(m, b"{}", not_before=0.0)
    box.take_due(0.0)
    box.add("m3", b"{}", not_before=0.0)
    box.requeue()
    assert [(t.msg_id, t.kind) for t in box.take_due(1.0)] == [("m1", "resend"), ("m2", "resend"), ("m3", "first")]


def test_a_delayed_message_waits_and_is_overtaken() -> None:
    box = Outbox(capacity=10, resend_after=30.0)
    box.add("late", b"{}", not_before=5.0)
    box.add("next", b"{}", not_before=1.0)
    assert [t.msg_id for t in box.take_due(1.0)] == ["next"]
    assert [t.msg_id for t in box.take_due(5.0)] == ["late"]


def test_duplicates_and_a_damaged_first_transmission() -> None:
    payload = json.dumps({"msg_id": "m1", "readings": []}).encode()
    box = Outbox(capacity=10, resend_after=30.0)
    box.add("m1", payload, not_before=0.0, copies=2, damaged=True)
    first, copy = box.take_due(0.0)
    assert first.kind == "first"
    with pytest.raises(json.JSONDecodeError):
        json.loads(first.payload)
    assert (copy.kind, copy.payload) == ("duplicate", payload)
    (again,) = box.take_due(30.0)
    assert again.payload == payload


def test_memory_is_bounded_by_dropping_the_oldest() -> None:
    box = Outbox(capacity=3, resend_after=30.0)
    for i in range(5):
        box.add(f"m{i}", b"{}", not_before=0.0)
    assert len(box) == 3
    assert box.dropped == 2
    assert [t.msg_id for t in box.take_due(0.0)] == ["m2", "m3", "m4"]


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="outbox"):
        Outbox(capacity=0, resend_after=1.0)
    with pytest.raises(ValueError, match="outbox"):
        Outbox(capacity=1, resend_after=0.0)


def test_resends_back_off_while_nothing_is_confirmed_and_recover_on_a_confirmation() -> None:
    box = Outbox(capacity=10, resend_after=10.0)
    box.add("m1", b"{}", not_before=0.0)
    box.take_due(0.0)
    resent_at = [t for t in range(0, 2000) if box.take_due(float(t))]
    assert resent_at[:4] == [10, 30, 70, 150]  # 10 s, then 20, 40, 80 ...
    assert resent_at[-1] - resent_at[-2] == 10 * MAX_BACKOFF
    box.add("m2", b"{}", not_before=2000.0)
    box.take_due(2000.0)
    assert box.confirm("m1")
    assert [t.msg_id for t in box.take_due(2010.0)] == ["m2"]  # back to the base timeout
