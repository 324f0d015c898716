"""Shared notices: a feature this server's API does not offer yet is said plainly, never faked."""

from __future__ import annotations

import dash_mantine_components as dmc


def not_available(what: str, endpoint: str) -> dmc.Alert:
    return dmc.Alert(
        f"{what}: not available, because this server's API has no {endpoint} yet.",
        color="gray",
        title="Not available",
        className="not-available",
    )
