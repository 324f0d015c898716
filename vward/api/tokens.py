"""Short-lived signed access tokens (JWT, HS256) that carry the user's name, role and sign-in time.

The token's lifetime is the idle timeout: a client that keeps working trades its token for a fresh one
(`POST /api/v1/auth/refresh`) before it expires; one that goes quiet must sign in again. The sign-in time
travels unchanged through refreshes so that a session also has an absolute limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from vward.domain.alerts import Role

_ALGORITHM = "HS256"
_AUDIENCE = "vward-api"


class InvalidToken(Exception):
    """The token is missing, expired, forged or malformed."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    username: str
    role: Role
    signed_in_at: datetime


def issue_token(
    secret: str, *, username: str, role: Role, now: datetime, ttl: timedelta, signed_in_at: datetime | None = None
) -> str:
    """A token valid for `ttl` from `now`; `signed_in_at` (default `now`) is kept across refreshes."""
    claims = {
        "sub": username,
        "role": role.value,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "auth_time": int((signed_in_at or now).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_claims(secret: str, token: str) -> TokenClaims:
    """The claims of a valid, unexpired token; raises InvalidToken otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], audience=_AUDIENCE)
        signed_in_at = datetime.fromtimestamp(int(claims.get("auth_time", claims["iat"])), UTC)
        return TokenClaims(str(claims["sub"]), Role(claims["role"]), signed_in_at)
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def read_token(secret: str, token: str) -> tuple[str, Role]:
    """(username, role) of a valid token; raises InvalidToken otherwise."""
    claims = read_claims(secret, token)
    return claims.username, claims.role
