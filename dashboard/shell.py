"""The frame around every page: header, role-aware navigation and the page router."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, dcc, html

from dashboard.api_client import ApiError
from dashboard.routing import Route, href, nav_pages, resolve
from dashboard.session import login_form, session_expired

PageLayout = Callable[[Route, dict[str, Any]], Awaitable[Any]]
NAV_LABEL: dict[str, Any] = {"aria-label": "Pages"}
HIDDEN_FROM_READERS: dict[str, Any] = {"aria-hidden": "true"}


def header() -> dmc.AppShellHeader:
    return dmc.AppShellHeader(
        dmc.Group(
            [
                dmc.Title("virtual ward", order=2, size="h4"),
                html.Nav(id="nav", **NAV_LABEL),
                html.Div(id="whoami"),
            ],
            justify="space-between",
            wrap="wrap",
            gap="xs",
            h="100%",
            px="md",
            className="header-row",
        )
    )


def grid_preload() -> html.Div:
    """An empty, invisible grid in the frame: AG Grid's code (a separate 0.9 MB chunk, fetched when a grid
    first mounts) loads and starts while the first page's data is on its way, not after it arrives."""
    grid = dag.AgGrid(id="grid-preload", rowData=[], columnDefs=[], style={"height": 0})
    return html.Div(grid, style={"height": 0, "overflow": "hidden"}, **HIDDEN_FROM_READERS)


def nav_links(role: str, current: str) -> list[Any]:
    return [
        dcc.Link(
            page.label,
            href=href(page.link),
            className="nav-link active" if page.name == current else "nav-link",
        )
        for page in nav_pages(role)
    ]


def not_found() -> dmc.Alert:
    return dmc.Alert("There is no such page. Use the navigation above.", title="Page not found", color="gray")


def denied(reason: str) -> dmc.Alert:
    return dmc.Alert(reason, title="Not available to your role", color="red", id="access-denied")


# The signed-in identity, changed only when the user or role changes: a renewed token rewrites the session
# store but must not rebuild the page (scroll, selection and input stay) or run the router twice on load.
VIEWER_OF_SESSION = """
function (session, viewer) {
    const next = session ? session.username + "\\n" + session.role : null;
    return next === viewer ? window.dash_clientside.no_update : next;
}
"""


def register(app: Dash, pages: dict[str, PageLayout]) -> None:
    app.clientside_callback(  # type: ignore[no-untyped-call]  # Dash's hints stop short of this method
        VIEWER_OF_SESSION, Output("viewer", "data"), Input("session", "data"), State("viewer", "data")
    )

    @app.callback(
        Output("page", "children"),
        Output("nav", "children"),
        Output("whoami", "children"),
        Input("url", "pathname"),
        Input("viewer", "data"),
        State("session", "data"),
    )
    async def route(pathname: str | None, _viewer: str | None, session: dict[str, Any] | None) -> Any:
        """The page router: the sign-in form, a role's page, or a clear refusal (the API also returns 403)."""
        if not session:
            return login_form(), [], []
        target = resolve(pathname, session["role"])
        whoami = dmc.Group(
            [
                dmc.Text(f"{session['username']} ({session['role']})", size="sm"),
                dmc.Button("Sign out", id="sign-out", variant="outline", size="xs"),
            ]
        )
        nav = nav_links(session["role"], target.page)
        if target.denied:
            return denied(target.denied), nav, whoami
        layout = pages.get(target.page)
        try:
            return (await layout(target, session) if layout else not_found()), nav, whoami
        except ApiError as exc:
            if exc.status != 401:
                raise
            return session_expired(), [], []


def static(build: Callable[[Route], Any]) -> PageLayout:
    """A page whose layout needs no data up front (its callbacks load it)."""

    async def page(route: Route, _session: dict[str, Any]) -> Any:
        return build(route)

    return page
