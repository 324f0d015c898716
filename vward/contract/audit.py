"""The audit trail as the API reads it back: who read or changed what, and when."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AuditEntry(BaseModel):
    at: datetime
    username: str
    role: str
    action: str
    object_type: str | None
    object_id: str | None
