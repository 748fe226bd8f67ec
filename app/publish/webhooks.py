"""Job webhooks: a JSON POST signed with HMAC-SHA256, retried with backoff, http(s) only.

The receiver checks ``X-Cadence-Signature: sha256=<hex>`` by computing
``hmac_sha256(secret, raw_body)`` with the secret shown by ``settings reveal webhook.secret``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from app import __version__
from app.domain.errors import UserError

log = logging.getLogger(__name__)
HEADER = "X-Cadence-Signature"


class WebhookError(UserError):
    """The receiver refused the webhook or could not be reached after every retry."""


class _Transient(Exception):
    pass


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(
    progress: dict[str, Any], finished_at: str | None, posts: list[dict[str, Any]] | None = None
) -> bytes:
    """The job's summary; a publishing job's adds each post — item, row, platform, status,
    link — one per platform each video went to."""
    data: dict[str, Any] = {
        "job_id": progress["job_id"],
        "state": progress["state"],
        "percent_complete": progress["percent_complete"],
        "items_total": progress["items_total"],
        "items_completed": progress["items_completed"],
        "items_failed": progress["items_failed"],
        "finished_at": finished_at,
    }
    if posts:
        data["posts"] = posts
    return json.dumps(data, separators=(",", ":")).encode()


def deliver(
    url: str, body: bytes, secret: str, *, attempts: int = 5, max_wait: float = 60.0
) -> int:
    """POST ``body`` to ``url``; returns the HTTP status. Retries network errors, 429 and 5xx."""
    if urlparse(url).scheme not in ("http", "https"):
        raise WebhookError(f"webhook address {url!r} must start with http:// or https://")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Cadence/{__version__}",
        HEADER: sign(secret, body),
    }

    @retry(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(initial=1, max=max_wait),
        reraise=True,
    )
    def post() -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise _Transient(f"HTTP {exc.code}") from exc
            raise WebhookError(f"the webhook receiver refused it (HTTP {exc.code})") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise _Transient(str(getattr(exc, "reason", exc))) from exc

    try:
        return post()
    except _Transient as exc:
        raise WebhookError(
            f"the webhook could not be delivered after {attempts} tries ({exc})"
        ) from exc
