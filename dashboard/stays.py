"""A patient's stays on the record: each episode event in words, newest first, and which stay this is."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import html

from dashboard.formatting import DAY_TIME, local_time
from vward.contract.episodes import EpisodeEvent, PatientEpisodes
from vward.domain.episodes import EventKind, Outcome

OUTCOME_WORDS = {
    Outcome.COMPLETED: "monitoring completed",
    Outcome.ESCALATED_TO_HOSPITAL: "escalated to hospital",
    Outcome.DIED: "died",
    Outcome.SELF_DISCHARGED: "self-discharged",
    Outcome.TRANSFERRED: "transferred",
}


def _team(team: str | None) -> str:
    return f", team {team}" if team else ""


def event_text(e: EpisodeEvent) -> str:
    """What happened, as a nurse would write it in the notes."""
    outcome = f": {OUTCOME_WORDS[e.outcome]}" if e.outcome is not None else ""
    said = {
        EventKind.ADMITTED: f"Admitted to {e.to_ward}{_team(e.to_team)}",
        EventKind.STEPPED_DOWN: f"Stepped down from hospital to {e.to_ward}{_team(e.to_team)}",
        EventKind.TRANSFERRED: f"Transferred from {e.from_ward} to {e.to_ward}{_team(e.to_team)}",
        EventKind.TEAM_CHANGED: f"Moved from team {e.from_team or 'none'} to team {e.to_team or 'none'}",
        EventKind.STEPPED_UP: f"Stepped up to hospital from {e.from_ward}",
        EventKind.DISCHARGED: f"Discharged from {e.from_ward}{outcome}",
    }[e.kind]
    return said + (f" ({e.reason})" if e.reason else "")


def stays_panel(history: PatientEpisodes, tz: str) -> Any:
    """Which stay this is and every step of every stay, newest first, with who recorded it."""
    stays = history.episodes
    if not stays:
        return dmc.Text("No stays recorded.", id="patient-stays")
    current = stays[-1]
    since = local_time(current.admitted_at, tz, DAY_TIME)
    first = "first stay" if len(stays) == 1 else f"stay {len(stays)}, {len(stays) - 1} earlier kept in this record"
    if current.discharged_at is None:
        status = f"On {current.ward}{_team(current.team)} since {since}"
    else:
        ended = local_time(current.discharged_at, tz, DAY_TIME)
        how = OUTCOME_WORDS[current.outcome] if current.outcome is not None else "outcome not recorded"
        status = f"Discharged from {current.ward} {ended}, {how}; admitted {since}"
    summary = dmc.Text(f"{status} ({first}).", size="sm")
    rows = [
        html.Li(f"{local_time(e.at, tz, DAY_TIME)} · {event_text(e)} · {e.actor}", className="stay-event")
        for e in reversed(history.events)
    ]
    return html.Div([summary, html.Ul(rows, style={"paddingLeft": "1.2em", "margin": 0})], id="patient-stays")
