"""Request field types that PostgreSQL can always store, so bad input is a 422 and never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

# bigserial ids: anything larger cannot exist, and asyncpg would refuse to send it.
MAX_ID = 2**63 - 1
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


def _storable(text: str) -> str:
    """PostgreSQL text holds no NUL, and UTF-8 has no lone surrogates (which JSON escapes can carry)."""
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="a database id")]
DevicePathId = Annotated[str, Path(pattern=DEVICE_ID_PATTERN, description="a device id")]
StorableText = Annotated[str, AfterValidator(_storable)]
