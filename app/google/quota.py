"""The YouTube quota ledger: what Cadence spent per Google project and Pacific-time day.

Uploads have their own daily bucket (``videos.insert`` calls); every other call spends units
from the project's daily pool. Google's quota resets at midnight Pacific time, so a day here
is a Pacific date. Limits and costs are settings, since Google changes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.publishing import quota_day, quota_reset
from app.store.database import Database
from app.store.models import QuotaUse, utcnow


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    uploads: int = 100  # videos.insert calls a day
    units: int = 10_000  # the shared pool
    read: int = 1  # units per list call
    write: int = 50  # units per thumbnails.set, playlistItems.insert, videos.update

    @property
    def after_upload(self) -> int:
        """Units an upload spends besides itself: thumbnail, playlist, a few reads."""
        return 2 * self.write + 4 * self.read


@dataclass(frozen=True, slots=True)
class QuotaToday:
    project: str
    uploads: int
    units: int
    limits: QuotaLimits
    resets_at: datetime

    @property
    def uploads_left(self) -> int:
        return max(0, self.limits.uploads - self.uploads)

    @property
    def units_left(self) -> int:
        return max(0, self.limits.units - self.units)

    @property
    def can_upload(self) -> bool:
        return self.uploads_left > 0 and self.units_left >= self.limits.after_upload

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "uploads": self.uploads,
            "uploads_limit": self.limits.uploads,
            "units": self.units,
            "units_limit": self.limits.units,
            "resets_at": self.resets_at.isoformat(),
        }


class QuotaLedger:
    def __init__(
        self,
        db: Database,
        limits: Callable[[], QuotaLimits],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.limits = limits
        self.clock = clock

    def today(self, project: str) -> QuotaToday:
        now = self.clock()
        with self.db.read() as session:
            row = session.get(QuotaUse, (project, quota_day(now).isoformat()))
            uploads, units = (row.uploads, row.units) if row is not None else (0, 0)
        return QuotaToday(project, uploads, units, self.limits(), quota_reset(now))

    def spend(self, project: str, *, uploads: int = 0, units: int = 0) -> None:
        day = quota_day(self.clock()).isoformat()
        with self.db.write() as session:
            row = session.get(QuotaUse, (project, day))
            if row is None:
                row = QuotaUse(project=project, day=day, uploads=0, units=0)
                session.add(row)
            row.uploads += uploads
            row.units += units

    def exhaust(self, project: str) -> None:
        """Google said the quota is spent: count today as full, whatever we counted."""
        limits = self.limits()
        today = self.today(project)
        self.spend(
            project,
            uploads=max(0, limits.uploads - today.uploads),
            units=max(0, limits.units - today.units),
        )

    def all_today(self) -> list[QuotaToday]:
        """Today's use of every project that spent anything today (for the monitor)."""
        now = self.clock()
        with self.db.read() as session:
            rows = session.scalars(
                select(QuotaUse).where(QuotaUse.day == quota_day(now).isoformat())
            ).all()
            found = [(r.project, r.uploads, r.units) for r in rows]
        limits = self.limits()
        return [QuotaToday(p, u, n, limits, quota_reset(now)) for p, u, n in found]
