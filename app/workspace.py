"""The user's workspace: the database plus the operations every front end performs.

The CLI and the GUI both call these; each user action is one transaction and one audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.changes import Changes, Done, JobAction, ScheduleAction
from app.domain.errors import UserError
from app.domain.idea import Priority
from app.domain.job import JobDraft
from app.domain.resources import parse_resources, worker_label
from app.domain.states import State
from app.domain.validation import Level, Rules, SheetReport
from app.export import render, write_atomically
from app.google.quota import QuotaLedger, QuotaLimits
from app.google.ratelimit import RateLimiter
from app.paths import DEMO_SHEET, AppPaths, folder_problem, unwritable
from app.secrets import SecretStore
from app.settings import Settings
from app.sources.intake import SourceSpec, load_report
from app.store import jobs as job_store
from app.store import queue
from app.store.database import Database
from app.store.settings import get_setting, set_setting
from app.store.stats import job_progress, workspace_stats

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.delivery.objects import StorageAccess
    from app.domain.estimate import Estimate, Pace
    from app.google.analytics import Analytics, FetchReport
    from app.google.auth import GoogleAuth
    from app.google.channels import Channels
    from app.google.publisher import PublishSettings
    from app.google.sheets import SheetsClient
    from app.planner import Planner

log = logging.getLogger(__name__)

DEMO_SEEDED = "workspace.demo_seeded"


def _check_cluster(value: Any) -> None:
    """``local``, or a Dask scheduler's address (tcp://host:port)."""
    from app.domain.cluster import check_scheduler_address
    from app.settings import SettingError

    try:
        check_scheduler_address(str(value), "render.cluster", or_local=True)
    except UserError as exc:
        raise SettingError(str(exc)) from None


def _check_needs(value: Any) -> None:
    """GPU=1 or NAME=AMOUNT,… (what a cluster worker must offer)."""
    from app.settings import SettingError

    try:
        parse_resources(str(value), "render.cluster_needs")
    except UserError as exc:
        raise SettingError(str(exc)) from None


def _check_storage(value: Any) -> None:
    """s3://bucket/folder or gs://bucket/folder."""
    from app.domain.storage import parse_target
    from app.settings import SettingError

    try:
        parse_target(str(value))
    except UserError as exc:
        raise SettingError(f"storage.target: {exc}") from None


def _check_gcs_key(value: Any) -> None:
    """A service account's JSON key (its contents, not its file name)."""
    import json

    from app.settings import SettingError

    try:
        key = json.loads(str(value))
    except ValueError:
        key = None
    if not isinstance(key, dict) or "private_key" not in key or "client_email" not in key:
        raise SettingError(
            "storage.gcs_key: not a service account's JSON key — paste the whole key file's "
            "contents (Google Cloud console › IAM › Service accounts › Keys)"
        )


def _check_origins(value: Any) -> None:
    """Web pages that may call the API: each one origin (scheme, host, port) — never "*",
    which would let any page a user opens drive Cadence."""
    from urllib.parse import urlparse

    from app.settings import SettingError

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


def _check_category(value: Any) -> str:
    """A YouTube category, by id or name: stored as its id."""
    from app.domain.publishing import category_id
    from app.settings import SettingError

    try:
        return category_id(str(value))
    except UserError as exc:
        raise SettingError(f"publish.category_id: {str(exc).removeprefix('category: ')}") from None


def _setting_text(value: Any) -> str | None:
    """A value from a form or a JSON body as a setting's text (None: back to the default)."""
    if value in ("", None):
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def _plain(text: str) -> str:
    """A name for a default title: its control characters (a line break in a file name)
    left out."""
    return "".join(c for c in text if c.isprintable()) or "ideas"


def _undated(title: str) -> str:
    """A job title without the date a new job's default title ends with (a schedule adds the
    date of each run itself)."""
    return title.removesuffix(f" — {date.today():%d %b %Y}").strip() or title


class NoValidRows(UserError):
    """A job would have no items; nothing was stored."""


@dataclass(frozen=True, slots=True)
class JobPlan:
    """A job read and checked, not yet stored (`Workspace.plan_job`)."""

    rows: job_store.NewJob
    title: str
    report: SheetReport


@dataclass(frozen=True, slots=True)
class CreatedJob:
    job_id: int
    title: str
    report: SheetReport
    schedule_id: int | None = None  # the schedule that makes it again, when asked for

    @property
    def item_count(self) -> int:
        return len(self.report.valid_rows)

    @property
    def changes(self) -> Changes:
        return Changes.of(jobs=[self.job_id])


