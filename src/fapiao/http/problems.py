"""Errors to RFC 9457 problem responses, in one place, in the caller's language."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fapiao.http.responses import JSONResponse
from fapiao.kit.errors import N_, FapiaoError, FieldError
from fapiao.kit.i18n import negotiate, translate

log = logging.getLogger("fapiao.http")

# Pydantic error types to our stable codes and message ids.
_PYDANTIC: dict[str, tuple[str, str]] = {
    "missing": ("FIELD_REQUIRED", N_("This field is required.")),
    "string_too_long": ("TOO_LONG", N_("At most {max_length} characters.")),
    "string_too_short": ("TOO_SHORT", N_("At least {min_length} characters.")),
    "too_long": ("TOO_MANY_ITEMS", N_("At most {max_length} items.")),
    "too_short": ("TOO_FEW_ITEMS", N_("At least {min_length} items.")),
    "literal_error": ("INVALID_CHOICE", N_("Must be one of: {expected}.")),
    "enum": ("INVALID_CHOICE", N_("Must be one of: {expected}.")),
    "string_pattern_mismatch": ("INVALID_FORMAT", N_("The format is not valid.")),
    "string_type": ("WRONG_TYPE", N_("Must be a string.")),
    "bool_type": ("WRONG_TYPE", N_("Must be true or false.")),
    "bool_parsing": ("WRONG_TYPE", N_("Must be true or false.")),
    "int_type": ("WRONG_TYPE", N_("Must be a whole number.")),
    "int_parsing": ("WRONG_TYPE", N_("Must be a whole number.")),
    "list_type": ("WRONG_TYPE", N_("Must be a list.")),
    "dict_type": ("WRONG_TYPE", N_("Must be an object.")),
    "model_type": ("WRONG_TYPE", N_("Must be an object.")),
    "model_attributes_type": ("WRONG_TYPE", N_("Must be an object.")),
    "date_from_datetime_parsing": ("INVALID_DATE", N_("Must be a date written YYYY-MM-DD.")),
    "date_parsing": ("INVALID_DATE", N_("Must be a date written YYYY-MM-DD.")),
    "date_type": ("INVALID_DATE", N_("Must be a date written YYYY-MM-DD.")),
    "greater_than_equal": ("TOO_SMALL", N_("Must be at least {ge}.")),
    "less_than_equal": ("TOO_LARGE", N_("Must be at most {le}.")),
    "extra_forbidden": ("UNKNOWN_FIELD", N_("Unknown field.")),
    "time_out_of_range": (
        "OUT_OF_RANGE",
        N_("Must be a time between the years 2000 and 2999."),
    ),
    "control_character": ("CONTROL_CHARACTER", N_("Control characters are not allowed.")),
    "decimal_type": ("DECIMAL_AS_STRING", N_('Give the number as a string, for example "113.00".')),
    "decimal_format": ("INVALID_DECIMAL", N_("Not a decimal number.")),
    "decimal_places": ("TOO_MANY_DECIMALS", N_("At most {places} decimal places.")),
    "decimal_too_large": ("TOO_LARGE", N_("At most {digits} digits before the decimal point.")),
    "decimal_not_positive": ("NOT_POSITIVE", N_("Must be greater than zero.")),
}
_PATTERN_HINTS = {
    r"^\d{20}$": N_("Must be 20 digits."),
    r"^\d{19}$": N_("Must be 19 digits."),
    r"^\d{6}$": N_("Must be a period written YYYYMM, for example 202611."),
}
_TITLES = {
    400: N_("Bad request"),
    401: N_("Not signed in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid request"),
    429: N_("Too many requests"),
    500: N_("Internal error"),
    503: N_("Service unavailable"),
}


def locale_of(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def problem(
    request: Request,
    status: int,
    code: str,
    message: str,
    params: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    locale = locale_of(request)
    body: dict[str, Any] = {
        "type": f"/problems/{code.lower().replace('_', '-')}",
        "title": translate(_TITLES.get(status, N_("Error")), locale),
        "status": status,
        "code": code,
        "detail": translate(message, locale, **(params or {})),
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FapiaoError)
    locale = locale_of(request)
    errors = [
        {
            "field": error.field,
            "code": error.code,
            "message": translate(error.message, locale, **error.params),
        }
        for error in exc.errors
    ]
    return problem(
        request,
        exc.status,
        exc.code,
        exc.message,
        exc.params,
        errors if exc.errors else None,
        exc.headers,
    )


def field_errors(raw: Sequence[Any]) -> list[FieldError]:
    """Pydantic's errors (`ValidationError.errors()`) as our FieldErrors, with stable
    codes and message ids; the API and the web forms report them alike."""
    found: list[FieldError] = []
    for error in raw:
        kind = error.get("type", "")
        if kind.startswith("date"):
            kind = "date_parsing"
        if kind in ("too_long", "too_short") and isinstance(error.get("input"), str):
            kind = "string_" + kind  # a constrained text type reports the generic kind
        code, message = _PYDANTIC.get(kind, ("INVALID_VALUE", N_("Invalid value.")))
        context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
        if kind == "string_pattern_mismatch" and context.get("pattern") in _PATTERN_HINTS:
            message = _PATTERN_HINTS[context["pattern"]]
        if "expected" in context:
            # Pydantic writes "'a', 'b' or 'c'" in English; keep only the values.
            context["expected"] = context["expected"].replace(" or ", ", ")
        try:
            message.format(**context)
        except (KeyError, IndexError):
            context = {}
        found.append(FieldError(_field(tuple(error.get("loc", ()))), code, message, context))
    return found


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = locale_of(request)
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        return problem(request, 400, "MALFORMED_JSON", N_("The request body is not valid JSON."))
    errors = [
        {
            "field": error.field,
            "code": error.code,
            "message": translate(error.message, locale, **error.params),
        }
        for error in field_errors(raw)
    ]
    return problem(
        request, 422, "VALIDATION_FAILED", N_("The request has invalid fields."), errors=errors
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        404: ("NOT_FOUND", N_("There is nothing at this address.")),
        405: ("METHOD_NOT_ALLOWED", N_("This method is not allowed here.")),
        401: ("NOT_AUTHENTICATED", N_("Sign in first: send an Authorization: Bearer token.")),
        # Raised before validation when the body cannot even be decoded (bad UTF-8, a
        # broken multipart form).
        400: ("MALFORMED_BODY", N_("The request body cannot be read: send UTF-8 JSON.")),
    }
    code, message = codes.get(
        exc.status_code, ("HTTP_ERROR", N_("The request could not be served."))
    )
    return problem(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A generic 500: the caller gets a reference to quote, never the exception; the
    traceback goes to the server's log under the same reference."""
    reference = uuid.uuid4().hex[:16]
    log.error(
        "unhandled error %s on %s %s",
        reference,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return problem(
        request,
        500,
        "INTERNAL_ERROR",
        N_(
            "Something went wrong on our side; nothing was saved. "
            "Quote reference {reference} when you report it."
        ),
        {"reference": reference},
        extra={"reference": reference},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(FapiaoError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
