"""Alert actions a nurse cannot misread: one dialog that names the patient (name, MRN, age) and the alert,
takes a note on every action, a coded outcome on resolve and a reason and length on snooze.

The buttons appear wherever an alert is shown (inbox, patient view) and offer exactly what the API says the
person may do next (`AlertOut.allowed_actions`, from the lifecycle table). Every action goes through the API,
which audits it. After an action its result is kept in the `alerts-version` store: the pages show it beside
the alert it was taken on and keep their rows in place, so the next click lands where the nurse aims.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update
from pydantic import BaseModel, TypeAdapter, ValidationError

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.formatting import local_time
from vward.contract.alerts import AlertDetail, AlertOut, Note, Resolution, Snooze
from vward.domain.alerts import OUTCOME_LABELS

# Free-text boxes keep one height while typing (the user can drag them taller): the buttons below never move.
FIXED_TEXTAREA = {"input": {"height": "5.5rem"}}

SNOOZE_HOURS = ["1", "2", "4", "8", "12", "24"]  # the API allows at most 24 h
VERBS: dict[str, str] = {
    "acknowledge": "Acknowledge",
    "escalate": "Escalate",
    "resolve": "Resolve…",
    "snooze": "Snooze…",
}
DONE: dict[str, str] = {
    "acknowledge": "acknowledged",
    "escalate": "escalated",
    "resolve": "resolved",
    "snooze": "snoozed",
}
OUTCOME_OPTIONS = [{"value": str(code), "label": label} for code, label in OUTCOME_LABELS.items()]
HOLD_AFTER_ACTION = timedelta(seconds=30)  # rows stay where they were this long after an action
ALERT = TypeAdapter(AlertDetail)
LAST_ACTION = TypeAdapter(AlertOut)


def about(alert: AlertOut) -> str:
    """'Red Reyes · MRN 0042 · 67 y': enough to tell two patients of one name apart."""
    if alert.patient is None:
        return "the platform"
    age = "age unknown" if alert.patient.age_years is None else f"{alert.patient.age_years} y"
    return f"{alert.patient.display_name} · MRN {alert.patient.mrn} · {age}"


def resolve_warning(alert: AlertOut) -> str | None:
    """Resolving an alert whose condition holds now opens a new one at the next evaluation (an alert is never
    suppressed): say so before the person confirms, rather than after."""
    if alert.auto_resolve or alert.cleared_at is not None or alert.absent_since is not None:
        return None
    return (
        "Its condition is still present: resolving opens a new alert at the next reading. If you are"
        " handling it, acknowledge it instead and resolve it once the condition has gone."
    )


def action_buttons(alert: AlertOut, last: AlertOut | None = None) -> dmc.Group:
    """The actions the API allows, and beside them what was just done to this alert (`last`)."""
    buttons: list[Any] = [
        dmc.Button(
            VERBS[action],
            id={"type": "alert-action", "action": action, "alert": alert.id},
            size="xs",
            variant="filled" if action == "acknowledge" else "outline",
            color="red" if action == "escalate" else "indigo",
            n_clicks=0,
            **{"aria-label": f"{VERBS[action].rstrip('…')} alert {alert.id}: {alert.title}, {about(alert)}"},
        )
        for action in alert.allowed_actions
    ]
    if last is not None and last.id == alert.id:
        buttons.append(dmc.Text(f"✓ {last.state} just now", c="green.9", fw=700, size="sm", className="action-note"))
    return dmc.Group(buttons, gap="xs")


def action_modal() -> dmc.Modal:
    """One dialog for every action: a note for the next person, and what resolve and snooze also need."""
    return dmc.Modal(
        id="action-modal",
        title="Alert action",
        children=dmc.Stack(
            [
                dmc.Text(id="action-about", fw=700),
                dmc.Select(
                    id="action-outcome-code", label="Outcome", data=OUTCOME_OPTIONS, placeholder="Choose the outcome"
                ),
                dmc.TextInput(id="action-reason", label="Reason for snoozing"),
                dmc.Select(id="action-hours", label="Snooze for (hours)", data=SNOOZE_HOURS, value="2"),
                dmc.Textarea(
                    id="action-note",
                    label="Note (what you did or found, for the next person)",
                    resize="vertical",
                    styles=FIXED_TEXTAREA,
                ),
                html.Div(dmc.Text(id="action-modal-error", c="red.9", size="sm"), role="alert"),
                dmc.Button("Confirm", id="action-confirm", n_clicks=0),
            ]
        ),
    )


def body_for(
    action: str, outcome_code: str | None, note: str | None, reason: str | None, hours: str | None, now: datetime
) -> BaseModel:
    """The request body of `action`, validated by the API's own model (ValidationError says what is missing)."""
    text = (note or "").strip() or None
    if action == "resolve":
        return Resolution.model_validate({"outcome_code": outcome_code, "outcome": text})
    if action == "snooze":
        until = now + timedelta(hours=int(hours or "2"))
        return Snooze.model_validate({"reason": (reason or "").strip(), "until": until, "note": text})
    return Note(note=text)


