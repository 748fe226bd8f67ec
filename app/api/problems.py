"""Errors as RFC 9457 problem details: a user's mistake names the field; no traceback leaves."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from app.domain.errors import DraftError, NotFound, UserError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "success": False,  # the compatibility envelope's flag (an RFC 9457 extension member)
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=PROBLEM,
        headers=headers,
    )


def _field(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "body"
    path = [str(p) for p in loc[1:]] or [where]
    return where, ".".join(path)


def user_error_status(error: UserError) -> int:
    from app.domain.states import IllegalTransition
    from app.ops.jobs import NoValidRows
    from app.settings import SettingError
    from app.sources.table import SourceError

    if isinstance(error, NotFound):
        return 404
    if isinstance(error, IllegalTransition):
        return 409
    # A value that cannot be used (the domain's errors that are also ValueErrors: a bad
    # expression, output, range, draft field) or a source that cannot be read or has no row.
    if isinstance(error, ValueError | SettingError | SourceError | NoValidRows):
        return 422
    return 409  # the request was understood, but the thing is not in a state to take it


def route_methods(routers: list[Any]) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Each route's path pattern and methods, from the routers the app includes (what a 405
    must name in its ``Allow``)."""
    return [
        (route.path_regex, frozenset(route.methods))
        for router in routers
        for route in router.routes
        if getattr(route, "methods", None) and hasattr(route, "path_regex")
    ]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this request's path (Starlette's 405 names only
    the first route it matched: ``PUT /jobs`` said ``Allow: GET``, though POST is there too)."""
    path = request.url.path
    methods: set[str] = set()
    for pattern, verbs in getattr(request.app.state, "route_methods", []):
        if pattern.match(path):
            methods |= verbs
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        broken = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if broken is not None:  # not a request's values at all: the body is no JSON
            ctx = broken.get("ctx") or {}
            why = f" ({ctx['error']})" if ctx.get("error") else ""
            return problem(400, f"the body is not JSON{why} — send a JSON object")
        errors = []
        for error in exc.errors():
            where, field = _field(tuple(error.get("loc", ())))
            errors.append({"in": where, "field": field, "message": str(error.get("msg", ""))})
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem(422, f"{first['field']}: {first['message']}", errors=errors)

    @app.exception_handler(UserError)
    async def refused(_request: Request, exc: UserError) -> Response:
        status = user_error_status(exc)
        errors = None
        if isinstance(exc, DraftError):
            message = str(exc).removeprefix(f"{exc.field}: ")
            errors = [{"in": exc.where, "field": exc.field, "message": message}]
        return problem(status, str(exc), errors=errors)

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            return problem(
                405, f"{request.method} is not one of {', '.join(allowed)} here", headers=headers
            )
        return problem(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse | Response:
        log.error("API %s %s failed", request.method, request.url.path, exc_info=exc)
        return problem(500, "Internal error — the details are in Cadence's log.")
