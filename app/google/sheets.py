"""The Sheets client: gspread's HTTP client, rate-limited, retried, with errors a user can act on.

Every request takes a token from the engine's `RateLimiter` (per account, per app). Quota
errors (429) wait for Google's ``Retry-After`` (the limiter holds every request until then);
server errors and a dropped network are retried with growing waits through tenacity. What
cannot be retried becomes a `SheetError` saying what to do — which sheet, which account to
share it with, which tab or range is wrong.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from app.domain.errors import UserError
from app.google import endpoints
from app.google.auth import Account
from app.google.ratelimit import RateLimiter

log = logging.getLogger(__name__)
_SHEET_URL = re.compile(r"docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)")
ATTEMPTS = 6


class SheetError(UserError):
    """A sheet that cannot be read or written; the message says why and what to do."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient  # worth trying again later (network, quota, Google down)


class _Retryable(Exception):
    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait


def sheet_id(location: str) -> str:
    """The spreadsheet id in a full URL, or the bare id itself."""
    match = _SHEET_URL.search(location)
    return match.group(1) if match else location.strip()


def _google_message(response: requests.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.reason or f"HTTP {response.status_code}"


def _wait(state: RetryCallState) -> float:
    """Google's Retry-After when it gave one, else jittered exponential backoff."""
    error = state.outcome.exception() if state.outcome else None
    backoff = wait_random_exponential(multiplier=1, max=60)(state)
    if isinstance(error, _Retryable) and error.wait:
        return max(error.wait, 0.0)
    return backoff


class LimitedHTTPClient(HTTPClient):
    """gspread's HTTP client with Cadence's rate limiter, retries and endpoint override."""

    limiter: RateLimiter | None = None
    account: str = ""
    job_id: int | None = None
    on_refreshed: Callable[[Credentials], None] | None = None
    sleep: Callable[[float], None] | None = None

    def __init__(self, auth: Credentials, session: requests.Session | None = None) -> None:
        refresh_session = endpoints.mount(requests.Session())
        authorized = AuthorizedSession(auth, auth_request=Request(refresh_session))
        endpoints.mount(authorized)
        super().__init__(auth, session=authorized)
        self.auth = auth
        self.set_timeout((10, 60))

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        token_before = getattr(self.auth, "token", None)

        @retry(
            retry=retry_if_exception_type(_Retryable),
            wait=_wait,
            stop=stop_after_attempt(ATTEMPTS),
            reraise=True,
            sleep=self.sleep or _sleep,
        )
        def attempt() -> requests.Response:
            if self.limiter is not None:
                self.limiter.acquire(self.account, job_id=self.job_id)
            try:
                return HTTPClient.request(self, *args, **kwargs)
            except APIError as exc:
                status = exc.response.status_code
                if status == 429:
                    wait = _retry_after(exc.response)
                    log.info("Google quota exceeded; waiting %.0f s", wait)
                    if self.limiter is None:
                        raise _Retryable("Google's quota is used up for now", wait) from exc
                    # The limiter holds every request (this one too) until Google's time.
                    self.limiter.hold(self.account, wait)
                    self.limiter.on_limited(self.job_id, wait)
                    raise _Retryable("Google's quota is used up for now", 0.001) from exc
                if status >= 500:
                    raise _Retryable(f"Google answered {status}") from exc
                raise
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise _Retryable("Google cannot be reached") from exc

        try:
            response = attempt()
        except _Retryable as exc:
            raise SheetError(
                f"{exc} — tried {ATTEMPTS} times; the job waits and tries again later",
                transient=True,
            ) from None
        if self.on_refreshed is not None and getattr(self.auth, "token", None) != token_before:
            self.on_refreshed(self.auth)  # a refreshed personal token is stored again
        return response


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        return 60.0  # Google's per-minute quotas refill within a minute
    return min(max(seconds, 1.0), 300.0)


@dataclass(frozen=True, slots=True)
class TabInfo:
    title: str
    sheet_id: int
    rows: int
    columns: int


@dataclass(frozen=True, slots=True)
class SheetInfo:
    id: str
    title: str
    tabs: tuple[TabInfo, ...]

    def tab(self, title: str | None) -> TabInfo:
        if not self.tabs:
            raise SheetError(f"the spreadsheet “{self.title}” has no tabs")
        if title is None:
            return self.tabs[0]
        for tab in self.tabs:
            if tab.title == title:
                return tab
        names = ", ".join(f"“{t.title}”" for t in self.tabs)
        raise SheetError(f"the spreadsheet “{self.title}” has no tab “{title}” — its tabs: {names}")


def quote_tab(title: str) -> str:
    """A tab name as A1 notation wants it: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


class SheetsClient:
    """One signed-in account's access to spreadsheets."""

    def __init__(
        self,
        credentials: Credentials,
        account: Account,
        *,
        limiter: RateLimiter | None = None,
        on_refreshed: Callable[[Credentials], None] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.account = account
        self.http = LimitedHTTPClient(credentials)
        self.http.limiter = limiter
        self.http.account = account.email
        self.http.on_refreshed = on_refreshed
        self.http.sleep = sleep

    def for_job(self, job_id: int | None) -> SheetsClient:
        self.http.job_id = job_id
        return self

    def _call(self, what: str, location: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except APIError as exc:
            raise self._explain(exc.response, location, what) from None
        except SheetError:
            raise
        except requests.RequestException as exc:
            raise SheetError(
                f"Google cannot be reached ({type(exc).__name__}) — check the connection",
                transient=True,
            ) from None

    def _explain(self, response: requests.Response, location: str, what: str) -> SheetError:
        status = response.status_code
        google = _google_message(response)
        if status == 404:
            return SheetError(
                f"no spreadsheet {location} was found — check the URL or ID (copy it from the "
                "browser's address bar)"
            )
        if status == 403:
            return SheetError(
                f"permission denied for spreadsheet {location} — {self.account.share_hint()}"
            )
        if status == 401:
            return SheetError(
                "Google refused the stored sign-in — sign in again: python main.py auth login"
            )
        if status == 400:
            return SheetError(f"Google could not {what}: {google} — check the tab and range")
        return SheetError(f"Google could not {what} (HTTP {status}: {google})", transient=True)

    def info(self, location: str) -> SheetInfo:
        key = sheet_id(location)
        data = self._call(
            "open the spreadsheet", location, lambda: self.http.fetch_sheet_metadata(key)
        )
        tabs = tuple(
            TabInfo(
                str(p["title"]),
                int(p.get("sheetId", 0)),
                int(p.get("gridProperties", {}).get("rowCount", 0)),
                int(p.get("gridProperties", {}).get("columnCount", 0)),
            )
            for p in (s["properties"] for s in data.get("sheets", []))
        )
        return SheetInfo(key, str(data.get("properties", {}).get("title", key)), tabs)

    def read(self, location: str, ranges: list[str]) -> list[list[list[Any]]]:
        """One batch read: the values of each range as the sheet shows them (formatted),
        rows with trailing blanks shortened, empty rows ``[]``, an empty range ``[]``."""
        key = sheet_id(location)
        data = self._call(
            "read the range",
            location,
            lambda: self.http.values_batch_get(
                key,
                ranges,
                params={
                    "valueRenderOption": "FORMATTED_VALUE",
                    "dateTimeRenderOption": "FORMATTED_STRING",
                    "majorDimension": "ROWS",
                },
            ),
        )
        return [list(r.get("values", [])) for r in data.get("valueRanges", [])]

    def write(self, location: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        """One ``values:batchUpdate`` with every range in ``data`` (written as plain text)."""
        key = sheet_id(location)
        result: dict[str, Any] = self._call(
            "write status columns",
            location,
            lambda: self.http.values_batch_update(
                key, body={"valueInputOption": "RAW", "data": data}
            ),
        )
        return result

    def add_columns(self, location: str, tab: TabInfo, count: int) -> None:
        key = sheet_id(location)
        body = {
            "requests": [
                {
                    "appendDimension": {
                        "sheetId": tab.sheet_id,
                        "dimension": "COLUMNS",
                        "length": count,
                    }
                }
            ]
        }
        self._call("add status columns", location, lambda: self.http.batch_update(key, body))
