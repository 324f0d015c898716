"""Rule sets for ops: versions (the API says which one runs), a YAML draft editor with the API's validation
messages, a burden preview and a diff against the live set of what the editor holds (saved or not), and
publishing with a reason, by someone other than the draft's author when four eyes is on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash_mantine_components as dmc
import yaml
from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update
from pydantic import TypeAdapter, ValidationError

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.figures.burden import preview_costs, preview_figure
from dashboard.formatting import DAY_TIME, local_time, severity_name
from vward.contract.rulesets import (
    CandidateRequest,
    PreviewRequest,
    Publication,
    RuleSetDetail,
    RuleSetDiff,
    RuleSetPreview,
    RuleSetStatus,
    RuleSetSummary,
    ShadowCount,
    ShadowSwitch,
)

STATUS_TEXT: dict[RuleSetStatus, str] = {"draft": "✎ Draft", "retired": "○ Retired"}
VERSIONS = TypeAdapter(list[RuleSetSummary])
DETAIL = TypeAdapter(RuleSetDetail)
SHADOW = TypeAdapter(list[ShadowCount])
PREVIEW = TypeAdapter(RuleSetPreview)
DIFF = TypeAdapter(RuleSetDiff)


def status_text(version: RuleSetSummary) -> str:
    """Only the version the rules worker evaluates is live (the API's `live`); a published version of
    another rule set is published but never runs."""
    if version.status == "published":
        return "● Published (live)" if version.live else "◐ Published, not live"
    return STATUS_TEXT[version.status]


def authorship(version: RuleSetSummary) -> str:
    edited = f", last edited by {version.edited_by}" if version.edited_by else ""
    return f"by {version.created_by}{edited}"


def ruleset_yaml(body: dict[str, Any]) -> str:
    """The stored document back as YAML, in its own key order, for people to edit."""
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)


def versions_table(rulesets: list[RuleSetSummary], selected: int | None, tz: str) -> Any:
    head = html.Tr([html.Th(h) for h in ("Rule set", "Version", "Status", "Created", "Published", "Reason", "")])
    rows = [
        html.Tr(
            [
                html.Td(r.name),
                html.Td(f"v{r.version}"),
                html.Td(status_text(r) + (" · shadow" if r.shadow else "")),
                html.Td(f"{local_time(r.created_at, tz, DAY_TIME)} {authorship(r)}"),
                html.Td(f"{local_time(r.published_at, tz, DAY_TIME)} by {r.published_by}" if r.published_at else ""),
                html.Td(r.publish_reason or ""),
                html.Td(
                    dmc.Button(
                        "Open",
                        id={"type": "ruleset-open", "id": r.id},
                        size="xs",
                        n_clicks=0,
                        variant="filled" if r.id == selected else "outline",
                        **{"aria-label": f"Open {r.name} version {r.version}"},
                    )
                ),
            ],
            className=f"ruleset-{r.status}",
        )
        for r in rulesets
    ]
    return dmc.Table([html.Thead(head), html.Tbody(rows)], striped=True, id="rulesets-table")


def layout() -> html.Div:
    return html.Div(
        [
            dcc.Store(id="ruleset-selected"),
            dcc.Store(id="rulesets-version"),
            dmc.Title("Rule sets", order=1, size="h2"),
            html.Div(id="rulesets-list", style={"marginTop": "0.5rem"}),
            dmc.Paper(
                dmc.Stack(
                    [
                        dmc.Title("Open a version to read or edit it", order=2, size="h4", id="ruleset-title"),
                        dmc.Textarea(
                            id="ruleset-yaml",
                            label="Rule set (YAML)",
                            autosize=True,
                            minRows=12,
                            maxRows=16,
                            className="yaml-editor",
                            spellCheck=False,
                        ),
                        dmc.Group(
                            [
                                dmc.Button("Save as new draft", id="ruleset-save", n_clicks=0),
                                dmc.Button(
                                    "Preview alert burden", id="ruleset-preview-run", n_clicks=0, variant="outline"
                                ),
                                dmc.NumberInput(
                                    id="ruleset-preview-nurses",
                                    label="Nurses on duty",
                                    value=2,
                                    min=1,
                                    max=100,
                                    w=140,
                                ),
                                dmc.Button("Compare with live", id="ruleset-diff-run", n_clicks=0, variant="outline"),
                                dmc.Button(
                                    "Start shadow run",
                                    id="ruleset-shadow",
                                    n_clicks=0,
                                    variant="outline",
                                    disabled=True,
                                ),
                            ]
                        ),
                        html.Div(id="ruleset-message", role="status"),
                        html.Div(id="ruleset-shadow-alerts"),
                        html.Div(id="ruleset-preview"),
                        html.Div(id="ruleset-diff"),
                        html.Div(id="ruleset-authorship"),
                        dmc.Group(
                            [
                                dmc.TextInput(
                                    id="ruleset-reason",
                                    label="Reason for publishing (audited)",
                                    w=480,
                                    placeholder="e.g. raise SpO2 low threshold after the May review",
                                ),
                                dmc.Button("Publish this draft", id="ruleset-publish", n_clicks=0, color="red"),
                            ],
                            align="flex-end",
                        ),
                    ]
                ),
                withBorder=True,
                p="md",
                mt="md",
            ),
        ]
    )


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("rulesets-list", "children"),
        Input("rulesets-version", "data"),
        Input("ruleset-selected", "data"),
        State("session", "data"),
    )
    async def list_versions(_: Any, selected: int | None, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update
        try:
            rulesets = await ctx.api.read(session["token"], "/rulesets", VERSIONS)
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Could not load rule sets")
        return versions_table(rulesets, selected, ctx.tz)

    @app.callback(
        Output("ruleset-selected", "data"),
        Input({"type": "ruleset-open", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def open_version(clicks: list[int | None]) -> Any:
        trigger = callback_context.triggered_id
        if not isinstance(trigger, dict) or not any(clicks) or not callback_context.triggered[0]["value"]:
            return no_update
        return trigger["id"]

    @app.callback(
        Output("ruleset-title", "children"),
        Output("ruleset-yaml", "value"),
        Output("ruleset-save", "children"),
        Output("ruleset-publish", "disabled"),
        Output("ruleset-preview", "children"),
        Output("ruleset-shadow", "children"),
        Output("ruleset-shadow", "disabled"),
        Output("ruleset-shadow-alerts", "children"),
        Output("ruleset-diff", "children"),
        Output("ruleset-authorship", "children"),
        Input("ruleset-selected", "data"),
        Input("rulesets-version", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def show_version(selected: int | None, _: Any, session: dict[str, Any] | None) -> Any:
        if not session or selected is None:
            return (no_update,) * 10
        try:
            detail = await ctx.api.read(session["token"], f"/rulesets/{selected}", DETAIL)
            shadow: list[ShadowCount] | None = None
            if detail.shadow:
                shadow = await ctx.api.read(session["token"], f"/rulesets/{selected}/shadow-alerts", SHADOW, hours=24)
        except ApiError as exc:
            return exc.detail, "", "Save as new draft", True, None, "Start shadow run", True, None, None, None
        draft = detail.status == "draft"
        title = f"{detail.name} v{detail.version} · {status_text(detail)}"
        if detail.shadow:
            title += " · running in shadow"
        return (
            title,
            ruleset_yaml(detail.body),
            "Save draft" if draft else "Save as new draft",
            not draft or detail.four_eyes_refusal is not None,
            None,
            "Stop shadow run" if detail.shadow else "Start shadow run",
            not draft,
            None if shadow is None else shadow_table(shadow),
            None,
            publishing_note(detail),
        )

    @app.callback(
        Output("rulesets-version", "data", allow_duplicate=True),
        Output("ruleset-message", "children", allow_duplicate=True),
        Input("ruleset-shadow", "n_clicks"),
        State("ruleset-shadow", "children"),
        State("ruleset-selected", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def switch_shadow(_: int, label: str, selected: int | None, session: dict[str, Any] | None) -> Any:
        """A shadow run evaluates the draft on live data and records would-be alerts; it never notifies."""
        if not session or selected is None:
            return no_update, no_update
        start = label.startswith("Start")
        try:
            await ctx.api.submit(session["token"], f"/rulesets/{selected}", DETAIL, ShadowSwitch(shadow=start), "PATCH")
        except ApiError as exc:
            return no_update, dmc.Alert(exc.detail, color="red", title="Shadow run not changed")
        done = "is running in shadow: its would-be alerts appear below" if start else "no longer runs in shadow"
        return datetime.now(UTC).isoformat(), dmc.Alert(f"The draft {done}.", color="green", id="ruleset-shadow-done")

    @app.callback(
        Output("ruleset-message", "children"),
        Output("ruleset-selected", "data", allow_duplicate=True),
        Output("rulesets-version", "data"),
        Input("ruleset-save", "n_clicks"),
        State("ruleset-yaml", "value"),
        State("ruleset-selected", "data"),
        State("ruleset-save", "children"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def save(_: int, text: str | None, selected: int | None, label: str, session: dict[str, Any] | None) -> Any:
        if not session or not (text or "").strip():
            return dmc.Alert("Open a version first, then edit it.", color="gray"), no_update, no_update
        replace = label == "Save draft" and selected is not None
        try:
            saved = await ctx.api.send_yaml(
                session["token"],
                "PUT" if replace else "POST",
                f"/rulesets/{selected}" if replace else "/rulesets",
                text or "",
                DETAIL,
            )
        except ApiError as exc:
            return validation_message(exc), no_update, no_update
        message = dmc.Alert(
            f"Saved {saved.name} v{saved.version} as a draft. Preview it, then publish with a reason.",
            color="green",
            id="ruleset-saved",
        )
        return message, saved.id, datetime.now(UTC).isoformat()

    @app.callback(
        Output("ruleset-preview", "children", allow_duplicate=True),
        Input("ruleset-preview-run", "n_clicks"),
        State("ruleset-yaml", "value"),
        State("ruleset-selected", "data"),
        State("ruleset-preview-nurses", "value"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def preview(
        _: int, text: str | None, selected: int | None, nurses: Any, session: dict[str, Any] | None
    ) -> Any:
        """Replays what the editor holds, saved or not: a preview of the last saved text would mislead."""
        if not session or selected is None:
            return no_update
        try:
            body = PreviewRequest(draft=unsaved(text), nurses=nurses if isinstance(nurses, int) else 2)
            result = await ctx.api.submit(session["token"], f"/rulesets/{selected}/preview", PREVIEW, body)
        except ValidationError as err:
            return refused_here(err, "Preview failed")
        except ApiError as exc:
            return failure(exc, "Preview failed")
        return dmc.Stack(
            [
                dcc.Graph(figure=preview_figure(result), config={"displayModeBar": False}, id="ruleset-preview-graph"),
                preview_costs(result),
            ]
        )

    @app.callback(
        Output("ruleset-diff", "children", allow_duplicate=True),
        Input("ruleset-diff-run", "n_clicks"),
        State("ruleset-yaml", "value"),
        State("ruleset-selected", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def compare(_: int, text: str | None, selected: int | None, session: dict[str, Any] | None) -> Any:
        if not session or selected is None:
            return no_update
        try:
            body = CandidateRequest(draft=unsaved(text))
            answer = await ctx.api.submit(session["token"], f"/rulesets/{selected}/diff", DIFF, body)
        except ValidationError as err:
            return refused_here(err, "Comparison failed")
        except ApiError as exc:
            return failure(exc, "Comparison failed")
        return diff_view(answer)

    @app.callback(
        Output("ruleset-message", "children", allow_duplicate=True),
        Output("rulesets-version", "data", allow_duplicate=True),
        Output("ruleset-selected", "data", allow_duplicate=True),
        Input("ruleset-publish", "n_clicks"),
        State("ruleset-reason", "value"),
        State("ruleset-selected", "data"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def publish(_: int, reason: str | None, selected: int | None, session: dict[str, Any] | None) -> Any:
        if not session or selected is None:
            return no_update, no_update, no_update
        if len((reason or "").strip()) < 3:
            return dmc.Alert("Say why this version should go live.", color="red"), no_update, no_update
        try:
            publication = Publication(reason=reason or "")
            done = await ctx.api.submit(session["token"], f"/rulesets/{selected}/publish", DETAIL, publication)
        except ValidationError as err:
            return refused_here(err, "Not published"), no_update, no_update
        except ApiError as exc:
            return dmc.Alert(exc.detail, color="red", title="Not published"), no_update, no_update
        message = dmc.Alert(published_text(done), color="green", id="ruleset-published")
        return message, datetime.now(UTC).isoformat(), done.id


def shadow_table(counts: list[ShadowCount]) -> Any:
    """Would-be alerts of a shadow run in the last 24 h, per rule: what going live would have added."""
    if not counts:
        return dmc.Text("Shadow run: no would-be alerts in the last 24 hours.", id="ruleset-shadow-counts")
    head = html.Tr([html.Th(h) for h in ("Rule", "Severity", "Would-be alerts", "Patients")])
    rows = [
        html.Tr(
            [
                html.Td(c.rule_id),
                html.Td(severity_name(c.severity)),
                html.Td(str(c.opened)),
                html.Td(str(c.patients)),
            ]
        )
        for c in counts
    ]
    return dmc.Stack(
        [dmc.Title("Shadow run, last 24 hours", order=3, size="h5"), dmc.Table([html.Thead(head), html.Tbody(rows)])],
        id="ruleset-shadow-counts",
    )


def validation_message(exc: ApiError) -> Any:
    """The API lists every problem; show each on its own line, as a linter would."""
    lines = [line for line in exc.detail.splitlines() if line.strip()]
    return dmc.Alert(
        html.Ul([html.Li(line) for line in lines]), color="red", title="The rule set is not valid", id="ruleset-invalid"
    )


def unsaved(text: str | None) -> str | None:
    """The editor's text for the API to judge; an empty editor (None) means the version as stored."""
    return text if (text or "").strip() else None


def refused_here(err: ValidationError, title: str) -> Any:
    """A body the API's own request model refuses is not sent; its problems show as the API would list them."""
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()]
    return dmc.Alert(html.Ul([html.Li(p) for p in problems]), color="red", title=title)


