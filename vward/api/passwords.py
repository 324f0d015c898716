"""Password hashing with argon2id (OWASP's first choice), shared by the API and `vward user`."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()

# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("no-such-user-placeholder")


def _bytes(password: str) -> bytes:
    """UTF-8, passing lone surrogates (a form can carry them) through instead of failing on them."""
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    return _HASHER.hash(_bytes(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, _bytes(password)) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
