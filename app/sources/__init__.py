"""Where idea rows come from: local CSV/XLSX files (and, later, Google Sheets)."""

from app.sources.table import SheetTable, SourceError

__all__ = ["SheetTable", "SourceError"]