def failure(exc: ApiError, title: str) -> Any:
    """A refused text lists its problems line by line; anything else is one message."""
    return validation_message(exc) if exc.status == 422 else dmc.Alert(exc.detail, color="red", title=title)


def published_text(done: RuleSetDetail) -> str:
    name = f"{done.name} v{done.version}"
    if done.live:
        return f"{name} is now live."
    return f"{name} is published but not live: the rules worker evaluates another rule set."


def publishing_note(detail: RuleSetDetail) -> Any:
    """Who wrote the version, and, under four eyes, why this user may not publish it."""
    written = dmc.Text(f"Written {authorship(detail)}.", size="sm", id="ruleset-author")
    if detail.four_eyes_refusal is None:
        return written
    refusal = dmc.Alert(detail.four_eyes_refusal, color="yellow", title="You cannot publish this draft")
    return dmc.Stack([written, html.Div(refusal, id="ruleset-four-eyes")], gap="xs")


def diff_view(answer: RuleSetDiff) -> Any:
    """Per rule what changes against the live version, then the YAML diff for the detail."""
    live = f"{answer.live.name} v{answer.live.version}"
    if not answer.changes:
        return dmc.Text(f"No rule differs from the live version, {live}.", id="ruleset-diff-summary")
    items = [html.Li(f"{c.section}{'' if c.item is None else ' ' + c.item}: {c.change}") for c in answer.changes]
    return dmc.Stack(
        [
            dmc.Title(f"{answer.candidate} against the live version, {live}", order=3, size="h5"),
            html.Ul(items, id="ruleset-diff-summary"),
            html.Pre(answer.unified, id="ruleset-diff-text", style={"maxHeight": "24rem", "overflow": "auto"}),
        ]
    )
