"""Tables, as SQLAlchemy 2.0 typed ORM classes. Change one only together with a migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out (SQLite stores no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Job(Base):
    """A bulk job: one source, one output configuration, many items."""

    __tablename__ = "jobs"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an id is never given twice

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    source_kind: Mapped[str] = mapped_column(String(16))
    source_location: Mapped[str] = mapped_column(Text)
    source_tab: Mapped[str | None] = mapped_column(String(200))
    source_range: Mapped[str | None] = mapped_column(String(64))
    validation_level: Mapped[str] = mapped_column(String(16), default="moderate")
    output_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    style: Mapped[str | None] = mapped_column(String(64))
    deadline_minutes: Mapped[int | None]
    callback_url: Mapped[str | None] = mapped_column(Text)
    scheduling: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    rate_limited_until: Mapped[datetime | None]  # an API quota holds the job until then
    write_back: Mapped[bool] = mapped_column(default=False)  # row statuses to its Google Sheet
    publish: Mapped[dict[str, Any]] = mapped_column(default=dict)  # `PublishConfig`; {}: none
    header_row: Mapped[int | None]  # the sheet row holding the column titles (write-back)
    # The sheet's rows the job left out: {"row", "title", "problems": [...]} — validation's
    # invalid rows and the empty rows it skipped.
    left_out: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))

    items: Mapped[list[Item]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="Item.row_number"
    )


class Item(Base):
    """One source row of a job, and everything that happened to it."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_job_state", "job_id", "state"),
        {"sqlite_autoincrement": True},  # an id is never given twice
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    idea: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_url: Mapped[str | None] = mapped_column(Text)  # the video in object storage, if sent
    error: Mapped[str | None] = mapped_column(Text)
    video_id: Mapped[str | None] = mapped_column(String(64))
    not_before: Mapped[datetime | None]  # a retry, a time rule or a start time waits until then
    rank: Mapped[int] = mapped_column(default=1)  # the row's priority: 2 high, 1 normal, 0 low
    cost: Mapped[float] = mapped_column(default=0.0)  # relative render cost, for ordering
    sheet_status: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # last written to the sheet
    sheet_synced_at: Mapped[datetime | None]  # the updated_at that status reflects
    phase: Mapped[str] = mapped_column(String(16), default="render")  # render|approval|upload
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    done_by: Mapped[datetime | None]  # while it renders: when it is expected to end

    job: Mapped[Job] = relationship(back_populates="items")
    # One per platform the item's video goes to (YouTube first).
    uploads: Mapped[list[Upload]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Upload.rank"
    )
    executions: Mapped[list[Execution]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Execution.id"
    )

    @property
    def upload(self) -> Upload | None:
        """The item's first destination's upload (YouTube's when it has one)."""
        return self.uploads[0] if self.uploads else None

    def upload_to(self, destination: str) -> Upload | None:
        return next((u for u in self.uploads if u.destination == destination), None)


class Upload(Base):
    """An item's way to one platform: the plan, and an upload that survives restarts."""

    __tablename__ = "uploads"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    destination: Mapped[str] = mapped_column(
        String(16), primary_key=True, default="youtube", server_default="youtube"
    )
    rank: Mapped[int] = mapped_column(default=0, server_default="0")  # order among the item's
    channel_id: Mapped[str] = mapped_column(String(64), index=True)  # the account's id
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    privacy: Mapped[str] = mapped_column(String(16), default="private")  # as asked
    publish_at: Mapped[datetime | None]  # planned; None: at once
    session_uri: Mapped[str | None] = mapped_column(Text)  # the resumable session, when open
    # The platform's id for the post before it is public (TikTok's publish_id), stored
    # before the first byte is sent; and what else the platform's upload needs to resume.
    post_id: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    session_started_at: Mapped[datetime | None]
    file_size: Mapped[int | None]
    offset: Mapped[int] = mapped_column(default=0)  # bytes YouTube confirmed
    attempts: Mapped[int] = mapped_column(default=0)  # upload attempts that ended unfinished
    video_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    actual_privacy: Mapped[str | None] = mapped_column(String(16))  # what YouTube reports
    steps_done: Mapped[list[Any]] = mapped_column(default=list)  # thumbnail, playlist, checked
    note: Mapped[str | None] = mapped_column(Text)  # what the user should know
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    item: Mapped[Item] = relationship(back_populates="uploads")


class Channel(Base):
    """An account signed in for publishing — a YouTube channel, a TikTok account … (its
    token is a secret, not here)."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="youtube", server_default="youtube")
    title: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200), default="")
    project: Mapped[str] = mapped_column(String(200), default="")  # the OAuth client's project
    hold: Mapped[str | None] = mapped_column(Text)  # why its uploads wait, e.g. signed out
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarSettings(Base):
    """A channel's planning rules for the content calendar; channel "" holds the default."""

    __tablename__ = "calendar_configs"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)  # changed settings only
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VideoStat(Base):
    """One reading of a published video's figures (views, likes, comments), taken once a day."""

    __tablename__ = "video_stats"
    __table_args__ = (Index("ix_video_stats_item_fetched", "item_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    video_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    fetched_at: Mapped[datetime] = mapped_column(index=True)
    views: Mapped[int]
    likes: Mapped[int | None]  # None: the channel hides them
    comments: Mapped[int | None]  # None: comments are off


class QuotaUse(Base):
    """What Cadence spent of a Google project's YouTube quota on one Pacific-time day."""

    __tablename__ = "quota_use"

    project: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, Pacific
    uploads: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)


class Schedule(Base):
    """A recurring or one-off plan that creates jobs from a template."""

    __tablename__ = "schedules"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an id is never given twice

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    expression: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    topic_template: Mapped[str] = mapped_column(Text, default="")
    job_template: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    paused: Mapped[bool] = mapped_column(default=False)
    # Single runs moved on the calendar: the run's own instant → where it runs instead (ISO).
    moved_runs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Indexed: the engine asks after every run what changed since its last look.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class Execution(Base):
    """One attempt at one item: history, kept until pruned."""

    __tablename__ = "executions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship(back_populates="executions")


class AuditEntry(Base):
    """Who did what to what, and when: every user action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Setting(Base):
    """A key with a JSON value."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
