"""Sign-in and sign-out: the bearer token lives in the tab's session storage, never in a URL."""

from __future__ import annotations

import time
from typing import Any

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html, no_update, set_props

from dashboard.api_client import ApiError
from dashboard.context import Context


def expire_session() -> None:
    """Called on any 401 from the API: clearing the store sends the router back to the sign-in form."""
    set_props("session", {"data": None})


RENEW_AFTER_S = 10 * 60  # renew a token on activity once it is this old (tokens live 30 min by default)


def session_from(token: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": token["access_token"],
        "username": token["username"],
        "role": token["role"],
        "renewed_at": time.time(),
    }


def session_expired() -> html.Div:
    """The sign-in form, and a marker whose arrival clears the stale token (see `register`)."""
    return html.Div([login_form("Your session has ended. Sign in again."), dcc.Store(id="session-expired", data=True)])


def login_form(message: str = "") -> Any:
    return dmc.Center(
        dmc.Paper(
            html.Div(
                dmc.Stack(
                    [
                        dmc.Title("Sign in", order=1, size="h2"),
                        dmc.TextInput(id="login-username", label="Username", autoComplete="username", required=True),
                        dmc.PasswordInput(
                            id="login-password", label="Password", autoComplete="current-password", required=True
                        ),
                        html.Button("Sign in", id="login-submit", n_clicks=0, className="primary-button"),
                        html.Div(message, id="login-message", role="alert", className="error-text"),
                    ]
                ),
                id="login-form",
            ),
            shadow="sm",
            p="xl",
            w=360,
            withBorder=True,
        ),
        mih="60vh",
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("session", "data"),
        Output("login-message", "children"),
        Input("login-submit", "n_clicks"),
        Input("login-password", "n_submit"),
        State("login-username", "value"),
        State("login-password", "value"),
        prevent_initial_call=True,
    )
    async def sign_in(_clicks: int, _enter: int | None, username: str | None, password: str | None) -> tuple[Any, str]:
        if not username or not password:
            return no_update, "Enter your username and password."
        try:
            token = await ctx.api.login(username, password)
        except ApiError as exc:
            return no_update, exc.detail
        return session_from(token), ""

    @app.callback(
        Output("session", "data", allow_duplicate=True),
        Input("sign-out", "n_clicks"),
        prevent_initial_call=True,
    )
    def sign_out(clicks: int | None) -> Any:
        return None if clicks else no_update

    @app.callback(
        Output("session", "data", allow_duplicate=True),
        Input("url", "pathname"),
        Input("alerts-version", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def keep_alive(_: Any, __: Any, session: dict[str, Any] | None) -> Any:
        """Navigating or acting on an alert is activity: renew the token, within the API's session limits."""
        if not session or time.time() - session.get("renewed_at", 0) < RENEW_AFTER_S:
            return no_update
        try:
            token = await ctx.api.request("POST", "/api/v1/auth/refresh", session["token"])
        except ApiError as exc:
            return None if exc.status == 401 else no_update
        return session_from(token)

    @app.callback(
        Output("session", "data", allow_duplicate=True),
        Input("session-expired", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def forget_expired(expired: bool | None) -> Any:
        return None if expired else no_update
