"""The checks settings' declarations name (`Option.check`): each raises a `SettingError`
saying what would be accepted, and may return the value as it is stored. Checks that need the
workspace (a style exists, a folder can be written) are `app.services.Services`'s."""

from __future__ import annotations

from typing import Any

from app.domain.errors import UserError
from app.domain.resources import parse_resources


class SettingError(UserError):
    """A setting name or value that cannot be used; says what would be accepted."""


def cluster(value: Any) -> None:
    """``local``, or a Dask scheduler's address (tcp://host:port)."""
    from app.domain.cluster import check_scheduler_address

    try:
        check_scheduler_address(str(value), "render.cluster", or_local=True)
    except UserError as exc:
        raise SettingError(str(exc)) from None


def needs(value: Any) -> None:
    """GPU=1 or NAME=AMOUNT,… (what a cluster worker must offer)."""
    try:
        parse_resources(str(value), "render.cluster_needs")
    except UserError as exc:
        raise SettingError(str(exc)) from None


def storage(value: Any) -> None:
    """s3://bucket/folder or gs://bucket/folder."""
    from app.domain.storage import parse_target

    try:
        parse_target(str(value))
    except UserError as exc:
        raise SettingError(f"storage.target: {exc}") from None


def gcs_key(value: Any) -> None:
    """A service account's JSON key (its contents, not its file name)."""
    import json

    try:
        key = json.loads(str(value))
    except ValueError:
        key = None
    if not isinstance(key, dict) or "private_key" not in key or "client_email" not in key:
        raise SettingError(
            "storage.gcs_key: not a service account's JSON key — paste the whole key file's "
            "contents (Google Cloud console › IAM › Service accounts › Keys)"
        )


def origins(value: Any) -> None:
    """Web pages that may call the API: each one origin (scheme, host, port) — never "*",
    which would let any page a user opens drive Cadence."""
    from urllib.parse import urlparse

    for origin in (o.strip() for o in str(value).split(",") if o.strip()):
        url = urlparse(origin)
        if (
            url.scheme not in ("http", "https")
            or not url.hostname
            or "*" in origin
            or url.path not in ("", "/")
            or url.query
            or url.username
        ):
            raise SettingError(
                f"api.cors_origins: {origin!r} is not a web page's origin — list origins like "
                'https://dashboard.example:8443, comma-separated ("*" is never allowed)'
            )


def category(value: Any) -> str:
    """A YouTube category, by id or name: stored as its id."""
    from app.domain.publishing import category_id

    try:
        return category_id(str(value))
    except UserError as exc:
        raise SettingError(f"publish.category_id: {str(exc).removeprefix('category: ')}") from None
