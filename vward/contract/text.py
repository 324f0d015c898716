"""Text a request may carry: what PostgreSQL can always store, so bad input is a 422 and never a 500."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _storable(text: str) -> str:
    """PostgreSQL text holds no NUL, and UTF-8 has no lone surrogates (which JSON escapes can carry)."""
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


StorableText = Annotated[str, AfterValidator(_storable)]
