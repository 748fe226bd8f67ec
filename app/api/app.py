"""The FastAPI application: routes, errors as problem details, the guard, offline docs."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from app import APP_NAME, __version__
from app.api import compat, problems, routes_jobs, routes_more
from app.api.context import Context
from app.api.security import Guard, RateLimit, TokenCache, allowed_hosts

DOC_ASSETS = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
DESCRIPTION = """Cadence's local REST API — the same operations as the window and the CLI.

Every endpoint but `/api/v1/health` needs the bearer token: `cadence settings reveal api.token`
(or *Copy token* in Settings). Click **Authorize** and paste it to try requests here.
Errors are RFC 9457 problem details; a 422 names the field in `errors[].field`.
"""


def create_app(
    ctx: Context,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    cors_origins: list[str] | None = None,
    limit: RateLimit | None = None,
) -> Any:
    """The ASGI app: FastAPI behind the guard (and CORS only for origins the user allowed)."""
    api = FastAPI(
        title=f"{APP_NAME} API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    api.state.context = ctx
    problems.install(api)
    routers = [routes_jobs.router, routes_more.router, compat.router]
    for router in routers:
        api.include_router(router)
    api.state.route_methods = problems.route_methods(routers)
    _docs(api)
    _bearer_in_openapi(api)
    app: Any = api
    if cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    tokens = TokenCache(ctx.workspace.settings.api_token)
    return Guard(app, tokens=tokens, hosts=allowed_hosts(host, port), limit=limit or RateLimit())


def _docs(api: FastAPI) -> None:
    static = files("fastapi_offline") / "static"

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{APP_NAME} API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
        )

    @api.get("/docs/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in DOC_ASSETS:
            return problems.problem(404, f"no documentation file {name!r}")
        return Response(
            (static / name).read_bytes(),
            media_type=DOC_ASSETS[name],
            headers={"Cache-Control": "max-age=86400"},
        )


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "success": {"type": "boolean", "const": False},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["in", "field", "message"],
                "properties": {
                    "in": {"type": "string"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
PROBLEMS = {
    "400": "the body is not JSON",
    "401": "no bearer token, or a wrong one",
    "403": "the Host is not this computer",
    "404": "no such job, item or schedule",
    "409": "the thing is not in a state to do that",
    "413": "the body is over 1 MB",
    "422": "a value that cannot be used; errors[].field names it",
    "429": "over 120 requests a minute; Retry-After says when to try again",
}


def _bearer_in_openapi(api: FastAPI) -> None:
    """The document says which endpoints want the token (all but health), and that errors
    are problem details."""
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in PROBLEMS.items():
                    if path == "/api/v1/health" and status == "401":
                        continue
                    responses[status] = {"description": description, "content": problem}
                if path != "/api/v1/health":
                    operation["security"] = [{"bearer": []}]
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
