"""Failed sign-ins are limited per username and per address, in a sliding window; success clears the user."""

from __future__ import annotations

from vward.api.login_throttle import LoginThrottle


def test_username_is_blocked_after_its_budget_until_the_window_passes() -> None:
    throttle = LoginThrottle(username_failures=3, address_failures=100, window_s=60)
    for t in (0.0, 1.0, 2.0):
        assert throttle.retry_after("Nurse", "10.0.0.1", t) is None
        throttle.failed("nurse", "10.0.0.1", t)
    assert throttle.retry_after("NURSE", "10.0.0.2", 3.0) == 57.0  # case-insensitive, any address
    assert throttle.retry_after("other", "10.0.0.1", 3.0) is None
    assert throttle.retry_after("nurse", "10.0.0.1", 60.5) is None  # the first failure has aged out


def test_address_is_blocked_across_usernames() -> None:
    throttle = LoginThrottle(username_failures=100, address_failures=2, window_s=60)
    throttle.failed("a", "10.0.0.9", 0)
    throttle.failed("b", "10.0.0.9", 1)
    assert throttle.retry_after("c", "10.0.0.9", 2) == 58.0
    assert throttle.retry_after("c", "10.0.0.8", 2) is None


def test_success_clears_the_usernames_count_but_not_the_addresss() -> None:
    throttle = LoginThrottle(username_failures=2, address_failures=3, window_s=60)
    throttle.failed("nurse", "10.0.0.1", 0)
    throttle.failed("nurse", "10.0.0.1", 1)
    throttle.succeeded("nurse")
    assert throttle.retry_after("nurse", "10.0.0.2", 2) is None
    throttle.failed("x", "10.0.0.1", 2)
    assert throttle.retry_after("nurse", "10.0.0.1", 3) is not None
