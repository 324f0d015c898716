"""The FastAPI application: API routers, health, metrics and the Dash dashboard at /dash/."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import make_asgi_app

import vward
from rules.service import RuleSetCache
from vward.api.login_throttle import LoginThrottle
from vward.api.openapi_errors import document_errors
from vward.api.routers import (
    alerts,
    audit_trail,
    auth,
    fhir,
    health,
    news2_chart,
    notes,
    observations,
    operations,
    patients,
    population,
    rulesets,
    vital_series,
)
from vward.api.security_headers import SecurityHeaders
from vward.settings import Settings

API_DESCRIPTION = (
    "Remote patient monitoring: the triage list (worst first, with NEWS2), patient detail and readings, "
    "alerts and their actions, rule sets, admissions and devices. Every read of patient data and every "
    "action is audit-logged. Authenticate with the OAuth2 password flow at /api/v1/auth/token."
)


def create_app(settings: Settings, pool: asyncpg.Pool, secret: str) -> FastAPI:
    """Build the API around an existing pool; bootstrap owns the pool and mounts the dashboard."""
    # /docs and /redoc serve Swagger UI and ReDoc from the package, not a CDN: hospital networks are often
    # closed to the internet, and the IT team connecting a system reads its API there.
    app = FastAPIOffline(title="virtual ward", version=vward.__version__, description=API_DESCRIPTION)
    app.state.settings = settings
    app.state.pool = pool
    app.state.secret = secret
    app.state.login_throttle = LoginThrottle()
    app.state.rulesets = RuleSetCache(settings.rules_ruleset)  # the chart scores as the worker does
    document_errors(app)
    app.add_middleware(SecurityHeaders)
    for module in (
        health,
        auth,
        patients,
        news2_chart,
        vital_series,
        observations,
        notes,
        alerts,
        rulesets,
        fhir,
        audit_trail,
        operations,
        population,
    ):
        app.include_router(module.router)
    app.mount("/metrics", make_asgi_app())

    # Registered after every router, so it only catches what none of them matched.
    @app.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown_api(path: str, request: Request) -> JSONResponse:
        """Unknown API paths answer 404 JSON, never the dashboard's HTML."""
        return JSONResponse({"detail": f"No such API path: /api/{path}"}, status_code=404)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dash/")

    return app
