"""The dashboard's only way to data: the REST API, called in-process with the user's bearer token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

T = TypeVar("T")

API = "/api/v1"


class ApiError(Exception):
    """The API refused or failed; `status` is its HTTP status (401 means: sign in again)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def error_detail(response: httpx.Response) -> str:
    """FastAPI's `detail`, flattened to one readable line (validation errors arrive as a list)."""
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        return response.text
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg', '')}" for d in detail)
    return str(detail)


def fitted(shape: TypeAdapter[T], answer: Any, path: str) -> T:
    """An answer parsed into its contract model; one that does not fit is the API's fault (502), said so."""
    try:
        return shape.validate_python(answer)
    except ValidationError as exc:
        raise ApiError(
            502, f"the API's answer to {path} did not fit its contract ({exc.error_count()} errors)"
        ) from None


class ApiClient:
    """Calls the platform's own FastAPI app through an ASGI transport: same code path, no socket."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        on_unauthorised: Callable[[], None] = lambda: None,
        base_url: str = "http://vward.internal",
    ) -> None:
        self._on_unauthorised = on_unauthorised
        # One client for the app's lifetime: the ASGI transport holds no sockets, and a client per call
        # cost every callback a client set-up.
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30)

    async def request(
        self, method: str, path: str, token: str | None, headers_extra: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        """One API call; a 401 also fires `on_unauthorised`, which sends the user back to sign in."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers |= headers_extra or {}
        response = await self._client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            if response.status_code == 401 and token:
                self._on_unauthorised()
            raise ApiError(response.status_code, error_detail(response))
        return response.json() if response.content else None

    async def read(self, token: str, path: str, shape: TypeAdapter[T], **params: Any) -> T:
        """A GET parsed into the API's own response model (vward.contract): the page gets typed values, and
        an answer that does not fit the contract is an error the page shows, not a blank panel."""
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        return fitted(shape, await self.request("GET", f"{API}{path}", token, params=clean), path)

    async def submit(self, token: str, path: str, shape: TypeAdapter[T], body: BaseModel, method: str = "POST") -> T:
        """A request body built from the API's own request model, its answer parsed into the response model."""
        answer = await self.request(method, f"{API}{path}", token, json=body.model_dump(mode="json", exclude_none=True))
        return fitted(shape, answer, path)

    async def post(self, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.request("POST", f"{API}{path}", token, json=body or {})

    async def send_yaml(self, token: str, method: str, path: str, text: str, shape: TypeAdapter[T]) -> T:
        """Rule set drafts travel as the YAML people edit, so the API's messages point at their lines."""
        headers = {"Content-Type": "application/yaml"}
        answer = await self.request(method, f"{API}{path}", token, content=text.encode(), headers_extra=headers)
        return fitted(shape, answer, path)

    async def delete(self, token: str, path: str) -> Any:
        return await self.request("DELETE", f"{API}{path}", token)

    async def login(self, username: str, password: str) -> dict[str, Any]:
        token: dict[str, Any] = await self.request(
            "POST", f"{API}/auth/token", None, data={"username": username, "password": password}
        )
        return token
