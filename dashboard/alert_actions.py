"""Alert actions in one or two clicks: acknowledge and escalate at once, resolve and snooze ask only what they need.

The buttons appear wherever an alert is shown (inbox, patient view); one modal and one set of callbacks serve
them all, and every action goes through the API, which audits it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update

from dashboard.api_client import ApiError
from dashboard.context import Context

# Free-text boxes keep one height while typing (the user can drag them taller): the buttons below never move.
FIXED_TEXTAREA = {"input": {"height": "5.5rem"}}

HIGH = 3
SNOOZE_HOURS = ["1", "2", "4", "8", "12", "24"]  # the API allows at most 24 h
VERBS = {"acknowledge": "Acknowledge", "escalate": "Escalate", "resolve": "Resolve…", "snooze": "Snooze…"}
DONE = {"acknowledge": "acknowledged", "escalate": "escalated", "resolve": "resolved", "snooze": "snoozed"}


ACTING_ROLES = frozenset({"clinician", "admin"})  # as the API's alert actions allow; viewers only look


def available_actions(alert: dict[str, Any], role: str) -> list[str]:
    """What this person can still do: nothing once resolved; no snooze for high severity (it must be seen)."""
    state = alert["state"]
    if state == "resolved" or role not in ACTING_ROLES:
        return []
    actions = ["acknowledge"] if state in ("open", "escalated", "snoozed") else []
    actions += ["escalate", "resolve"]
    if alert["severity"] < HIGH and state != "snoozed":
        actions.append("snooze")
    return actions


def action_buttons(alert: dict[str, Any], role: str) -> dmc.Group:
    return dmc.Group(
        [
            dmc.Button(
                VERBS[action],
                id={"type": "alert-action", "action": action, "alert": alert["id"]},
                size="xs",
                variant="filled" if action == "acknowledge" else "outline",
                color="red" if action == "escalate" else "indigo",
                n_clicks=0,
                **{"aria-label": f"{VERBS[action].rstrip('…')} alert {alert['id']}: {alert['title']}"},
            )
            for action in available_actions(alert, role)
        ],
        gap="xs",
    )


def action_modal() -> dmc.Modal:
    """One dialog for the actions that need words: the outcome of a resolve, the reason and length of a snooze."""
    return dmc.Modal(
        id="action-modal",
        title="Alert action",
        children=dmc.Stack(
            [
                dmc.Textarea(
                    id="action-outcome",
                    label="Outcome (what was done or found)",
                    resize="vertical",
                    styles=FIXED_TEXTAREA,
                ),
                dmc.TextInput(id="action-reason", label="Reason for snoozing"),
                dmc.Select(id="action-hours", label="Snooze for (hours)", data=SNOOZE_HOURS, value="2"),
                dmc.Text(id="action-modal-error", c="red.9", size="sm"),
                dmc.Button("Confirm", id="action-confirm", n_clicks=0),
            ]
        ),
    )


def body_for(action: str, outcome: str | None, reason: str | None, hours: str | None, now: datetime) -> dict[str, Any]:
    """The request body an action needs, and nothing more."""
    if action == "resolve":
        return {"outcome": (outcome or "").strip()}
    if action == "snooze":
        return {"reason": (reason or "").strip(), "until": (now + timedelta(hours=int(hours or "2"))).isoformat()}
    return {}


def register(app: Dash, ctx: Context) -> None:
    async def perform(session: dict[str, Any], action: str, alert_id: int, body: dict[str, Any]) -> str | None:
        """None on success, else the API's reason (e.g. 409 already resolved), shown to the user."""
        try:
            await ctx.api.post(session["token"], f"/alerts/{alert_id}/{action}", body)
        except ApiError as exc:
            return exc.detail
        return None

    @app.callback(
        Output("action-pending", "data"),
        Output("action-modal", "opened"),
        Output("action-modal", "title"),
        Output("action-feedback", "children"),
        Output("alerts-version", "data"),
        Input({"type": "alert-action", "action": ALL, "alert": ALL}, "n_clicks"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def clicked(clicks: list[int | None], session: dict[str, Any] | None) -> Any:
        trigger = callback_context.triggered_id
        if (
            not session
            or not isinstance(trigger, dict)
            or not any(clicks)
            or not callback_context.triggered[0]["value"]
        ):
            return (no_update,) * 5
        action, alert_id = trigger["action"], int(trigger["alert"])
        if action in ("resolve", "snooze"):
            title = f"{VERBS[action].rstrip('…')} alert {alert_id}"
            return {"action": action, "alert": alert_id}, True, title, no_update, no_update
        error = await perform(session, action, alert_id, {})
        feedback = feedback_for(action, alert_id, error)
        return no_update, False, no_update, feedback, datetime.now(UTC).isoformat()

    @app.callback(
        Output("action-modal", "opened", allow_duplicate=True),
        Output("action-modal-error", "children"),
        Output("action-feedback", "children", allow_duplicate=True),
        Output("alerts-version", "data", allow_duplicate=True),
        Input("action-confirm", "n_clicks"),
        State("action-pending", "data"),
        State("action-outcome", "value"),
        State("action-reason", "value"),
        State("action-hours", "value"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def confirmed(
        _: int,
        pending: dict[str, Any] | None,
        outcome: str | None,
        reason: str | None,
        hours: str | None,
        session: dict[str, Any] | None,
    ) -> Any:
        if not session or not pending:
            return (no_update,) * 4
        action, alert_id = pending["action"], int(pending["alert"])
        body = body_for(action, outcome, reason, hours, datetime.now(UTC))
        if action == "resolve" and not body["outcome"]:
            return no_update, "Say what was done or found before resolving.", no_update, no_update
        if action == "snooze" and not body["reason"]:
            return no_update, "Give a reason for snoozing.", no_update, no_update
        error = await perform(session, action, alert_id, body)
        if error:
            return no_update, error, no_update, no_update
        return False, "", feedback_for(action, alert_id, None), datetime.now(UTC).isoformat()

    @app.callback(
        Output("action-outcome", "display"),
        Output("action-reason", "display"),
        Output("action-hours", "display"),
        Output("action-outcome", "value"),
        Output("action-reason", "value"),
        Input("action-pending", "data"),
    )
    def ask_only_what_is_needed(pending: dict[str, Any] | None) -> tuple[str, str, str, str, str]:
        action = (pending or {}).get("action")
        shown = {True: "block", False: "none"}
        return shown[action == "resolve"], shown[action == "snooze"], shown[action == "snooze"], "", ""


def feedback_for(action: str, alert_id: int, error: str | None) -> Any:
    if error:
        return dmc.Alert(error, title=f"Could not {action} alert {alert_id}", color="red", withCloseButton=True)
    return dmc.Alert(f"Alert {alert_id} {DONE[action]}.", color="green", withCloseButton=True, id="action-done")


def action_frame() -> html.Div:
    """The modal and the stores the actions share; part of every page's frame."""
    return html.Div(
        [
            action_modal(),
            html.Div(id="action-feedback", role="status"),
            dcc.Store(id="action-pending"),
            dcc.Store(id="alerts-version"),
        ]
    )
