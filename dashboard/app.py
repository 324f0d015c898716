"""Mount the Dash dashboard on the platform's FastAPI app at /dash/."""

from __future__ import annotations

import dash_mantine_components as dmc
import httpx
from dash import Dash, dcc, html
from dash.backends._fastapi import reset_current_request, set_current_request
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from dashboard import alert_actions, errors, session, shell
from dashboard.api_client import ApiClient
from dashboard.context import Context
from dashboard.pages import admissions, alerts, burden, data_quality, patient, population, rules, worklist
from vward.settings import Settings

# Shade 9 of every palette under white text passes WCAG AA (Mantine's default shade 6 does not).
THEME = {
    "primaryColor": "indigo",
    "primaryShade": 9,
    "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
}


def mount_dashboard(app: FastAPI) -> Dash:
    """Dash shares the FastAPI server; its callbacks reach data only through the REST API."""
    settings: Settings = app.state.settings
    api = ApiClient(httpx.ASGITransport(app=app), on_unauthorised=session.expire_session)
    ctx = Context(api=api, tz=settings.timezone)
    dash_app = Dash(
        __name__,
        server=app,  # type: ignore[arg-type]  # Dash 4 accepts a FastAPI server; its hints predate that
        url_base_pathname="/dash/",
        title="virtual ward",
        suppress_callback_exceptions=True,
        update_title=None,  # type: ignore[arg-type]  # None keeps the tab title still while updating
        on_error=errors.on_callback_error,
    )
    dash_app.layout = dmc.MantineProvider(
        dmc.AppShell(
            [
                dcc.Location(id="url"),
                dcc.Store(id="session", storage_type="session"),
                dcc.Store(id="viewer"),
                shell.grid_preload(),
                shell.header(),
                dmc.AppShellMain(
                    [
                        html.Div(id=errors.BANNER_ID, role="alert"),
                        alert_actions.action_frame(),
                        html.Main(id="page"),
                    ]
                ),
            ],
            header={"height": {"base": 112, "sm": 60}},  # a phone wraps title, pages and sign-in onto lines
            padding="md",
        ),
        theme=THEME,
    )

    @app.get("/dash/{path:path}", include_in_schema=False)
    async def deep_link(path: str, request: Request) -> HTMLResponse:
        """Any /dash/... URL loads the app: Dash adds such a route only on lifespan startup, which we run without."""
        token = set_current_request(request)  # type: ignore[no-untyped-call]  # Dash's FastAPI backend is untyped
        try:
            # Dash's own first-request hook (it registers the assets) runs only on its own routes.
            dash_app._setup_server()  # type: ignore[no-untyped-call]
            return HTMLResponse(dash_app.index())  # type: ignore[no-untyped-call]
        finally:
            reset_current_request(token)  # type: ignore[no-untyped-call]

    pages: dict[str, shell.PageLayout] = {
        "worklist": worklist.first_view(ctx),
        "patient": shell.static(patient.layout),
        "alerts": shell.static(lambda _route: alerts.layout()),
        "rules": shell.static(lambda _route: rules.layout()),
        "burden": shell.static(lambda _route: burden.layout()),
        "data_quality": shell.static(lambda _route: data_quality.layout()),
        "admissions": shell.static(lambda _route: admissions.layout()),
        "population": shell.static(lambda _route: population.layout()),
    }
    shell.register(dash_app, pages)
    session.register(dash_app, ctx)
    alert_actions.register(dash_app, ctx)
    for page in (worklist, patient, alerts, rules, burden, data_quality, admissions, population):
        page.register(dash_app, ctx)
    return dash_app
