"""A patient's stays and what happened in them, as the API serves them and the record shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from vward.domain.episodes import EventKind, Outcome, Source


class Episode(BaseModel):
    id: int
    ward: str
    team: str | None
    pathway: str
    source: Source
    admitted_at: datetime
    discharged_at: datetime | None
    outcome: Outcome | None = Field(description="how the stay ended; null while open or if never recorded")
    outcome_reason: str | None


class EpisodeEvent(BaseModel):
    id: int
    episode_id: int
    kind: EventKind
    at: datetime
    actor: str
    from_ward: str | None
    to_ward: str | None
    from_team: str | None
    to_team: str | None
    outcome: Outcome | None
    reason: str | None


class PatientEpisodes(BaseModel):
    """Every stay of one patient, oldest first, and the events of all of them in order."""

    patient_id: int
    episodes: list[Episode]
    events: list[EpisodeEvent]
