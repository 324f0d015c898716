"""Request field types that PostgreSQL can always store, so bad input is a 422 and never a 500 (text:
`vward.contract.text`, shared with the dashboard's request models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

from vward.contract.text import StorableText

# Times a ward can mean. Python's datetime ends at years 1 and 9999, so a window computed from a bound
# given at either end (until minus 24 hours) would overflow; PostgreSQL's range is wider still.
MIN_YEAR, MAX_YEAR = 1900, 9998

# bigserial ids: anything larger cannot exist, and asyncpg would refuse to send it.
MAX_ID = 2**63 - 1
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


def _ward_time(at: datetime) -> datetime:
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        raise ValueError(f"time must fall in the years {MIN_YEAR}-{MAX_YEAR}")
    return at


__all__ = ["DEVICE_ID_PATTERN", "MAX_ID", "DbId", "DevicePathId", "StorableText", "WardTime"]

DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="a database id")]
DevicePathId = Annotated[str, Path(pattern=DEVICE_ID_PATTERN, description="a device id")]
WardTime = Annotated[datetime, AfterValidator(_ward_time)]
