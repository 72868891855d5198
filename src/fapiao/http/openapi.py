"""The problem format as it appears in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldProblem(BaseModel):
    field: str
    code: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details with fapiao's stable `code`."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[FieldProblem] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": {}},
    }


PUBLIC_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed JSON"),
    413: _problem("Body too large"),
    422: _problem("Invalid fields (see `errors`)"),
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PUBLIC_PROBLEMS,
    401: _problem("Not signed in, or the token is invalid or expired"),
    403: _problem("The caller's role or party may not do this"),
    404: _problem("Not found — also for objects of another taxpayer"),
    409: _problem("Refused by a rule; `code` says which"),
}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        **_problem("Too many requests from this address or for this account"),
        "headers": {
            "Retry-After": {
                "description": "Seconds until the limit's window frees",
                "schema": {"type": "integer"},
            }
        },
    }
}


def use_problem_media_type(spec: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every extra response under application/json; errors are sent as
    application/problem+json, so move their schema there."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status).startswith(("4", "5")) and "application/json" in content:
                    schema = content.pop("application/json")
                    content["application/problem+json"] = schema
    return spec