class Workspace:
    def __init__(self, paths: AppPaths, front_end: str = "cli") -> None:
        self.paths = paths
        self.actor = job_store.current_actor(front_end)
        self.db = Database.open(paths.database)
        self.secrets = SecretStore(paths.secrets_file)
        self.settings = Settings(
            self.db,
            self.secrets,
            checks={
                "render.style": self._check_style,
                "output.folder": self._check_output_folder,
                "render.cluster": _check_cluster,
                "render.cluster_needs": _check_needs,
                "storage.target": _check_storage,
                "storage.gcs_key": _check_gcs_key,
                "api.cors_origins": _check_origins,
                "publish.category_id": _check_category,
            },
            actor=self.actor,
        )
        self.quota = QuotaLedger(self.db, self.quota_limits)
        self._limiter: RateLimiter | None = None
        self._cluster: Any = None  # the monitor's `ClusterLink`, made when first asked

    def close(self) -> None:
        self.close_cluster()
        self.db.close()

    def close_cluster(self) -> None:
        """The monitor's connection to the render cluster, if any, closed."""
        if self._cluster is not None:
            self._cluster.close()

    def _check_output_folder(self, folder: Any) -> None:
        """A folder of the user's videos can be written to."""
        from app.settings import SettingError

        path = Path(str(folder))
        why = folder_problem(path, self.paths) or unwritable(path)
        if why is not None:
            raise SettingError(
                f"output.folder: videos cannot be written to {path} ({why}) — choose a folder "
                "you can write to"
            )

    def _check_style(self, name: Any) -> None:
        from app.pipeline.styles import load_template, style_names, template_files
        from app.settings import SettingError

        names = style_names(self.paths.templates_dir)
        if str(name).lower() not in names:
            raise SettingError(
                f"render.style: {name!r} is not a style — use one of {', '.join(names)}"
            )
        template = template_files(self.paths.templates_dir).get(str(name).lower())
        if template is not None:
            try:
                load_template(template)
            except UserError as exc:
                raise SettingError(f"render.style: {exc}") from None

    # Google (its clients load on first use: the window is painted without them)

    @cached_property
    def google(self) -> GoogleAuth:
        from app.google.auth import GoogleAuth

        return GoogleAuth(self.secrets, self.paths.config_dir)

    @cached_property
    def channels(self) -> Channels:
        from app.google.channels import Channels

        return Channels(self.db, self.secrets)

    @property
    def limiter(self) -> RateLimiter:
        """Google request quotas, shared by every client of this workspace."""
        if self._limiter is None:
            self._limiter = RateLimiter(
                self.settings.integer("google.requests_per_user"),
                self.settings.integer("google.requests_per_project"),
            )
        return self._limiter

    @property
    def planner(self) -> Planner:
        """The content calendar's operations on this workspace."""
        from app.planner import Planner

        return Planner(self)

    def test_footage(self, provider: str) -> str:
        """Search a stock footage provider once with the stored key (Settings, the wizard)."""
        from app.pipeline.footage import check_key

        return check_key(provider, self.settings.text(f"footage.{provider}_key"))

    def quota_limits(self) -> QuotaLimits:
        number = self.settings.integer
        return QuotaLimits(
            uploads=number("youtube.daily_uploads"),
            units=number("youtube.daily_units"),
            read=number("youtube.cost_read"),
            write=number("youtube.cost_write"),
        )

    def publish_settings(self) -> PublishSettings:
        from app.domain.publishing import chunk_size
        from app.google.publisher import PublishSettings

        return PublishSettings(
            chunk_bytes=chunk_size(self.settings.integer("youtube.chunk_kb")),
            limits=self.quota_limits(),
        )

    def sheets(self, job_id: int | None = None) -> SheetsClient:
        """A Sheets client for the signed-in account (an `AuthError` says how to sign in)."""
        from app.google.sheets import SheetsClient

        credentials, account = self.google.credentials()
        client = SheetsClient(
            credentials,
            account,
            limiter=self.limiter,
            on_refreshed=self.google.save_refreshed,
        )
        return client.for_job(job_id)

    # Sources

    def rules(self, level: Level = Level.MODERATE) -> Rules:
        """What validation may accept here: an empty script is fine when a script writer
        (``llm.endpoint`` and ``llm.model``) is set up to write it."""
        writer = bool(self.settings.text("llm.endpoint") and self.settings.text("llm.model"))
        return Rules(level=level, can_generate_script=writer)

    def check_source(self, spec: SourceSpec, level: Level = Level.MODERATE) -> SheetReport:
        return load_report(spec, self.rules(level), self.sheets, self.paths.own_folders)

    # Jobs

    def plan_job(
        self,
        spec: SourceSpec,
        *,
        title: str | None = None,
        priority: Priority = Priority.NORMAL,
        level: Level = Level.MODERATE,
        output_config: dict[str, Any] | None = None,
        style: str | None = None,
        deadline_minutes: int | None = None,
        callback_url: str | None = None,
        scheduling: dict[str, Any] | None = None,
        write_back: bool | None = None,
        actor: str | None = None,
        schedule_id: int | None = None,
        publish: dict[str, Any] | None = None,
    ) -> JobPlan:
        """Read and validate the source: the job `store_job` stores, one item per valid row.

        Raises `SourceError` when the source cannot be read and `NoValidRows` when it has no
        valid row. Nothing is stored here.
        """
        location = spec.stored_location()
        self._check_job_output(output_config or {}, style)
        name = title or f"{_plain(Path(spec.location).stem)[:150]} — {date.today():%d %b %Y}"
        draft = JobDraft(
            title=name,
            source_kind=spec.kind,
            source_location=location,
            source_tab=spec.tab,
            source_range=spec.range,
            priority=priority,
            validation_level=level,
            output_config=output_config or {},
            style=style,
            deadline_minutes=deadline_minutes,
            callback_url=callback_url,
            scheduling=scheduling or {},
            write_back=write_back
            if write_back is not None
            else spec.kind == "gsheet" and self.settings.flag("google.write_back"),
            publish=self._publish_plan(publish, scheduling),
        ).checked()
        report = self.check_source(spec, level)
        if not report.valid_rows:
            raise NoValidRows(
                f"no row of {spec.location} is valid at the {level} level, so no job was "
                "created — fix the rows `validate` lists, or choose a more lenient level"
            )
        if not title and report.title:  # a Google Sheet: its own title, not its URL's last part
            draft = replace(draft, title=f"{_plain(report.title)[:150]} — {date.today():%d %b %Y}")
        header_row = self._title_row(spec, report) if draft.write_back else report.header_row
        if draft.publish.get("slots"):  # each video its own free slot on the channel's calendar
            times = self.planner.slots_for(len(report.valid_rows), draft.publish["channel"])
            draft = replace(
                draft, publish={**draft.publish, "slot_times": [t.isoformat() for t in times]}
            )
        rows = job_store.new_job(
            draft, report.rows, actor or self.actor, schedule_id, header_row, report.empty_rows
        )
        return JobPlan(rows, draft.title.strip(), report)

    def preview_job(self, spec: SourceSpec, **options: Any) -> tuple[JobPlan, Estimate]:
        """What `create_job` would make, checked the same way, and what it would take (the
        wizard's Review, ``jobs create --dry-run``) — nothing is stored."""
        plan = self.plan_job(spec, **options)
        found = self.estimate(
            [row.idea for row in plan.report.valid_rows if row.idea],
            options.get("output_config") or {},
            options.get("scheduling") or {},
            bool(options.get("publish")),
            style=options.get("style"),
            left_out=len(plan.report.invalid_rows),
        )
        return plan, found

    def store_job(
        self, plan: JobPlan, also: Callable[[Session, int], None] | None = None
    ) -> CreatedJob:
        """Store a planned job. ``also(session, job_id)`` records more in the job's own
        transaction (a schedule's run: one commit, not two)."""
        with self.db.write() as session:
            job_id = job_store.insert_job(session, plan.rows)
            if also is not None:
                also(session, job_id)
        log.info(
            "created job %s with %s items from %s",
            job_id, len(plan.rows.items), plan.rows.job["source_location"],
        )  # fmt: skip
        return CreatedJob(job_id, plan.title, plan.report)

    def create_job(
        self,
        spec: SourceSpec,
        *,
        title: str | None = None,
        priority: Priority = Priority.NORMAL,
        level: Level = Level.MODERATE,
        output_config: dict[str, Any] | None = None,
        style: str | None = None,
        deadline_minutes: int | None = None,
        callback_url: str | None = None,
        scheduling: dict[str, Any] | None = None,
        write_back: bool | None = None,
        actor: str | None = None,
        schedule_id: int | None = None,
        publish: dict[str, Any] | None = None,
        also: Callable[[Session, int], None] | None = None,
        repeat: dict[str, Any] | None = None,
    ) -> CreatedJob:
        """Validate the source and store a job with one item per valid row (`plan_job`,
        `store_job`). Raises `SourceError` when the source cannot be read and `NoValidRows`
        when it has no valid row (nothing is stored then).

        ``repeat`` (``expression``, ``timezone``): a schedule that makes this same job again —
        every setting of it — stored in the job's own transaction, the job its first run."""
        plan = self.plan_job(
            spec, title=title, priority=priority, level=level, output_config=output_config,
            style=style, deadline_minutes=deadline_minutes, callback_url=callback_url,
            scheduling=scheduling, write_back=write_back, actor=actor, schedule_id=schedule_id,
            publish=publish,
        )  # fmt: skip
        if repeat is None:
            return self.store_job(plan, also)
        made: list[int] = []

        def with_schedule(session: Session, job_id: int) -> None:
            made.append(self._repeat(session, job_id, plan, repeat))
            if also is not None:
                also(session, job_id)

        created = self.store_job(plan, with_schedule)
        return replace(created, schedule_id=made[0])

    def _repeat(self, session: Session, job_id: int, plan: JobPlan, repeat: dict[str, Any]) -> int:
        """The schedule that makes ``plan``'s job again, in its transaction; returns its id."""
        from app.store import schedules as schedule_store
        from app.store.models import Job

        name = _undated(plan.title)
        escaped = name.replace("{", "{{").replace("}", "}}")
        schedule = schedule_store.add_schedule(
            session,
            name=name,
            expression=str(repeat["expression"]),
            timezone=str(repeat["timezone"]),
            topic_template=f"{escaped} — {{date}}",
            job_template=schedule_store.template_of(plan.rows.job),
            actor=self.actor,
        )
        job = session.get(Job, job_id)
        assert job is not None
        job.schedule_id = schedule.id  # the job just made counts as the schedule's first
        return schedule.id

    def _check_job_output(self, output: dict[str, Any], style: str | None) -> None:
        """A job's own folder and style, checked where every front end creates a job (the
        codecs are `JobDraft`'s): a folder of the user's that can be written to, a style that
        exists (by name — never a path)."""
        from app.domain.job import DraftError

        folder = output.get("folder")
        if folder:
            why = folder_problem(Path(str(folder)), self.paths)
            if why is not None:
                raise DraftError("output folder", f"{folder}: {why}")
        if style:
            try:
                self._check_style(style)
            except UserError as exc:
                raise DraftError("style", str(exc).removeprefix("render.style: ")) from None

    def _publish_plan(
        self, publish: dict[str, Any] | None, scheduling: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The job's publishing settings with its channel named by id (a title or handle is
        looked up) and a time zone for times written without one."""
        from app.domain.schedule import local_zone_name

        plan = dict(publish or {})
        if not plan.get("target"):
            return plan
        if plan.get("channel"):
            plan["channel"] = self.channels.resolve(str(plan["channel"])).id
        else:  # one channel signed in: that is the one meant
            records = self.channels.records()
            if len(records) == 1:
                plan["channel"] = records[0].id
            elif records:
                names = ", ".join(r.label for r in records)
                raise UserError(f"name the channel to publish to (--channel) — signed in: {names}")
        plan.setdefault("timezone", (scheduling or {}).get("timezone") or local_zone_name())
        return plan

    def _title_row(self, spec: SourceSpec, report: SheetReport) -> int:
        """The row where write-back's column titles go: the sheet's header row, or — when the
        range has none — the empty row just above it. Anything else would put titles over
        the user's ideas, so write-back is refused then, saying why."""
        from app.domain.a1 import parse_range
        from app.domain.job import DraftError
        from app.google.sheets import quote_tab

        if report.header_row is not None:
            return report.header_row
        tab, first = spec.tab, 1
        if spec.range:
            named, area = parse_range(spec.range)
            tab, first = named or tab, area.first_row
        if first <= 1:
            raise DraftError(
                "write-back",
                "needs a header row: the range starts at row 1 with an idea, and the status "
                "column titles would go over it — add a header row (idea_title, description, "
                "…) above the ideas, or turn write-back off",
            )
        client = self.sheets()
        info = client.info(spec.location)
        [above] = client.read(
            spec.location, [f"{quote_tab(info.tab(tab).title)}!{first - 1}:{first - 1}"]
        )
        if any(str(cell).strip() for row in above for cell in row):
            raise DraftError(
                "write-back",
                f"needs a header row: the range has none, and row {first - 1} above it is "
                "not empty — add a header row to the range, or turn write-back off",
            )
        return first - 1

    def jobs(self, state: State | None = None) -> list[job_store.JobSummary]:
        with self.db.read() as session:
            return job_store.list_jobs(session, state)

    def job(self, job_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            job = job_store.get_job(session, job_id)
            if job is None:
                raise job_store.missing_job(job_id)
            record = job_store.job_record(job)
            record["progress"] = job_progress(
                session, job_id, self.settings.integer("engine.max_concurrent")
            )
            return record

    def job_progress(self, job_id: int) -> dict[str, Any]:
        """Items total/completed/failed/pending/skipped, timing with an ETA, rate limiting."""
        with self.db.read() as session:
            job_store.require_job(session, job_id)
            return job_progress(session, job_id, self.settings.integer("engine.max_concurrent"))

    def export(
        self,
        fmt: str,
        out: Path | None = None,
        state: State | None = None,
        ids: list[int] | None = None,
        items: bool = False,
    ) -> str:
        """The jobs (all, those in ``state``, or those in ``ids``) as text; written atomically
        to ``out`` when given (and audited)."""
        with self.db.read() as session:
            records = job_store.all_job_records(session, state)
        if ids is not None:
            wanted = set(ids)
            records = [r for r in records if r["id"] in wanted]
        text = render(records, fmt, items=items)
        if out is not None:
            write_atomically(out, text)
            with self.db.write() as session:
                job_store.audit(
                    session,
                    self.actor,
                    "jobs.export",
                    "job",
                    None,
                    format=fmt,
                    path=str(out),
                    jobs=len(records),
                )
        return text

    # First run

    def job_rows(self, ids: Collection[int] | None = None) -> list[job_store.JobRow]:
        """The job table's rows: every job, or only those in ``ids``."""
        with self.db.read() as session:
            return job_store.job_rows(session, ids)

    def job_page(
        self,
        sort: str,
        descending: bool,
        size: int,
        after: tuple[Any, int] | None = None,
        state: str | None = None,
        q: str | None = None,
    ) -> tuple[list[job_store.JobRow], tuple[Any, int] | None, int]:
        """One page of the job table sorted by a stored column (keyset, in SQL): its rows,
        the last one's (key, id) when more follow, and how many jobs match."""
        with self.db.read() as session:
            pairs, total = job_store.page_ids(session, sort, descending, after, size + 1, state, q)
            more = len(pairs) > size
            pairs = pairs[:size]
            rows = {r.id: r for r in job_store.job_rows(session, [i for i, _ in pairs])}
        ordered = [rows[job_id] for job_id, _ in pairs if job_id in rows]
        last = (pairs[-1][1], pairs[-1][0]) if more and pairs else None
        return ordered, last, total

    def news_since(self, audit_id: int | None) -> tuple[int, Changes | None]:
        """What others (the CLI, the API, a schedule run) changed since audit entry
        ``audit_id``, read from the audit log: the newest entry's id, and the jobs and
        settings touched — or None when something else changed (a schedule) and everything
        should be reloaded. The first call (``audit_id`` None) only learns where the log
        ends."""
        from app.store.models import AuditEntry

        with self.db.read() as session:
            newest = session.scalar(select(func.max(AuditEntry.id))) or 0
            if audit_id is None or newest <= audit_id:
                return newest, Changes()
            entries = session.execute(
                select(AuditEntry.target_kind, AuditEntry.target_id, AuditEntry.details)
                .where(AuditEntry.id > audit_id, AuditEntry.actor != self.actor)
                .limit(1000)
            ).all()
        if len(entries) >= 1000:
            return newest, None
        jobs: set[int] = set()
        settings: set[str] = set()
        for kind, target, details in entries:
            if kind == "job" and target is not None:
                jobs.add(target)
            elif kind == "item" and isinstance((details or {}).get("job"), int):
                jobs.add(details["job"])
            elif kind == "settings":
                settings.update(str(k) for k in (details or {}).get("keys") or ())
            elif kind not in ("item", "history"):
                return newest, None
        return newest, Changes.of(jobs=jobs, settings=settings)

    def overview(self, upcoming: int = 8, failures: int = 8) -> dict[str, Any]:
        """What the dashboard shows: totals, success rate, throughput, next runs, failures."""
        from app.store.models import Item, Job, utcnow

        now = utcnow()
        with self.db.read() as session:
            totals = workspace_stats(session)
            day = now - timedelta(days=1)
            totals["completed_last_day"] = (
                session.scalar(
                    select(func.count(Item.id)).where(
                        Item.state == State.COMPLETED.value, Item.finished_at >= day
                    )
                )
                or 0
            )
            recent = session.execute(
                select(Item.row_number, Item.title, Item.error, Item.finished_at, Job.id, Job.title)
                .join(Job)
                .where(Item.state == State.FAILED.value)
                .order_by(Item.finished_at.desc())
                .limit(failures)
            ).all()
            runs = self._schedule_runs(session, now, 1)
        runs.sort()
        return {
            "totals": totals,
            "next_runs": runs[:upcoming],
            "failures": [
                {
                    "job_id": job_id,
                    "job": job_title,
                    "row": row,
                    "title": title,
                    "error": error or "",
                    "at": at,
                }
                for row, title, error, at, job_id, job_title in recent
            ],
        }

    def dashboard(self, days: int = 30, ahead: int = 7) -> dict[str, Any]:
        """The overview, and what the dashboard draws: videos made per local day over the
        last ``days`` days, what is planned over the next ``ahead`` days (videos publishing,
        jobs starting, schedule runs), today's YouTube quota, and what needs the user."""
        from app.domain.daily import by_local_day
        from app.domain.schedule import local_zone_name
        from app.store import publishing, stats
        from app.store.models import Channel, Item, Job

        overview = self.overview(upcoming=200)
        now = self.planner.clock()
        zone = ZoneInfo(local_zone_name())  # the real zone: 30 days may cross a DST change
        today = now.astimezone(zone).date()
        since = datetime.combine(today - timedelta(days=days), datetime.min.time(), zone)
        with self.db.read() as session:
            made = by_local_day(stats.outcomes_since(session, since), today, days, zone)
            failed_jobs = session.execute(
                select(Job.id, Job.title, func.count(Item.id))
                .join(Item)
                .where(Item.state == State.FAILED.value)
                .where(Job.state.not_in((State.CANCELED.value, State.CANCELING.value)))
                .group_by(Job.id)
                .order_by(func.max(Item.finished_at).desc())
                .limit(6)
            ).all()
            approval = publishing.awaiting_approval(session)
            held = publishing.held_uploads(session)
            unsigned = publishing.unsigned_uploads(session)
        end = datetime.combine(today + timedelta(days=ahead), datetime.min.time(), zone)
        planned = [
            (o.when, "job starts" if o.kind.value == "job" else "video", o.job_id)
            for o in self.planner.state(now, end, with_runs=False).occurrences
        ]
        planned += [(when, "schedule run", None) for when, _name in overview["next_runs"]]
        projects = self.quota.all_today()
        limits = self.quota_limits()
        attention: list[dict[str, Any]] = [
            {"kind": "failed", "job_id": job_id, "title": title, "count": count}
            for job_id, title, count in failed_jobs
        ]
        if approval:
            attention.append({"kind": "approval", "count": approval})
        attention += [
            {"kind": "held", "channel": channel, "why": why, "count": count}
            for channel, why, count in held
        ]
        if unsigned:
            attention.append({"kind": "unsigned", "count": unsigned})
        with self.db.read() as session:
            own_source = session.scalar(
                select(Job.id).where(Job.source_location != str(DEMO_SHEET)).limit(1)
            )
            channel = session.scalar(select(Channel.id).limit(1))
            demo_used = session.scalar(  # the demo job was resumed: it was "tried"
                select(Job.id)
                .where(Job.source_location == str(DEMO_SHEET), Job.state != "paused")
                .limit(1)
            )
        welcome = {  # the first-run steps, each done or not
            "sheet": own_source is not None
            or demo_used is not None
            or self.google.account() is not None,
            "channel": channel is not None,
            "video": overview["totals"]["items_completed"] > 0,
        }
        return {
            **overview,
            "welcome": welcome,
            "next_runs": overview["next_runs"][:8],
            "made": made,
            "today": today,
            "planned": [(when, kind, job) for when, kind, job in planned if now <= when < end],
            "units_left": min((q.units_left for q in projects), default=limits.units),
            "units_limit": limits.units,
            "attention": attention,
        }

    # Estimates

    def render_pace(self, sizes: bool = True) -> Pace:
        """This computer's recent whole renders, as estimates learn from them (``sizes``:
        with their videos' sizes, for disk estimates — a file look each)."""
        from app.store.stats import render_pace

        with self.db.read() as session:
            return render_pace(session, sizes)

    def video_lengths(
        self, ideas: list[Any], style: str | None = None, pace: Pace | None = None
    ) -> list[float]:
        """How long each idea's video will be: its script spoken at the voice's measured pace,
        with the style's intro and outro (`app.domain.estimate`)."""
        from app.pipeline.errors import RenderError
        from app.pipeline.styles import pick_style

        pace = pace or self.render_pace()
        settings = self.settings
        templates = self.paths.templates_dir
        chosen: dict[str, tuple[float, float, int]] = {}
        lengths = []
        for idea in ideas:
            name = style or idea.style_override or settings.text("render.style")
            if name not in chosen:
                try:
                    found = pick_style(name, templates)
                    chosen[name] = (found.intro_seconds, found.outro_seconds, found.voice_rate)
                except RenderError:  # said when it renders; the estimate goes on
                    chosen[name] = (0.0, 0.0, 0)
            intro, outro, rate = chosen[name]
            lengths.append(
                pace.video_seconds(
                    idea.script_content,
                    float(idea.duration_seconds or 0),
                    wpm=rate or settings.integer("speech.rate"),
                    pause=float(settings.get("speech.pause")),
                    intro=intro,
                    outro=outro,
                )
            )
        return lengths

    def estimate(
        self,
        ideas: list[Any],
        output_config: dict[str, Any],
        scheduling: dict[str, Any],
        upload: bool,
        *,
        style: str | None = None,
        left_out: int = 0,
    ) -> Estimate:
        """What a job of these ideas will take (the wizard's Review, ``jobs create
        --dry-run``): render time, disk, quota, when its last video is ready."""
        from app.domain.estimate import estimate, job_lanes

        start_at = scheduling.get("start_at")
        now = datetime.now(UTC)
        start = max(now, datetime.fromisoformat(start_at)) if start_at else now
        limits = self.quota_limits()
        engine = self.settings.integer("engine.max_concurrent")
        lanes = job_lanes(scheduling.get("max_concurrent"), engine)
        pace = self.render_pace()
        return estimate(
            self.video_lengths(ideas, style, pace),
            str(output_config.get("resolution") or "1080p"),
            str(output_config.get("optimize") or "balanced"),
            lanes,
            start,
            pace,
            upload,
            units_per_day=limits.units,
            units_per_upload=1600 + limits.after_upload,
            left_out=left_out,
            footage=str(output_config.get("footage") or self.settings.get("footage.provider"))
            in ("pexels", "pixabay"),
        )

    # Styles

    def save_style(self, name: str, base: str, settings: dict[str, Any]) -> Path:
        """A style template made in the window, checked and saved in the templates folder."""
        from app.pipeline.style_templates import save_template

        path = save_template(self.paths.templates_dir, name, base, settings)
        with self.db.write() as session:
            job_store.audit(session, self.actor, "style.save", "style", None, name=name)
        return path

    def style_names(self) -> list[str]:
        from app.pipeline.styles import style_names

        return style_names(self.paths.templates_dir)

    # Analytics

    def analytics(self) -> Analytics:
        """Reads published videos' figures from YouTube (`due` once a day; `fetch` now)."""
        from app.google.analytics import Analytics

        return Analytics(self.db, self.channels, self.quota, self.quota_limits)

    def fetch_analytics(self) -> FetchReport:
        return self.analytics().fetch()

    def analytics_report(
        self, channel: str | None = None, job_id: int | None = None, days: int = 7
    ) -> dict[str, Any]:
        """What the Analytics page and `analytics` show: every published video (of a
        channel, of a job) with its readings, best first, by weekday and hour published,
        the median views over the first 30 days, the hours worth preferring, and when the
        figures were read."""
        from app.domain import analytics as figures
        from app.domain.schedule import local_zone_name
        from app.store import analytics as store
        from app.store.models import Channel, Job

        zone = ZoneInfo(local_zone_name())
        now = self.planner.clock()
        with self.db.read() as session:
            videos = store.histories(session, now, channel, job_id)
            last = store.last_read(session, channel)
            channels = [(c.id, c.title) for c in session.scalars(select(Channel))]
            job_ids = sorted({v.job_id for v in store.published(session, now)})
            jobs = [
                (j.id, j.title) for j in session.scalars(select(Job).where(Job.id.in_(job_ids)))
            ]
        return {
            "videos": videos,
            "last_read": last,
            "ranked": figures.ranked(videos, days),
            "weekday": figures.by_weekday(videos, zone, days),
            "hour": figures.by_hour(videos, zone, days),
            "median_curve": figures.median_curve(videos),
            "best_hours": figures.best_hours(figures.hour_scores(videos, zone, days)),
            "channels": channels,
            "jobs": jobs,
        }

    @staticmethod
    def _schedule_runs(session: Any, now: datetime, count: int) -> list[tuple[datetime, str]]:
        """(time, schedule name) of the next ``count`` runs of each active schedule."""
        from app.store import schedules as schedule_store
        from app.triggers import upcoming

        runs: list[tuple[datetime, str]] = []
        for schedule in schedule_store.active_schedules(session):
            try:
                found = upcoming(
                    schedule.expression, schedule.timezone, now, count,
                    schedule.start_at, schedule.end_at,
                )  # fmt: skip
            except UserError:  # stored before a rule tightened: shown by `schedule list`
                continue
            runs += [(when, schedule.name) for when in found]
        return runs

    def add_schedule(
        self,
        spec: SourceSpec,
        *,
        name: str,
        expression: str,
        timezone: str | None = None,
        topic: str = "",
        priority: Priority = Priority.NORMAL,
        level: Level = Level.MODERATE,
        output_config: dict[str, Any] | None = None,
        style: str | None = None,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
    ) -> tuple[Done, list[datetime], SheetReport]:
        """A schedule that makes a job from ``spec`` at each run of ``expression``: checked
        (its expression, zone, window, topic, output and source) before it is stored. Returns
        it, its next three runs and the source's report now."""
        from app.domain.dates import out_of_range
        from app.domain.output import OutputConfig
        from app.domain.schedule import ScheduleError, check_template, local_zone_name
        from app.store import schedules as schedule_store
        from app.triggers import upcoming

        tz_name = timezone or local_zone_name()
        for what, moment in (("start", start_at), ("end", end_at)):
            why = moment and out_of_range(moment)
            if why:
                raise ScheduleError(f"the {what}: {why}")
        if start_at and end_at and end_at <= start_at:
            raise ScheduleError("the end must be after the start")
        runs = upcoming(expression, tz_name, datetime.now(UTC), 3, start_at, end_at)
        if not runs:
            raise ScheduleError(f"{expression} has no run in the future — pick a later time")
        check_template(topic)
        output = dict(output_config or {})
        OutputConfig.from_dict(output)
        report = self.check_source(spec, level)
        location = spec.stored_location()
        self._check_job_output(output_config or {}, style)
        template = {
            "source": location, "tab": spec.tab, "range": spec.range,
            "priority": priority.value, "level": level.value, "output": output, "style": style,
        }  # fmt: skip
        with self.db.write() as session:
            schedule = schedule_store.add_schedule(
                session, name=name, expression=expression, timezone=tz_name,
                topic_template=topic, job_template=template, actor=self.actor,
                start_at=start_at, end_at=end_at,
            )  # fmt: skip
            schedule_id, shown = schedule.id, schedule.name
        message = f"Added schedule {schedule_id} “{shown}”."
        return Done(message, Changes.of(schedules=[schedule_id])), runs, report

    def edit_schedule(self, schedule_id: int, **changes: Any) -> Done:
        """Rename a schedule or change its expression, time zone or topic (checked)."""
        from app.store import schedules as schedule_store

        with self.db.write() as session:
            schedule_store.edit_schedule(session, schedule_id, self.actor, **changes)
        what = ", ".join(k.replace("_", " ") for k in changes) or "nothing"
        return Done(f"Schedule {schedule_id}: {what} changed.", Changes.of(schedules=[schedule_id]))

    def job_from_schedule(
        self,
        schedule: Any,
        when: datetime,
        also: Callable[[Session, int], None] | None = None,
    ) -> CreatedJob:
        """Create the job a schedule makes at ``when``; ``also`` as in `store_job`."""
        return self.store_job(self.plan_from_schedule(schedule, when), also)

    def plan_from_schedule(self, schedule: Any, when: datetime) -> JobPlan:
        """The job a schedule makes at ``when``: fresh rows from its source, a title from its
        topic template (or its name and the date)."""
        from app.domain.schedule import render_topic, zone

        template = dict(schedule.job_template)
        local = when.astimezone(zone(schedule.timezone))
        title = (
            render_topic(schedule.topic_template, local)
            if schedule.topic_template
            else f"{schedule.name} — {local:%d %b %Y %H:%M}"
        )
        return self.plan_job(
            SourceSpec(template["source"], tab=template.get("tab"), range=template.get("range")),
            title=title[:200],
            priority=Priority(template.get("priority", "normal")),
            level=Level(template.get("level", "moderate")),
            output_config=template.get("output", {}),
            style=template.get("style"),
            deadline_minutes=template.get("deadline_minutes"),
            callback_url=template.get("callback_url"),
            scheduling=template.get("scheduling"),
            write_back=template.get("write_back"),
            actor=f"schedule {schedule.id}",
            schedule_id=schedule.id,
            publish=template.get("publish") or None,
        )

    def schedule_rows(self) -> list[dict[str, Any]]:
        """Every schedule as `schedule list` and the Schedules view show it: state, window,
        next run and the last result."""
        from app.store import schedules as schedule_store
        from app.store.models import utcnow
        from app.triggers import upcoming

        with self.db.read() as session:
            found = [
                (s.id, s.name, s.expression, s.timezone, s.paused or not s.enabled,
                 s.start_at, s.end_at)
                for s in schedule_store.all_schedules(session)
            ]  # fmt: skip
        with self.db.read() as session:
            last = schedule_store.last_runs(session)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for sid, name, expression, tz_name, paused, start_at, end_at in found:
            try:
                runs = [] if paused else upcoming(expression, tz_name, now, 1, start_at, end_at)
            except UserError:  # stored before a rule tightened
                runs = []
            result = last.get(sid)
            rows.append({
                "id": sid, "name": name, "expression": expression, "timezone": tz_name,
                "state": "paused" if paused else "active",
                "start": start_at.isoformat() if start_at else None,
                "end": end_at.isoformat() if end_at else None,
                "next_run": runs[0].isoformat() if runs else None,
                "last": None if result is None else {
                    "what": result["what"], "at": result["at"].isoformat(),
                    "detail": result.get("error") or result.get("scheduled") or result.get("job"),
                },
            })  # fmt: skip
        return rows

    def schedule_action(self, schedule_id: int, action: str) -> Done:
        """pause | resume | remove | run (make its job now); returns what happened."""
        from app.store import schedules as schedule_store

        try:
            action = ScheduleAction(action)
        except ValueError:
            raise UserError(f"{action!r} is not something a schedule can do") from None
        changed = Changes.of(schedules=[schedule_id])
        if action == ScheduleAction.RUN:
            with self.db.read() as session:
                schedule = schedule_store.get_schedule(session, schedule_id)
            created = self.job_from_schedule(
                schedule,
                datetime.now(UTC),
                lambda session, job_id: job_store.audit(
                    session, self.actor, "schedule.ran", "schedule", schedule_id, job=job_id
                ),  # in the job's own transaction
            )
            return Done(
                f"Created job {created.job_id} “{created.title}” with {created.item_count} items.",
                changed | created.changes,
            )
        with self.db.write() as session:
            if action == ScheduleAction.REMOVE:
                schedule_store.remove_schedule(session, schedule_id, self.actor)
            else:
                schedule_store.set_paused(
                    session, schedule_id, action == ScheduleAction.PAUSE, self.actor
                )
        return Done(f"Schedule {schedule_id}: {action}d.", changed)

    def schedule_preview(self, schedule_id: int, count: int = 5) -> list[datetime]:
        from app.domain.calendar_runs import parse_moved
        from app.store import schedules as schedule_store
        from app.store.models import utcnow
        from app.triggers import upcoming

        with self.db.read() as session:
            s = schedule_store.get_schedule(session, schedule_id)
            expression, tz_name, start_at, end_at = s.expression, s.timezone, s.start_at, s.end_at
            moved = parse_moved(s.moved_runs)
        now = utcnow()
        runs = upcoming(expression, tz_name, now, count + len(moved), start_at, end_at)
        if moved:  # runs moved on the calendar: at their new times
            tz = runs[0].tzinfo if runs else None
            runs = [r for r in runs if r.astimezone(UTC) not in moved]
            runs += [new.astimezone(tz) for new in moved.values() if new > now]
        return sorted(runs, key=lambda r: r.timestamp())[:count]

    def missed_runs(self, days: int = 7) -> int:
        """Scheduled runs missed (too late to run on start-up) in the last ``days`` days."""
        from app.store.models import AuditEntry, utcnow

        with self.db.read() as session:
            return (
                session.scalar(
                    select(func.count(AuditEntry.id)).where(
                        AuditEntry.action == "schedule.missed",
                        AuditEntry.at >= utcnow() - timedelta(days=days),
                    )
                )
                or 0
            )

    def settings_snapshot(self) -> dict[str, Any]:
        from app import autostart

        keys = (
            "engine.max_concurrent",
            "render.cluster",
            "render.cluster_needs",
            "render.shared_folder",
            "output.folder",
            "google.write_back",
            "llm.endpoint",
            "llm.model",
            "api.enabled",
            "api.port",
            "storage.target",
            "storage.endpoint",
            "storage.region",
        )
        values: dict[str, Any] = {key: self.settings.get(key) for key in keys}
        for secret in ("llm.api_key", "storage.key_id", "storage.secret", "storage.gcs_key"):
            values[f"{secret}_set"] = bool(self.settings.text(secret))  # never the secret
        values["autostart"] = autostart.enabled()
        values["autostart_supported"] = autostart.supported()
        return values

    def cluster_status(self) -> dict[str, Any] | None:
        """The render cluster as the monitor shows it — its workers, what each renders — or
        None when videos render on this computer. One connection, kept while it is used."""
        from app.cluster.executor import ClusterExecutor, ClusterLink

        if self._cluster is None:
            self._cluster = ClusterLink(ClusterExecutor.close)
        cluster = self._cluster.at(str(self.settings.get("render.cluster")))
        if cluster is None:
            return None
        address = cluster.address
        try:
            workers = cluster.workers()
        except UserError as exc:
            return {"address": address, "error": str(exc), "workers": []}
        except Exception as exc:  # the scheduler went away mid-answer: said, not raised
            cluster.close()
            return {"address": address, "error": f"no answer ({exc})", "workers": []}
        return {"address": address, "error": None, "workers": list(workers.values())}

    def test_cluster(self, address: str) -> str:
        """Connect to a render cluster and say, in a sentence, what it offers (or raise a
        `UserError` saying what is wrong)."""
        from app import __version__
        from app.cluster.executor import ClusterExecutor

        address = address.strip() or "local"
        _check_cluster(address)
        if address == "local":
            return "Videos render on this computer."
        cluster = ClusterExecutor(address)
        try:
            workers = cluster.workers()
        finally:
            cluster.close()
        if not workers:
            return (f"Reached {address}, but no worker is connected — start one with "
                    f"`cadence worker {address}` on a computer.")  # fmt: skip
        names = ", ".join(
            worker_label(w) + ("" if w["version_ok"] else f" — Cadence {w['version']}, not used")
            for w in workers.values()
        )
        usable = sum(w["threads"] for w in workers.values() if w["version_ok"])
        return (
            f"{address}: {len(workers)} worker(s) — {names}; {usable} video(s) at a time "
            f"with Cadence {__version__}."
        )

    def storage_access(self) -> StorageAccess:
        """How to sign in to object storage, from Settings and the keyring."""
        from app.delivery.objects import StorageAccess

        text = self.settings.text
        return StorageAccess(
            key_id=text("storage.key_id"),
            secret=text("storage.secret"),
            endpoint=text("storage.endpoint"),
            region=text("storage.region"),
            gcs_key=text("storage.gcs_key"),
        )

    def test_storage(self, address: str) -> str:
        """Write, read back and delete a small file at ``address`` (default: the workspace's
        storage) and say so, or raise a `UserError` saying what is wrong."""
        from app.delivery.objects import check
        from app.domain.storage import parse_target

        address = address.strip() or self.settings.text("storage.target")
        if not address:
            raise UserError(
                "no storage to test — give an address such as s3://my-bucket/videos (or set "
                "storage.target)"
            )
        return check(parse_target(address), self.storage_access())

    def save_settings(self, values: dict[str, Any]) -> Done:
        """Change several settings (each checked before any is stored)."""
        from app import autostart

        values = dict(values)
        if "autostart" in values:
            on = bool(values.pop("autostart"))
            if autostart.supported():
                autostart.set_enabled(on, self.paths.data_dir)
        self.settings.set_many({k: _setting_text(v) for k, v in values.items()}, self.actor)
        return Done("Settings saved.", Changes.of(settings=values))

    def edit_job(self, job_id: int, **changes: Any) -> Done:
        """Change a job's priority or (before it starts) its start time."""
        with self.db.write() as session:
            job_store.edit_job(session, job_id, self.actor, **changes)
        what = ", ".join(k.replace("_", " ") for k in changes) or "nothing"
        return Done(f"Job {job_id}: {what} changed.", Changes.of(jobs=[job_id]))

    def job_action(self, job_id: int, action: str) -> Done:
        """Pause, resume, cancel, retry or delete a job, or pause/resume the schedule that
        makes it (audited); returns what happened, in words, and the job changed."""
        action = JobAction.parse(action)
        return Done(self._job_action(job_id, action), Changes.of(jobs=[job_id]))

    def jobs_action(self, job_ids: list[int], action: str) -> list[tuple[int, Done | UserError]]:
        """One action on many jobs, each in its own transaction: each job's outcome (a job
        that cannot take the action does not stop the others)."""
        act = JobAction.parse(action)
        outcomes: list[tuple[int, Done | UserError]] = []
        for job_id in dict.fromkeys(job_ids):  # each once, in the order given
            try:
                outcomes.append((job_id, self.job_action(job_id, act)))
            except UserError as exc:
                outcomes.append((job_id, exc))
        return outcomes

    def _job_action(self, job_id: int, action: JobAction) -> str:
        with self.db.write() as session:
            if action in (JobAction.ENABLE, JobAction.DISABLE):  # the schedule making this job
                from app.store import schedules as schedule_store
                from app.store.models import Job

                job = session.get(Job, job_id)
                if job is None or job.schedule_id is None:
                    raise UserError(f"job {job_id} was not made by a schedule")
                disable = action == JobAction.DISABLE
                schedule_store.set_paused(session, job.schedule_id, disable, self.actor)
                verb = "is paused" if disable else "runs again"
                return f"The schedule that makes job {job_id} {verb}."
            if action == JobAction.DELETE:
                title = job_store.delete_job(session, job_id, self.actor)
                return f"Deleted job {job_id} “{title}” (its videos stay in their folder)."
            if action == JobAction.RETRY:
                again = queue.retry_job(session, job_id, self.actor)
                return f"Job {job_id}: {again} failed item{'s' if again != 1 else ''} queued again."
            act = {
                JobAction.PAUSE: queue.pause_job,
                JobAction.RESUME: queue.resume_job,
                JobAction.CANCEL: queue.cancel_job,
                JobAction.EXECUTE: queue.execute_job,
            }
            job = act[action](session, job_id, self.actor)
            if action == JobAction.EXECUTE:
                return f"Job {job_id} starts now."
            return f"Job {job_id} is {job.state}."

    # Publishing

    def approve(self, item_ids: list[int]) -> Done:
        from app.store import publishing

        with self.db.write() as session:
            jobs = publishing.approve(session, item_ids, self.actor)
        count = len(item_ids)
        return Done(
            f"Approved {count} item{'s' if count != 1 else ''}: they upload next.",
            Changes.of(jobs=jobs, items=item_ids),
        )

    def reject(self, item_ids: list[int], reason: str = "", again: bool = False) -> Done:
        """Rejected items are skipped, or rendered again (their files removed first)."""
        from app.store import publishing

        with self.db.write() as session:
            files, jobs = publishing.reject(session, item_ids, self.actor, reason, again)
        for path in files:
            path.unlink(missing_ok=True)
        count = len(item_ids)
        noun = f"{count} item{'s' if count != 1 else ''}"
        return Done(
            f"Rejected {noun}: " + ("they render again." if again else "they are skipped."),
            Changes.of(jobs=jobs, items=item_ids),
        )

    def reschedule(self, item_id: int, publish_at: datetime) -> Done:
        """A new publish time: on YouTube at once when the video is up, else for the upload."""
        from app.store import publishing
        from app.store.models import utcnow

        if publish_at <= utcnow():
            raise UserError("the new publish time must be in the future")
        with self.db.read() as session:
            upload = publishing.reschedulable(session, item_id)
            video_id, channel_id = upload.video_id, upload.channel_id
        privacy = None
        if video_id is not None:
            from app.google.youtube import YouTubeError

            client = self.channels.client(channel_id)
            try:
                state = client.reschedule(video_id, publish_at)
            except YouTubeError as exc:
                raise UserError(f"YouTube did not take the new time: {exc}") from None
            privacy = state.privacy
        with self.db.write() as session:
            job_id = publishing.record_reschedule(session, item_id, publish_at, self.actor, privacy)
        local = publish_at.astimezone()
        where = "on YouTube" if video_id else "for its upload"
        return Done(
            f"Item {item_id} now publishes {local:%a %d %b %Y %H:%M %Z} ({where}).",
            Changes.of(jobs=[job_id], items=[item_id]),
        )

    def publishing_state(self) -> dict[str, Any]:
        """What the monitor shows: today's quota per project, and held or waiting uploads."""
        from app.store import publishing

        with self.db.read() as session:
            held = publishing.held_uploads(session)
            approval = publishing.awaiting_approval(session)
            unsigned = publishing.unsigned_uploads(session)
        return {
            "quota": [q.to_dict() for q in self.quota.all_today()],
            "held": held,
            "awaiting_approval": approval,
            "unsigned": unsigned,
        }

    def approval_items(self) -> list[dict[str, Any]]:
        """Every item awaiting approval, with what the preview shows."""
        import json as json_lib

        from app.store.models import Item, Job

        with self.db.read() as session:
            rows = session.execute(
                select(Item, Job.title)
                .join(Job)
                .where(Item.state == State.PENDING.value, Item.phase == "approval")
                .where(Job.state.not_in((State.CANCELED.value, State.CANCELING.value)))
                .order_by(Job.id, Item.row_number)
            ).all()
            records = []
            for item, job_title in rows:
                record = job_store.item_record(item)
                record["job_id"], record["job"] = item.job_id, job_title
                records.append(record)
        for record in records:
            try:
                path = Path(record["outputs"].get("metadata", ""))
                record["metadata"] = json_lib.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                record["metadata"] = {}
        return records

    def ensure_demo(self, sheet: Path = DEMO_SHEET) -> int | None:
        """On a brand-new workspace, create a job from the bundled demo sheet, once."""
        with self.db.read() as session:
            if get_setting(session, DEMO_SEEDED) or job_store.any_job(session):
                return None
        created = self.create_job(
            SourceSpec(str(sheet)), title="Demo: ideas from the sample sheet", actor="Cadence"
        )
        with self.db.write() as session:
            set_setting(session, DEMO_SEEDED, True)
            # Paused: nothing renders until the user resumes it (no surprise CPU or files).
            queue.pause_job(session, created.job_id, "Cadence")
        return created.job_id
