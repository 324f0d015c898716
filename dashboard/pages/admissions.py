"""Admissions: admit, readmit, transfer and discharge patients (each a stay, docs/episodes.md), bind and
unbind their devices."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, callback_context, html, no_update

from dashboard.api_client import ApiError
from dashboard.context import Context
from dashboard.pages.worklist import PATHWAYS, WORKLIST
from vward.contract.patients import PatientSummary
from vward.domain.episodes import Outcome, Source
from vward.domain.metrics import METRIC_SPECS, Metric
from vward.domain.patients import DeviceKind

PLAN_METRICS = [m for m in Metric if m not in (Metric.ON_OXYGEN, Metric.CONSCIOUSNESS, Metric.PATIENT_CONCERN)]


def monitoring_plan(hours: dict[str, Any]) -> dict[str, float]:
    """metric -> expected every N hours; blank or zero means not part of the plan."""
    return {metric: float(h) for metric, h in hours.items() if h not in (None, "") and float(h) > 0}


# How a stay ends, in the words on the discharge form (vward.domain.episodes.Outcome; a transfer has its own form).
DISCHARGE_OUTCOMES = {
    Outcome.COMPLETED: "Completed: monitoring no longer needed",
    Outcome.ESCALATED_TO_HOSPITAL: "Escalated to hospital (step-up)",
    Outcome.SELF_DISCHARGED: "Self-discharged",
    Outcome.DIED: "Died",
}
SOURCES = {Source.COMMUNITY: "From the community (admission avoided)", Source.STEP_DOWN: "Step-down from hospital"}


def _choices(labels: dict[Outcome, str] | dict[Source, str]) -> list[dict[str, str]]:
    return [{"value": k.value, "label": v} for k, v in labels.items()]


def _stripped(text: str | None) -> str:
    return (text or "").strip()


def admission_body(
    mrn: str | None,
    name: str | None,
    ward: str | None,
    pathway: str | None,
    scale: str | None,
    dob: str | None,
    plan: dict[str, float],
    *,
    team: str | None = None,
    source: str | None = None,
    nhs_number: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mrn": _stripped(mrn),
        "display_name": _stripped(name),
        "ward": _stripped(ward),
        "pathway": pathway or "general",
        "spo2_scale": int(scale or "1"),
        "monitoring_plan": plan,
        "source": source or Source.COMMUNITY.value,
    }
    optional = {"date_of_birth": _stripped(dob), "team": _stripped(team), "nhs_number": _stripped(nhs_number)}
    return body | {k: v for k, v in optional.items() if v}


def admitted_message(admitted: dict[str, Any]) -> str:
    if admitted["readmission"]:
        return f"Readmitted patient {admitted['id']}: a new stay; their earlier stays and record are kept."
    return f"Admitted as patient {admitted['id']}."


def patient_options(patients: list[PatientSummary]) -> list[dict[str, str]]:
    return [{"value": str(p.id), "label": f"{p.display_name} ({p.mrn}, {p.ward})"} for p in patients]


def discharge_confirmation() -> html.Div:
    """The question asked before a discharge, naming the patient; hidden until Discharge is pressed."""
    buttons = [
        dmc.Button("Yes, discharge", id="discharge-confirm", n_clicks=0, color="red", disabled=True),
        dmc.Button("Cancel", id="discharge-cancel", n_clicks=0, variant="outline"),
    ]
    return html.Div(
        [dmc.Text(id="discharge-question", fw=700), dmc.Group(buttons, mt="xs")],
        id="discharge-confirmation",
        style={"display": "none"},
    )


def layout() -> html.Div:
    plan_inputs = [
        dmc.NumberInput(
            id={"type": "plan-hours", "metric": str(m)},
            label=f"{METRIC_SPECS[m].display}: every N hours",
            min=0,
            step=1,
            w=260,
        )
        for m in PLAN_METRICS
    ]
    return html.Div(
        [
            dmc.Title("Admissions and devices", order=1, size="h2"),
            dmc.SimpleGrid(
                [
                    dmc.Paper(
                        dmc.Stack(
                            [
                                dmc.Title("Admit a patient", order=2, size="h4"),
                                dmc.TextInput(id="admit-mrn", label="MRN", required=True),
                                dmc.TextInput(id="admit-name", label="Name", required=True),
                                dmc.TextInput(id="admit-ward", label="Ward", required=True),
                                dmc.Select(
                                    id="admit-pathway",
                                    label="Pathway",
                                    value="general",
                                    data=[{"value": k, "label": v} for k, v in PATHWAYS.items()],
                                ),
                                dmc.Select(
                                    id="admit-scale",
                                    label="SpO2 scale",
                                    value="1",
                                    data=[
                                        {"value": "1", "label": "Scale 1 (most patients)"},
                                        {"value": "2", "label": "Scale 2 (hypercapnic failure, target 88-92%)"},
                                    ],
                                ),
                                dmc.TextInput(id="admit-dob", label="Date of birth (YYYY-MM-DD)"),
                                dmc.TextInput(id="admit-nhs", label="NHS number (10 digits, optional)"),
                                dmc.TextInput(id="admit-team", label="Team (optional)"),
                                dmc.Select(
                                    id="admit-source",
                                    label="Admitted",
                                    value=Source.COMMUNITY.value,
                                    data=_choices(SOURCES),
                                ),
                                dmc.Text("Monitoring plan", fw=700),
                                dmc.Group(plan_inputs),
                                dmc.Button("Admit", id="admit-submit", n_clicks=0, w=200),
                                html.Div(id="admit-result", role="status"),
                            ]
                        ),
                        withBorder=True,
                        p="md",
                    ),
                    dmc.Stack(
                        [
                            dmc.Paper(
                                dmc.Stack(
                                    [
                                        dmc.Title("Devices", order=2, size="h4"),
                                        dmc.Select(id="device-patient", label="Patient", data=[], searchable=True),
                                        dmc.TextInput(id="device-id", label="Device id"),
                                        dmc.Select(
                                            id="device-kind",
                                            label="Kind (a new device only; a known one keeps its own)",
                                            placeholder="known device",
                                            clearable=True,
                                            data=[k.value for k in DeviceKind],
                                        ),
                                        dmc.Checkbox(
                                            id="device-transfer",
                                            label="Move it from the patient it is bound to now",
                                        ),
                                        dmc.Group(
                                            [
                                                dmc.Button("Bind", id="device-bind", n_clicks=0),
                                                dmc.Button("Unbind", id="device-unbind", n_clicks=0, variant="outline"),
                                            ]
                                        ),
                                        html.Div(id="device-result", role="status"),
                                    ]
                                ),
                                withBorder=True,
                                p="md",
                            ),
                            dmc.Paper(
                                dmc.Stack(
                                    [
                                        dmc.Title("Discharge", order=2, size="h4"),
                                        dmc.Select(id="discharge-patient", label="Patient", data=[], searchable=True),
                                        dmc.Select(
                                            id="discharge-outcome",
                                            label="Outcome",
                                            data=[
                                                {"value": k.value, "label": v} for k, v in DISCHARGE_OUTCOMES.items()
                                            ],
                                        ),
                                        dmc.TextInput(id="discharge-reason", label="Reason (optional)"),
                                        dmc.Button("Discharge…", id="discharge-submit", n_clicks=0, color="red", w=200),
                                        discharge_confirmation(),
                                        html.Div(id="discharge-result", role="status"),
                                    ]
                                ),
                                withBorder=True,
                                p="md",
                            ),
                            dmc.Paper(
                                dmc.Stack(
                                    [
                                        dmc.Title("Transfer", order=2, size="h4"),
                                        dmc.Select(id="transfer-patient", label="Patient", data=[], searchable=True),
                                        dmc.TextInput(id="transfer-ward", label="To ward"),
                                        dmc.TextInput(id="transfer-team", label="To team (optional)"),
                                        dmc.TextInput(id="transfer-reason", label="Reason (optional)"),
                                        dmc.Button("Transfer", id="transfer-submit", n_clicks=0, w=200),
                                        html.Div(id="transfer-result", role="status"),
                                    ]
                                ),
                                withBorder=True,
                                p="md",
                            ),
                        ]
                    ),
                ],
                cols={"base": 1, "lg": 2},
                mt="md",
            ),
        ]
    )


def outcome(ok: str | None, exc: ApiError | None) -> Any:
    if exc is not None:
        return dmc.Alert(exc.detail, color="red", title="Refused")
    return dmc.Alert(ok, color="green", className="admission-done")


def register(app: Dash, ctx: Context) -> None:
    @app.callback(
        Output("device-patient", "data"),
        Output("discharge-patient", "data"),
        Output("transfer-patient", "data"),
        Input("admit-result", "children"),
        Input("discharge-result", "children"),
        Input("transfer-result", "children"),
        State("session", "data"),
    )
    async def patients(_: Any, __: Any, ___: Any, session: dict[str, Any] | None) -> Any:
        if not session:
            return no_update, no_update, no_update
        try:
            options = patient_options(await ctx.api.read(session["token"], "/patients", WORKLIST))
        except ApiError:
            return [], [], []
        return options, options, options

    @app.callback(
        Output("admit-result", "children"),
        Input("admit-submit", "n_clicks"),
        State("admit-mrn", "value"),
        State("admit-name", "value"),
        State("admit-ward", "value"),
        State("admit-pathway", "value"),
        State("admit-scale", "value"),
        State("admit-dob", "value"),
        State("admit-nhs", "value"),
        State("admit-team", "value"),
        State("admit-source", "value"),
        State({"type": "plan-hours", "metric": ALL}, "value"),
        State({"type": "plan-hours", "metric": ALL}, "id"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def admit(
        _: int,
        mrn: str | None,
        name: str | None,
        ward: str | None,
        pathway: str | None,
        scale: str | None,
        dob: str | None,
        nhs_number: str | None,
        team: str | None,
        source: str | None,
        hours: list[Any],
        ids: list[dict[str, str]],
        session: dict[str, Any] | None,
    ) -> Any:
        if not session:
            return no_update
        plan = monitoring_plan({i["metric"]: h for i, h in zip(ids, hours, strict=True)})
        body = admission_body(
            mrn, name, ward, pathway, scale, dob, plan, team=team, source=source, nhs_number=nhs_number
        )
        try:
            admitted = await ctx.api.post(session["token"], "/patients", body)
        except ApiError as exc:
            return outcome(None, exc)
        return outcome(admitted_message(admitted), None)

    @app.callback(
        Output("device-result", "children"),
        Input("device-bind", "n_clicks"),
        Input("device-unbind", "n_clicks"),
        State("device-patient", "value"),
        State("device-id", "value"),
        State("device-kind", "value"),
        State("device-transfer", "checked"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def device(
        _: int,
        __: int,
        patient: str | None,
        device_id: str | None,
        kind: str | None,
        transfer: bool | None,
        session: dict[str, Any] | None,
    ) -> Any:
        if not session or not patient or not device_id:
            return dmc.Alert("Choose a patient and enter the device id.", color="gray")
        unbind = callback_context.triggered_id == "device-unbind"
        try:
            if unbind:
                await ctx.api.delete(session["token"], f"/patients/{patient}/devices/{device_id}")
            else:
                body = {"device_id": device_id, "transfer": bool(transfer)} | ({"kind": kind} if kind else {})
                bound = await ctx.api.post(session["token"], f"/patients/{patient}/devices", body)
        except ApiError as exc:
            return outcome(None, exc)
        if unbind:
            return outcome(f"Device {device_id} unbound from patient {patient}.", None)
        moved = "" if bound.get("moved_from") is None else f" (moved from patient {bound['moved_from']})"
        return outcome(f"Device {device_id} bound to patient {patient}{moved}.", None)

    @app.callback(
        Output("discharge-confirmation", "style"),
        Output("discharge-question", "children"),
        Output("discharge-confirm", "disabled"),
        Input("discharge-submit", "n_clicks"),
        Input("discharge-cancel", "n_clicks"),
        Input("discharge-result", "children"),
        State("discharge-patient", "value"),
        State("discharge-patient", "data"),
        State("discharge-outcome", "value"),
        prevent_initial_call=True,
    )
    def ask_before_discharging(_: int, __: int, ___: Any, patient: str | None, options: Any, ending: str | None) -> Any:
        """Discharge stops a patient's monitoring: it is asked, naming the patient and the outcome, first."""
        if callback_context.triggered_id != "discharge-submit":
            return {"display": "none"}, "", True
        if not patient or not ending:
            return {"display": "block"}, "Choose the patient and the outcome of their stay.", True
        label = next((o["label"] for o in options or [] if o["value"] == patient), f"patient {patient}")
        said = DISCHARGE_OUTCOMES[Outcome(ending)]
        question = f"Discharge {label}, outcome: {said}? Their monitoring stops and their devices are unbound."
        return {"display": "block"}, question, False

    @app.callback(
        Output("discharge-result", "children"),
        Input("discharge-confirm", "n_clicks"),
        State("discharge-patient", "value"),
        State("discharge-patient", "data"),
        State("discharge-outcome", "value"),
        State("discharge-reason", "value"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def discharge(
        _: int,
        patient: str | None,
        options: Any,
        ending: str | None,
        reason: str | None,
        session: dict[str, Any] | None,
    ) -> Any:
        """Only after the question naming the patient has been answered yes."""
        if not session or not patient or not ending:
            return no_update
        label = next((o["label"] for o in options or [] if o["value"] == patient), f"Patient {patient}")
        body = {"outcome": ending} | ({"reason": _stripped(reason)} if _stripped(reason) else {})
        try:
            await ctx.api.post(session["token"], f"/patients/{patient}/discharge", body)
        except ApiError as exc:
            return outcome(None, exc)
        return outcome(f"{label} discharged (patient {patient}), {DISCHARGE_OUTCOMES[Outcome(ending)]}.", None)

    @app.callback(
        Output("transfer-result", "children"),
        Input("transfer-submit", "n_clicks"),
        State("transfer-patient", "value"),
        State("transfer-ward", "value"),
        State("transfer-team", "value"),
        State("transfer-reason", "value"),
        State("session", "data"),
        prevent_initial_call=True,
    )
    async def transfer(
        _: int,
        patient: str | None,
        ward: str | None,
        team: str | None,
        reason: str | None,
        session: dict[str, Any] | None,
    ) -> Any:
        if not session or not patient or not _stripped(ward):
            return dmc.Alert("Choose a patient and the ward they move to.", color="gray")
        optional = {"team": _stripped(team), "reason": _stripped(reason)}
        body = {"ward": _stripped(ward)} | {k: v for k, v in optional.items() if v}
        try:
            await ctx.api.post(session["token"], f"/patients/{patient}/transfer", body)
        except ApiError as exc:
            return outcome(None, exc)
        return outcome(f"Patient {patient} transferred to {body['ward']}; their devices stay bound.", None)
