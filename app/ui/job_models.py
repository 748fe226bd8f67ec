"""The table model for one job's items."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel):
    """Read-only rows built from records by per-column functions."""

    columns: Sequence[tuple[str, Callable[[Any], str]]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._records: list[Any] = []

    def set_records(self, records: Sequence[Any]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def record(self, row: int) -> Any:
        return self._records[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        return self.columns[index.column()][1](self._records[index.row()])

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][0]
        return None


def _output(item: dict[str, Any]) -> str:
    video = (item.get("outputs") or {}).get("video")
    return str(video).rsplit("/", 1)[-1] if video else ""


def _history(item: dict[str, Any]) -> str:
    lines = [
        f"attempt {h['attempt']}: {h['outcome'] or 'running'}"
        + (f" — {h['error']}" if h.get("error") else "")
        for h in item.get("history", [])
    ]
    return "\n".join(lines)


def published(item: dict[str, Any]) -> str:
    """An item's way to each platform, in words: awaiting approval, scheduled for …, posts at
    …, the link — "YouTube: published · … · TikTok: …" when it goes to several."""
    uploads = item.get("uploads") or ([item["upload"]] if item.get("upload") else [])
    if not uploads:
        return ""
    if item["state"] == "pending" and item.get("phase") == "approval":
        return "awaiting approval"
    if len(uploads) == 1:
        return _post_words(item, uploads[0])
    from app.domain.publishing import platform_name

    return "  ·  ".join(
        f"{platform_name(u.get('destination', 'youtube'))}: {_post_words(item, u)}" for u in uploads
    )


def _post_words(item: dict[str, Any], upload: dict[str, Any]) -> str:
    status = upload["status"]
    if status == "on_hold":
        return "on hold — sign the account in again (Settings › Accounts)"
    if status == "scheduled" and upload.get("publish_at"):
        when = datetime.fromisoformat(upload["publish_at"]).astimezone()
        return f"scheduled for {when:%a %d %b %H:%M} · {upload['url']}"
    if status in ("published", "private") and upload.get("url"):
        return f"{status} · {upload['url']}"
    if status == "failed":
        return f"not posted — {upload.get('note') or 'refused'}"
    if status == "uploading" and item["state"] == "running":
        return "uploading"
    ahead = upload.get("destination", "youtube") != "youtube" and upload.get("publish_at")
    if ahead and status in ("waiting", "queued"):
        when = datetime.fromisoformat(str(upload["publish_at"])).astimezone()
        if when > datetime.now().astimezone():
            return f"posts {when:%a %d %b %H:%M} from this computer"
    if item.get("phase") == "upload" and status in ("queued", "uploading", "uploaded"):
        return "waiting to upload"
    return {"waiting": "after rendering", "rejected": "rejected"}.get(status, status)


def _problem(item: dict[str, Any]) -> str:
    """Its error, else validation warnings and render notes (e.g. why no stock footage)."""
    notes = [w["message"] for w in item["warnings"]]
    notes += (item.get("outputs") or {}).get("notes") or []
    return item.get("error") or "; ".join(notes)


def _footage(item: dict[str, Any]) -> str:
    credits = (item.get("outputs") or {}).get("credits") or []
    if not credits:
        return ""
    providers = sorted({c.rsplit(" on ", 1)[-1].split(":")[0] for c in credits})
    return f"{len(credits)} clip{'s' if len(credits) != 1 else ''} · {', '.join(providers)}"


def _attempts(item: dict[str, Any]) -> str:
    """Render attempts, and upload attempts apart when there were any."""
    renders, uploads = item.get("attempts", 0), item.get("upload_attempts", 0)
    return f"{renders} · upload {uploads}" if uploads else str(renders)


class ItemsModel(RecordTableModel):
    columns = (
        ("Row", lambda i: str(i["row"])),
        ("Title", lambda i: i["title"]),
        ("State", lambda i: i["state"].capitalize()),
        ("Stage", lambda i: i.get("stage") or ""),
        ("Progress", lambda i: f"{i.get('progress', 0):.0%}"),
        ("Attempts", _attempts),
        ("Output", _output),
        ("Problem", _problem),
        ("Footage", _footage),
        ("Storage", lambda i: i.get("output_url") or ""),
        ("Published", published),  # last: the links people look for at the row's end
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and role == Qt.ItemDataRole.ToolTipRole and index.column() == 5:
            return _history(self.record(index.row())) or None  # the attempts, one per line
        if index.isValid() and role == Qt.ItemDataRole.ToolTipRole and index.column() == 8:
            credits = (self.record(index.row()).get("outputs") or {}).get("credits") or []
            return "\n".join(credits) or None  # whom each clip is by, and where it is
        return super().data(index, role)

    def upload(self, row: int) -> dict[str, Any] | None:
        upload = self.record(row).get("upload")
        return dict(upload) if upload else None

    def uploads(self, row: int) -> list[dict[str, Any]]:
        return [dict(u) for u in self.record(row).get("uploads") or []]

    def video(self, row: int) -> str | None:
        video = (self.record(row).get("outputs") or {}).get("video")
        return str(video) if video else None
