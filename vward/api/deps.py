"""Typed FastAPI dependencies: the pool, the signed-in principal, role gates and the request id."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from vward.api.tokens import InvalidToken, read_token
from vward.domain.alerts import Role
from vward.domain.users import Principal
from vward.settings import Settings
from vward.storage.users import get_user

log = logging.getLogger(__name__)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")
_MAY_BREAK_GLASS = frozenset({Role.CLINICIAN, Role.ADMIN})
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbPool = Annotated[asyncpg.Pool, Depends(get_pool)]
AppSettings = Annotated[Settings, Depends(get_settings)]

_UNAUTHORISED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not signed in, or the session has expired",
    headers={"WWW-Authenticate": "Bearer"},
)


async def current_principal(
    token: Annotated[str, Depends(oauth2_scheme)],
    pool: DbPool,
    request: Request,
    break_glass: Annotated[
        str | None,
        Header(
            alias="X-Break-Glass-Reason",
            min_length=10,
            max_length=500,
            description="Emergency access to a patient outside your wards (clinicians and admins): the reason, "
            "which is written to every audit row of the request and flagged for review",
        ),
    ] = None,
) -> Principal:
    """The user behind a valid token; a disabled user loses access at once, not at token expiry."""
    try:
        username, _ = read_token(request.app.state.secret, token)
    except InvalidToken:
        raise _UNAUTHORISED from None
    user = await get_user(pool, username)
    if user is None or user.disabled:
        raise _UNAUTHORISED
    if break_glass is not None:
        if user.role not in _MAY_BREAK_GLASS:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Only clinicians and admins may break the glass")
        log.warning("break-glass access by %s: %s %s", user.username, request.method, request.url.path)
    return Principal(username=user.username, role=user.role, wards=user.wards, break_glass=break_glass)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"Requires role: {', '.join(roles)}")
        return principal

    return check


CLINICAL_ROLES = (Role.CLINICIAN, Role.ADMIN)  # who may act on alerts and patients; viewers only look
ClinicalUser = Annotated[Principal, Depends(require_roles(*CLINICAL_ROLES))]
ReaderUser = Annotated[Principal, Depends(require_roles(Role.CLINICIAN, Role.ADMIN, Role.VIEWER))]
OpsUser = Annotated[Principal, Depends(require_roles(Role.OPS, Role.ADMIN))]
AdminUser = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


def request_id(request: Request) -> str:
    """The caller's X-Request-ID when well-formed, else a new one; it links audit rows to a request."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex


RequestId = Annotated[str, Depends(request_id)]
