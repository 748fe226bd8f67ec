"""A Google Sheets API v4 server on loopback, for gspread's real HTTP code to talk to.

Built from what the real API answers (see the README's testing notes): metadata with
``sheets[].properties``, values ``get``/``batchGet`` that omit trailing empty cells and rows,
give ``[]`` for an empty row inside the range and no ``values`` key for an empty range,
formatted versus unformatted values, ``values:batchUpdate``, ``:batchUpdate`` with
``appendDimension``, and the JSON error bodies for 400/401/403/404/429/500. It also serves the
OAuth token and revoke endpoints, so service-account and refresh-token grants run for real.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from app.domain.a1 import column_index, column_letter
from tests.fake_youtube import YouTube

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
    "per user' of service 'sheets.googleapis.com' for consumer 'project_number:123456'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


@dataclass
class Date:
    """A date cell: a serial number unformatted, the text the sheet shows formatted."""

    serial: int
    shown: str


@dataclass
class Tab:
    title: str
    sheet_id: int
    rows: list[list[Any]] = field(default_factory=list)
    row_count: int = 1000
    column_count: int = 26


@dataclass
class Spreadsheet:
    id: str
    title: str
    tabs: list[Tab]
    readers: set[str] | None = None  # tokens allowed; None: every valid token


def _shown(value: Any, formatted: bool, serial_dates: bool) -> Any:
    if isinstance(value, Date):
        return value.shown if formatted or not serial_dates else value.serial
    if formatted and isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if formatted and isinstance(value, int | float):
        return (
            str(value)
            if not isinstance(value, float) or not value.is_integer()
            else str(int(value))
        )
    return value


def quote_tab(title: str) -> str:
    return title if re.fullmatch(r"[A-Za-z0-9_]+", title) else "'" + title.replace("'", "''") + "'"


class Google:
    """The state behind the server: spreadsheets, tokens, scripted failures, a request log."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.tokens: set[str] = {"test-token"}
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        self.bodies: list[Any] = []
        self.token_grants: list[dict[str, list[str]]] = []
        self.revoked: list[str] = []
        self.lock = threading.Lock()
        self.base_url = ""
        self.id_token: str | None = None  # returned by a code exchange (installed-app flow)
        self.youtube = YouTube()
        self.refuse_refresh = False  # the refresh token was revoked
        self.grant_scope = " ".join(
            [
                "https://www.googleapis.com/auth/spreadsheets",
                "openid",
                "https://www.googleapis.com/auth/userinfo.email",
            ]
        )

    def add(self, sheet_id: str, tabs: dict[str, list[list[Any]]], **kwargs: Any) -> Spreadsheet:
        spreadsheet = Spreadsheet(
            sheet_id,
            kwargs.pop("title", "Ideas"),
            [
                Tab(title, 1000 + n if n else 0, [list(r) for r in rows], **kwargs)
                for n, (title, rows) in enumerate(tabs.items())
            ],
        )
        self.spreadsheets[sheet_id] = spreadsheet
        return spreadsheet

    def fail_next(self, status: int, times: int = 1, **headers: str) -> None:
        with self.lock:
            self.failures += [
                (status, {k.replace("_", "-"): v for k, v in headers.items()})
            ] * times

    def values_reads(self) -> list[str]:
        return [p for m, p in self.requests if m == "GET" and "/values" in p]

    # Range handling, as the API does it

    def resolve(self, spreadsheet: Spreadsheet, text: str) -> tuple[Tab, int, int, int, int]:
        """(tab, first row, first col, last row, last col), 1-based, clipped to the grid."""
        text = unquote(text)
        if "!" in text:
            tab_part, cells = text.rsplit("!", 1)
        else:
            tab_part, cells = text, ""
        if tab_part.startswith("'") and tab_part.endswith("'"):
            tab_part = tab_part[1:-1].replace("''", "'")
        tab = next((t for t in spreadsheet.tabs if t.title == tab_part), None)
        if tab is None:
            if not cells and spreadsheet.tabs and re.fullmatch(r"[A-Z]+\d*(:[A-Z]+\d*)?", text):
                tab, cells = spreadsheet.tabs[0], text
            else:
                raise ValueError(f"Unable to parse range: {text}")
        if not cells:
            return tab, 1, 1, tab.row_count, tab.column_count
        match = re.fullmatch(r"([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?", cells)
        if not match or not (match.group(1) or match.group(2)):
            raise ValueError(f"Unable to parse range: {text}")
        c1, r1, c2, r2 = match.groups()
        first_col = column_index(c1) if c1 else 1
        first_row = int(r1) if r1 else 1
        if match.group(3) is None and match.group(4) is None:
            c2, r2 = c1, r1
        last_col = column_index(c2) if c2 else tab.column_count
        last_row = int(r2) if r2 else tab.row_count
        return (
            tab,
            first_row,
            first_col,
            min(last_row, tab.row_count),
            min(last_col, tab.column_count),
        )

    def read(
        self, spreadsheet: Spreadsheet, text: str, query: dict[str, list[str]]
    ) -> dict[str, Any]:
        tab, r1, c1, r2, c2 = self.resolve(spreadsheet, text)
        formatted = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0] == "FORMATTED_VALUE"
        serial = query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0] == "SERIAL_NUMBER"
        rows: list[list[Any]] = []
        for number in range(r1, r2 + 1):
            source = tab.rows[number - 1] if number - 1 < len(tab.rows) else []
            cells = [_shown(v, formatted, serial) for v in source[c1 - 1 : c2]]
            while cells and cells[-1] in ("", None):
                cells.pop()
            rows.append(["" if c is None else c for c in cells])
        while rows and not rows[-1]:
            rows.pop()
        answer: dict[str, Any] = {
            "range": f"{quote_tab(tab.title)}!{column_letter(c1)}{r1}:{column_letter(c2)}{r2}",
            "majorDimension": "ROWS",
        }
        if rows:
            answer["values"] = rows
        return answer

    def write(self, spreadsheet: Spreadsheet, text: str, values: list[list[Any]]) -> dict[str, Any]:
        tab, r1, c1, _r2, _c2 = self.resolve(spreadsheet, text)
        height, width = len(values), max((len(r) for r in values), default=0)
        if c1 + width - 1 > tab.column_count or r1 + height - 1 > tab.row_count:
            raise ValueError(
                f"Range ({quote_tab(tab.title)}!{column_letter(c1)}{r1}) exceeds grid limits. "
                f"Max rows: {tab.row_count}, max columns: {tab.column_count}"
            )
        for dy, row in enumerate(values):
            index = r1 - 1 + dy
            while len(tab.rows) <= index:
                tab.rows.append([])
            target = tab.rows[index]
            for dx, value in enumerate(row):
                col = c1 - 1 + dx
                while len(target) <= col:
                    target.append("")
                target[col] = value
        end = f"{column_letter(c1 + max(width, 1) - 1)}{r1 + max(height, 1) - 1}"
        return {
            "spreadsheetId": spreadsheet.id,
            "updatedRange": f"{quote_tab(tab.title)}!{column_letter(c1)}{r1}:{end}",
            "updatedRows": height,
            "updatedColumns": width,
            "updatedCells": sum(len(r) for r in values),
        }

    def metadata(self, spreadsheet: Spreadsheet) -> dict[str, Any]:
        return {
            "spreadsheetId": spreadsheet.id,
            "properties": {
                "title": spreadsheet.title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
            },
            "sheets": [
                {
                    "properties": {
                        "sheetId": tab.sheet_id,
                        "title": tab.title,
                        "index": n,
                        "sheetType": "GRID",
                        "gridProperties": {
                            "rowCount": tab.row_count,
                            "columnCount": tab.column_count,
                        },
                    }
                }
                for n, tab in enumerate(spreadsheet.tabs)
            ],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.id}/edit",
        }


