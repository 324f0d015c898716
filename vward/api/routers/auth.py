"""OAuth2 password flow: username and password in, a short-lived bearer token out; and its refresh."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from vward.api.deps import AppSettings, DbPool, RequestId, oauth2_scheme
from vward.api.login_throttle import LoginThrottle
from vward.api.passwords import verify_password
from vward.api.tokens import InvalidToken, issue_token, read_claims
from vward.domain.users import Principal
from vward.storage.audit import record_audit
from vward.storage.users import UserRecord, get_user

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # as the users table allows
# However active a session, it ends this long after sign-in: a shift, with some slack.
MAX_SESSION = timedelta(hours=12)

_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Wrong username or password, or the user is disabled"},
    429: {"description": "Too many failed sign-ins for this username or address; see Retry-After"},
}


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    username: str


def _token(request: Request, user: UserRecord, ttl: timedelta, now: datetime, signed_in_at: datetime) -> Token:
    token = issue_token(
        request.app.state.secret, username=user.username, role=user.role, now=now, ttl=ttl, signed_in_at=signed_in_at
    )
    return Token(access_token=token, expires_in=int(ttl.total_seconds()), role=user.role.value, username=user.username)


@router.post("/token", response_model=Token, responses=_REFUSED)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    pool: DbPool,
    settings: AppSettings,
    request: Request,
    request_id: RequestId,
) -> Token:
    """Sign in; failed attempts are rate-limited per username and per client address.

    Sign-ins and refused attempts on real accounts are audited (log-in monitoring); attempts on names
    that are no account are only counted, as a mistyped name may be anything, a patient's included.
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(form.username, address, time.monotonic())
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many failed sign-ins; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    # A name no user can have is not looked up (it may hold bytes PostgreSQL refuses), only refused.
    user = await get_user(pool, form.username) if USERNAME.match(form.username) else None
    valid = verify_password(user.password_hash if user else None, form.password)
    if user is not None:
        refused = not valid or user.disabled
        await record_audit(
            pool,
            principal=Principal(user.username, user.role),
            request_id=request_id,
            action="auth.sign_in_refused" if refused else "auth.sign_in",
            object_type="session",
            detail={"address": address, "disabled": user.disabled},
        )
    if user is None or not valid or user.disabled:
        throttle.failed(form.username, address, time.monotonic())
        log.info("sign-in refused from %s", address)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    throttle.succeeded(form.username)
    now = datetime.now(UTC)
    return _token(request, user, timedelta(minutes=settings.token_ttl_minutes), now, now)


@router.post(
    "/refresh",
    response_model=Token,
    responses={401: {"description": "The token has expired (idle timeout), the session is over, or the user is gone"}},
)
async def refresh(
    token: Annotated[str, Depends(oauth2_scheme)], pool: DbPool, settings: AppSettings, request: Request
) -> Token:
    """Trade a valid token for a fresh one: activity keeps a session alive up to its absolute limit."""
    try:
        claims = read_claims(request.app.state.secret, token)
    except InvalidToken:
        claims = None
    now = datetime.now(UTC)
    user = await get_user(pool, claims.username) if claims else None
    if claims is None or user is None or user.disabled or now - claims.signed_in_at >= MAX_SESSION:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Session expired; sign in again", headers={"WWW-Authenticate": "Bearer"}
        )
    ttl = min(timedelta(minutes=settings.token_ttl_minutes), claims.signed_in_at + MAX_SESSION - now)
    return _token(request, user, ttl, now, claims.signed_in_at)
