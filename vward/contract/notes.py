"""Clinicians' free-text notes on a patient's record: the note to add, and notes as the API serves them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from vward.contract.text import StorableText

MAX_NOTE = 4000  # the table's CHECK


class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: StorableText = Field(min_length=1, max_length=MAX_NOTE)


class Note(BaseModel):
    id: int
    at: datetime
    author: str
    text: str
