"""Whatever a sign-in form carries, checking the password answers True or False, never an error."""

from __future__ import annotations

import pytest

from vward.api.passwords import hash_password, verify_password


@pytest.mark.parametrize("attempt", ["\ud800abc", "a\x00b", "", "x" * 10_000])
def test_odd_attempts_are_simply_wrong(attempt: str) -> None:
    assert verify_password(hash_password("the real one"), attempt) is False


def test_non_ascii_passwords_verify() -> None:
    assert verify_password(hash_password("pässwörd-ü"), "pässwörd-ü")
