"""Typed domain errors. Each carries a stable code; messages are English msgids that are
translated when the error is rendered (see fapiao.kit.i18n)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


def N_(message: str) -> str:
    """Mark a string for translation without translating it now."""
    return message


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class FapiaoError(Exception):
    """Base of every error the platform reports to a caller."""

    status: int = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        params: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.params = params or {}
        self.errors = errors or []
        self.headers = headers or {}


class ValidationFailed(FapiaoError):
    status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("VALIDATION_FAILED", N_("The request has invalid fields."), errors=errors)


class NotFound(FapiaoError):
    status = 404


class Conflict(FapiaoError):
    status = 409


class Forbidden(FapiaoError):
    status = 403


class Unauthorized(FapiaoError):
    status = 401


def invalid(field_name: str, code: str, message: str, **params: Any) -> ValidationFailed:
    """A validation failure on a single field."""
    return ValidationFailed([FieldError(field_name, code, message, params)])