def missing_fields(action: str, err: ValidationError) -> str:
    """What to fill in, in the dialog's words."""
    fields = {str(e["loc"][0]) for e in err.errors() if e["loc"]}
    if "outcome_code" in fields:
        return "Choose the outcome before resolving."
    if "reason" in fields:
        return "Give a reason for snoozing."
    return f"Check the {action} form: " + ", ".join(sorted(fields))


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("action-pending", "data"),
        Output("action-modal", "opened"),
        Output("action-modal", "title"),
        Output("action-about", "children"),
        Output("action-feedback", "children"),
        Input({"type": "alert-action", "action": ALL, "alert": ALL}, "n_clicks"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def clicked(clicks: list[int | None], session: dict[str, Any] | None) -> Any:
        """Open the dialog for the alert as it is now (it may have changed since the page was drawn)."""
        trigger = callback_context.triggered_id
        if (
            not session
            or not isinstance(trigger, dict)
            or not any(clicks)
            or not callback_context.triggered[0]["value"]
        ):
            return (no_update,) * 5
        action, alert_id = trigger["action"], int(trigger["alert"])
        try:
            alert = await ctx.api.read(session["token"], f"/alerts/{alert_id}", ALERT)
        except ApiError as exc:
            return no_update, False, no_update, no_update, feedback_for(action, None, exc.detail)
        title = f"{VERBS[action].rstrip('…')}: {alert.title}"
        warning = resolve_warning(alert) if action == "resolve" else None
        shown = about(alert) if warning is None else [about(alert), dmc.Text(warning, c="orange.9", fw=500, size="sm")]
        return {"action": action, "alert": alert_id}, True, title, shown, None  # the last notice goes

    @app.callback(
        Output("action-modal", "opened", allow_duplicate=True),
        Output("action-modal-error", "children"),
        Output("action-feedback", "children", allow_duplicate=True),
        Output("alerts-version", "data"),
        Input("action-confirm", "n_clicks"),
        State("action-pending", "data"),
        State("action-outcome-code", "value"),
        State("action-note", "value"),
        State("action-reason", "value"),
        State("action-hours", "value"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def confirmed(
        _: int,
        pending: dict[str, Any] | None,
        outcome_code: str | None,
        note: str | None,
        reason: str | None,
        hours: str | None,
        session: dict[str, Any] | None,
    ) -> Any:
        if not session or not pending:
            return (no_update,) * 4
        action, alert_id = pending["action"], int(pending["alert"])
        try:
            body = body_for(action, outcome_code, note, reason, hours, datetime.now(UTC))
        except ValidationError as err:
            return no_update, missing_fields(action, err), no_update, no_update
        try:
            answer = await ctx.api.post(
                session["token"], f"/alerts/{alert_id}/{action}", body.model_dump(mode="json", exclude_none=True)
            )
        except ApiError as exc:
            return no_update, exc.detail, no_update, no_update
        done = LAST_ACTION.validate_python(answer)
        version = {"at": datetime.now(UTC).isoformat(), "alert": LAST_ACTION.dump_python(done, mode="json")}
        return False, "", feedback_for(action, done, None, ctx.tz), version

    @app.callback(
        Output("action-outcome-code", "display"),
        Output("action-reason", "display"),
        Output("action-hours", "display"),
        Output("action-outcome-code", "value"),
        Output("action-reason", "value"),
        Output("action-note", "value"),
        Output("action-modal-error", "children", allow_duplicate=True),
        Input("action-pending", "data"),
        prevent_initial_call=True,
    )
    def ask_only_what_is_needed(pending: dict[str, Any] | None) -> tuple[str, str, str, None, str, str, str]:
        """A fresh dialog for each action, nothing pre-chosen: an outcome is never resolved by default."""
        action = (pending or {}).get("action")
        shown = {True: "block", False: "none"}
        return shown[action == "resolve"], shown[action == "snooze"], shown[action == "snooze"], None, "", "", ""


def last_action(version: dict[str, Any] | None, now: datetime) -> AlertOut | None:
    """The alert just acted on, while the rows are held in place for it; None after that."""
    if not version or "alert" not in version:
        return None
    at = datetime.fromisoformat(version["at"])
    return LAST_ACTION.validate_python(version["alert"]) if now - at < HOLD_AFTER_ACTION else None


def feedback_for(action: str, done: AlertOut | None, error: str | None, tz: str = "UTC") -> Any:
    """A notice pinned to the bottom of the screen (never scrolled away above the action)."""
    if error or done is None:
        return dmc.Alert(
            error, title=f"Could not {action} the alert", color="red", variant="filled", withCloseButton=True
        )
    when = local_time(done.updated_at, tz, "%H:%M")
    text = f"{done.title} for {about(done)}: {DONE[action]} at {when}."
    return dmc.Alert(text, color="green", variant="filled", withCloseButton=True, id="action-done")


def action_frame() -> html.Div:
    """The modal and the stores the actions share; part of every page's frame."""
    return html.Div(
        [
            action_modal(),
            html.Div(id="action-feedback", role="status", className="action-toast"),
            dcc.Store(id="action-pending"),
            dcc.Store(id="alerts-version"),
        ]
    )