class _Handler(BaseHTTPRequestHandler):
    google: Google

    def log_message(self, *_args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, indent=2, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._send(
            status,
            {
                "error": {
                    "code": status,
                    "message": message or MESSAGES[status],
                    "status": STATUS_NAMES[status],
                }
            },
            headers,
        )

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        google = self.google
        url = urlsplit(self.path)
        if url.path.startswith(("/youtube/", "/upload/youtube/")):
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            with google.lock:
                google.requests.append((method, self.path))
            google.youtube.handle(self, method, token in google.tokens, token)
            return
        query = parse_qs(url.query)
        body = self._body()
        with google.lock:
            google.requests.append((method, self.path))
            failure = google.failures.pop(0) if google.failures else None
        if url.path == "/token":
            form = parse_qs(body.decode())
            google.token_grants.append(form)
            if google.refuse_refresh and "refresh_token" in form:
                self._send(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
                return
            token = f"issued-{len(google.token_grants)}"
            google.tokens.add(token)
            answer: dict[str, Any] = {
                "access_token": token,
                "expires_in": 3599,
                "token_type": "Bearer",
            }
            if "code" in form:  # the installed-app flow's code exchange
                answer["refresh_token"] = "refresh-1"
                answer["scope"] = google.grant_scope
                if google.id_token:
                    answer["id_token"] = google.id_token
            self._send(200, answer)
            return
        if url.path == "/revoke":
            google.revoked.append(
                query.get("token", [parse_qs(body.decode()).get("token", [""])[0]])[0]
            )
            self._send(200, {})
            return
        if failure is not None:
            status, headers = failure
            self._error(status, headers=headers)
            return
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        if token not in google.tokens:
            self._error(401)
            return
        match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(.*)", url.path)
        if not match:
            self._error(404)
            return
        spreadsheet = google.spreadsheets.get(match.group(1))
        if spreadsheet is None:
            self._error(404)
            return
        if spreadsheet.readers is not None and token not in spreadsheet.readers:
            self._error(403)
            return
        rest = match.group(2)
        try:
            with google.lock:
                self._route(method, spreadsheet, rest, query, body)
        except ValueError as exc:
            self._error(400, str(exc))

    def _route(
        self,
        method: str,
        spreadsheet: Spreadsheet,
        rest: str,
        query: dict[str, list[str]],
        body: bytes,
    ) -> None:
        google = self.google
        if method == "GET" and rest == "":
            self._send(200, google.metadata(spreadsheet))
        elif method == "GET" and rest == "/values:batchGet":
            ranges = query.get("ranges", [])
            self._send(
                200,
                {
                    "spreadsheetId": spreadsheet.id,
                    "valueRanges": [google.read(spreadsheet, r, query) for r in ranges],
                },
            )
        elif method == "GET" and rest.startswith("/values/"):
            self._send(200, google.read(spreadsheet, rest.removeprefix("/values/"), query))
        elif method == "POST" and rest == "/values:batchUpdate":
            request = json.loads(body)
            google.bodies.append(request)
            responses = [
                google.write(spreadsheet, d["range"], d["values"]) for d in request["data"]
            ]
            self._send(
                200,
                {
                    "spreadsheetId": spreadsheet.id,
                    "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                    "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
                    "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                    "totalUpdatedSheets": 1,
                    "responses": responses,
                },
            )
        elif method == "POST" and rest == ":batchUpdate":
            request = json.loads(body)
            google.bodies.append(request)
            replies: list[dict[str, Any]] = []
            for change in request.get("requests", []):
                append = change.get("appendDimension")
                if append is None:
                    raise ValueError("only appendDimension is supported here")
                tab = next(t for t in spreadsheet.tabs if t.sheet_id == append["sheetId"])
                if append["dimension"] == "COLUMNS":
                    tab.column_count += int(append["length"])
                else:
                    tab.row_count += int(append["length"])
                replies.append({})
            self._send(200, {"spreadsheetId": spreadsheet.id, "replies": replies})
        else:
            self._error(404)


@contextmanager
def serve() -> Iterator[Google]:
    """A running fake on a free loopback port; ``google.base_url`` is its address."""
    google = Google()
    handler = type("Handler", (_Handler,), {"google": google})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    google.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield google
    finally:
        server.shutdown()
        server.server_close()
