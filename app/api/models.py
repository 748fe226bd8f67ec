"""What the API takes and gives, as pydantic models (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.changes import Changes, Done

Priority = Literal["low", "normal", "high"]
Level = Literal["strict", "moderate", "permissive"]
RecordId = Annotated[int, Field(ge=1, le=2**62)]  # what SQLite's INTEGER holds
JobActionName = Literal["pause", "resume", "cancel", "retry", "execute", "delete"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChangesOut(BaseModel):
    jobs: list[int] = []
    items: list[int] = []
    schedules: list[int] = []
    settings: list[str] = []

    @classmethod
    def of(cls, changes: Changes) -> ChangesOut:
        return cls(
            jobs=sorted(changes.jobs),
            items=sorted(changes.items),
            schedules=sorted(changes.schedules),
            settings=sorted(changes.settings),
        )


class Result(BaseModel):
    """What an operation did: a sentence for people, and the ids it changed."""

    message: str
    changes: ChangesOut

    @classmethod
    def of(cls, done: Done) -> Result:
        return cls(message=done.message, changes=ChangesOut.of(done.changes))


class Output(Strict):
    container: Literal["mp4", "mov", "webm"] | None = None
    video_codec: str | None = Field(None, max_length=20)
    audio_codec: str | None = Field(None, max_length=20)
    resolution: str | None = Field(None, max_length=20, examples=["1080p"])
    vertical: bool = False
    optimize: str | None = Field(None, max_length=20)
    footage: Literal["auto", "free", "pexels", "pixabay", "local", "none"] | None = Field(
        None,
        description="backgrounds: auto (stock footage with a key, then pictures that need "
        "none), free (only those), stock footage, the assets folder, or the style's only",
    )
    folder: str | None = Field(None, max_length=1000, description="where its videos go")
    storage: str | None = Field(
        None,
        max_length=1000,
        description="also deliver the videos to s3://bucket/folder or gs://bucket/folder; "
        "'none': only the folder; absent: the storage.target setting",
        examples=["s3://my-bucket/videos"],
    )
    needs: str | None = Field(
        None,
        max_length=200,
        description="on a render cluster: what a worker must offer to render these videos; "
        "absent: the render.cluster_needs setting",
        examples=["GPU=1"],
    )

    def config(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v not in (None, False)}


class Source(Strict):
    source: str = Field(
        min_length=1,
        max_length=2000,
        description="A Google Sheet URL or id, or a CSV/XLSX file on this computer",
    )
    tab: str | None = Field(None, max_length=200)
    range: str | None = Field(None, max_length=100, examples=["A1:K50"])
    level: Level = "moderate"


class JobCreate(Source):
    title: str | None = Field(None, min_length=1, max_length=200)
    priority: Priority = "normal"
    output: Output | None = None
    style: str | None = Field(None, max_length=100)
    deadline_minutes: int | None = Field(None, ge=1, le=525600)
    callback_url: str | None = Field(None, max_length=2000)
    scheduling: dict[str, Any] | None = Field(
        None, description="mode, start_at, end_at, timezone, max_concurrent, rules … as the CLI"
    )
    write_back: bool | None = None
    publish: dict[str, Any] | None = Field(
        None,
        description="target youtube | tiktok | youtube,tiktok | sheet[:youtube]; channel "
        "(YouTube), accounts {platform: account}, tiktok {privacy, music_consent, "
        "allow_comment, allow_duet, allow_stitch, your_brand, branded_content, ai_generated}, "
        "privacy, publish_at | every+first … as the CLI",
    )


class JobPatch(Strict):
    priority: Priority | None = None
    start_at: AwareDatetime | None = Field(None, description="a new start, before it starts")


class JobSummary(BaseModel):
    id: int
    title: str
    state: str
    priority: str
    items_total: int
    items_completed: int
    items_failed: int
    percent_complete: float
    created_at: datetime
    updated_at: datetime
    next_run: datetime | None
    schedule: str | None
    eta: datetime | None
    publishing: str


class JobPage(BaseModel):
    jobs: list[JobSummary]
    total: int = Field(description="jobs matching the filters")
    next_page_token: str | None


class Created(BaseModel):
    id: int
    title: str
    items: int
    skipped_rows: list[int]
    changes: ChangesOut


class Progress(BaseModel):
    job_id: int
    state: str
    percent_complete: float
    items_total: int
    items_completed: int
    items_failed: int
    items_running: int
    items_pending: int
    items_skipped: int
    items_canceled: int
    processing_seconds: float
    seconds_per_item: float | None
    eta: str | None
    rate_limited: bool
    rate_limited_until: str | None
    waiting_until: str | None


class Bulk(Strict):
    action: JobActionName
    ids: list[RecordId] = Field(min_length=1, max_length=500)


class BulkOutcome(BaseModel):
    id: int
    ok: bool
    status: int
    message: str


class BulkResult(BaseModel):
    results: list[BulkOutcome]
    changes: ChangesOut


class Reject(Strict):
    reason: str = Field("", max_length=500)
    render_again: bool = False


class Reschedule(Strict):
    publish_at: AwareDatetime


class ScheduleCreate(Source):
    name: str = Field(min_length=1, max_length=200)
    expression: str = Field(
        min_length=1, max_length=200, examples=["daily@09:00", "0 9 * * mon-fri"]
    )
    timezone: str | None = Field(None, max_length=64, examples=["Europe/Berlin"])
    topic: str = Field("", max_length=200, examples=["Ideas for {date}"])
    priority: Priority = "normal"
    output: Output | None = None
    style: str | None = Field(None, max_length=100)
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None


class SchedulePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    expression: str | None = Field(None, min_length=1, max_length=200)
    timezone: str | None = Field(None, min_length=1, max_length=64)
    topic: str | None = Field(None, max_length=200)


class ScheduleCreated(BaseModel):
    id: int
    message: str
    next_runs: list[datetime]
    valid_rows: int
    changes: ChangesOut


class SettingsPatch(Strict):
    values: dict[str, str | int | float | bool | None] = Field(
        description='setting names and new values; null or "" restores the default'
    )


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    engine: Literal["running", "stopped"]
    database: Literal["ok", "unavailable"]
    disk_free_bytes: int | None
    versions: dict[str, str]


# What the read endpoints answer: every field named and typed, so the document says exactly
# what comes back. Settings a job stores as it was given (output, scheduling, publish) and
# an item's outputs and idea stay objects: their fields are documented in the README.


class JobSource(BaseModel):
    kind: Literal["csv", "xlsx", "gsheet"]
    location: str
    tab: str | None
    range: str | None


class Attempt(BaseModel):
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    error: str | None


class UploadOut(BaseModel):
    destination: str = Field(description="youtube | tiktok")
    channel: str = Field(description="the account's id on that platform")
    status: str
    privacy: str
    publish_at: datetime | None
    video_id: str | None
    url: str | None
    uploaded_bytes: int
    size: int | None
    note: str | None
    rejected_reason: str | None


class ItemOut(BaseModel):
    id: int
    row: int
    title: str
    state: str
    stage: str | None
    progress: float
    attempts: int = Field(description="render attempts")
    upload_attempts: int = Field(description="upload attempts, counted apart")
    error: str | None
    outputs: dict[str, Any]
    output_url: str | None
    video_id: str | None
    phase: str
    upload: UploadOut | None = Field(description="the first platform's (YouTube's when it has one)")
    uploads: list[UploadOut] = Field(description="one per platform the video goes to")
    warnings: list[Any]
    idea: dict[str, Any]
    updated_at: datetime | None
    history: list[Attempt]


class JobDetail(BaseModel):
    id: int
    title: str
    state: str
    priority: str
    source: JobSource
    validation_level: str
    style: str | None
    deadline_minutes: int | None
    callback_url: str | None
    output: dict[str, Any]
    scheduling: dict[str, Any]
    publish: dict[str, Any]
    items_total: int
    items_completed: int
    items_failed: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    items: list[ItemOut]
    progress: Progress
    left_out: list[dict[str, Any]] = Field(
        description="rows of the sheet the job left out, each with its problems"
    )


class LastRun(BaseModel):
    what: str
    at: datetime
    detail: Any = Field(None, description="the job made, the error, or when it is scheduled")


class ScheduleOut(BaseModel):
    id: int
    name: str
    expression: str
    timezone: str
    state: Literal["active", "paused"]
    start: datetime | None
    end: datetime | None
    next_run: datetime | None
    last: LastRun | None


class NextRun(BaseModel):
    at: datetime
    schedule: str


class Stats(BaseModel):
    jobs_total: int
    jobs_active: int
    jobs_by_state: dict[str, int]
    items_completed: int
    items_failed: int
    items_pending: int
    success_rate: float | None = Field(description="percent of finished videos that succeeded")
    completed_last_day: int
    engine_running: bool
    next_runs: list[NextRun]


class SourceReport(BaseModel):
    valid: int
    invalid: int
    all_valid: bool
    rows: list[dict[str, Any]] = Field(description="one entry a row: its problems, or skipped")


SettingValue = str | int | float | bool
