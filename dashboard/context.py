"""What every page's callbacks share: the API client and the ward's time zone."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.api_client import ApiClient


@dataclass(frozen=True, slots=True)
class Context:
    api: ApiClient
    tz: str
