"""The no-store rule covers every path patient data travels on, Dash callbacks included."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from vward.api.security_headers import SecurityHeaders


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.parametrize(
    ("path", "no_store"),
    [
        ("/dash/_dash-update-component", True),
        ("/dash/_dash-layout", True),
        ("/api/v1/patients", True),
        ("/fhir/r4/Patient", True),
        ("/dash/assets/style.css", False),
        ("/healthz", False),
    ],
)
async def test_only_data_paths_are_kept_out_of_caches(path: str, no_store: bool) -> None:
    transport = httpx.ASGITransport(app=SecurityHeaders(_ok))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(path) if "_dash-update" in path else await client.get(path)
    assert (response.headers.get("cache-control") == "no-store") is no_store
    assert response.headers["x-frame-options"] == "DENY"
