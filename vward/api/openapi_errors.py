"""Document in /openapi.json the error answers every operation can give, whichever router it is in.

FastAPI documents only what a route declares; the answers of shared dependencies (401 without a valid
token, 403 for the wrong role, 404 for an id outside your wards) are added here once for all routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
}
_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_SECURED = {
    "401": {"description": "Not signed in, or the token has expired (idle timeout)", **_ERROR},
    "403": {"description": "Your role may not do this", **_ERROR},
}
_WITH_ID = {"404": {"description": "No such object, or it is outside your wards", **_ERROR}}
# Routes that check content beyond the request model's shape (a rule set's rules, a snooze in the past)
# answer 422 with a message instead of FastAPI's list of field errors: both shapes are documented.
_VALIDATION = "#/components/schemas/HTTPValidationError"
_UNPROCESSABLE = {
    "description": "The request is malformed (field errors) or its content is refused (a message)",
    "content": {
        "application/json": {"schema": {"anyOf": [{"$ref": _VALIDATION}, {"$ref": "#/components/schemas/Error"}]}}
    },
}


def _add_errors(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            extra = {**(_SECURED if operation.get("security") else {}), **(_WITH_ID if "{" in path else {})}
            for code, answer in extra.items():
                responses.setdefault(code, answer)
            if _VALIDATION in str(responses.get("422", {})):
                responses["422"] = _UNPROCESSABLE
    return schema


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` include the shared error answers (computed once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _add_errors(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
