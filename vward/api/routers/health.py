"""Liveness and readiness for load balancers and process supervisors."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vward.api.deps import DbPool

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "The database does not answer"}})
async def healthz(pool: DbPool) -> JSONResponse:
    try:
        await pool.fetchval("SELECT 1", timeout=2)
    except (OSError, TimeoutError) as exc:
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok"})
