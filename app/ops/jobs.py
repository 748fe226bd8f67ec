"""Operations on jobs: plan, create (with the schedule that repeats it, in one transaction), edit,
act on, export; styles; the demo job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import queries
from app.changes import BulkDone, Changes, Done, JobAction, bulk_done
from app.domain.errors import UserError
from app.domain.idea import Priority
from app.domain.job import JobDraft
from app.domain.output import Delivery
from app.domain.states import State
from app.domain.validation import Level, SheetReport
from app.export import render, write_atomically
from app.paths import DEMO_SHEET, folder_problem
from app.sources.intake import SourceSpec
from app.store import job_actions
from app.store import jobs as job_store
from app.store.settings import get_setting, set_setting

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.domain.estimate import Estimate
    from app.services import Services

log = logging.getLogger(__name__)


DEMO_SEEDED = "workspace.demo_seeded"


class NoValidRows(UserError):
    """A job would have no items; nothing was stored."""


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A job a front end asks for: where its rows are, how its videos are encoded (`output`,
    the codec fields `OutputConfig` reads), where they go (`delivery`), when and how it runs,
    where it publishes, and — ``repeat`` (``expression``, ``timezone``) — the schedule that
    makes it again."""

    source: SourceSpec
    title: str | None = None
    priority: Priority = Priority.NORMAL
    level: Level = Level.MODERATE
    output: dict[str, Any] = field(default_factory=dict)
    delivery: Delivery = field(default_factory=Delivery)
    style: str | None = None
    deadline_minutes: int | None = None
    callback_url: str | None = None
    scheduling: dict[str, Any] = field(default_factory=dict)
    write_back: bool | None = None
    actor: str | None = None
    schedule_id: int | None = None
    publish: dict[str, Any] = field(default_factory=dict)
    repeat: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        source: SourceSpec,
        *,
        output_config: dict[str, Any] | None = None,
        scheduling: dict[str, Any] | None = None,
        publish: dict[str, Any] | None = None,
        **options: Any,
    ) -> JobRequest:
        """A request from a job's stored form (one ``output_config`` dict holding the codec
        fields and the delivery fields, as a job and a schedule's template keep them)."""
        output, delivery = Delivery.split(output_config or {})
        return cls(
            source,
            output=output,
            delivery=delivery,
            scheduling=dict(scheduling or {}),
            publish=dict(publish or {}),
            **options,
        )

    @property
    def output_config(self) -> dict[str, Any]:
        """The codec and delivery fields as one job stores them."""
        return {**self.output, **self.delivery.to_dict()}


@dataclass(frozen=True, slots=True)
class JobPlan:
    """A job read and checked, not yet stored (`plan_job`)."""

    rows: job_store.NewJob
    title: str
    report: SheetReport


@dataclass(frozen=True, slots=True)
class CreatedJob(Done):
    """A job stored: its id, title and the source's report (and the schedule that makes it
    again, when asked for)."""

    job_id: int = field(kw_only=True)
    title: str = field(kw_only=True)
    report: SheetReport = field(kw_only=True)
    schedule_id: int | None = field(default=None, kw_only=True)

    @property
    def item_count(self) -> int:
        return len(self.report.valid_rows)


def _created(job_id: int, plan: JobPlan, schedule_id: int | None = None) -> CreatedJob:
    count = len(plan.report.valid_rows)
    message = f"Created job {job_id} “{plan.title}” with {count} item{'s' if count != 1 else ''}."
    if schedule_id is not None:
        message += f" Schedule {schedule_id} makes it again."
    changes = Changes.of(jobs=[job_id], schedules=[] if schedule_id is None else [schedule_id])
    return CreatedJob(
        message,
        changes,
        job_id=job_id,
        title=plan.title,
        report=plan.report,
        schedule_id=schedule_id,
    )


def _plain(text: str) -> str:
    """A name for a default title: its control characters (a line break in a file name)
    left out."""
    return "".join(c for c in text if c.isprintable()) or "ideas"


def _undated(title: str) -> str:
    """A job title without the date a new job's default title ends with (a schedule adds the
    date of each run itself)."""
    return title.removesuffix(f" — {date.today():%d %b %Y}").strip() or title


def plan_job(services: Services, request: JobRequest) -> JobPlan:
    """Read and validate the source: the job `store_job` stores, one item per valid row.

    Raises `SourceError` when the source cannot be read and `NoValidRows` when it has no
    valid row. Nothing is stored here.
    """
    spec, level, title = request.source, request.level, request.title
    location = spec.stored_location()
    check_job_output(services, request.delivery, request.style)
    name = title or f"{_plain(Path(spec.location).stem)[:150]} — {date.today():%d %b %Y}"
    draft = JobDraft(
        title=name,
        source_kind=spec.kind,
        source_location=location,
        source_tab=spec.tab,
        source_range=spec.range,
        priority=request.priority,
        validation_level=level,
        output_config=request.output_config,
        style=request.style,
        deadline_minutes=request.deadline_minutes,
        callback_url=request.callback_url,
        scheduling=request.scheduling,
        write_back=request.write_back
        if request.write_back is not None
        else spec.kind == "gsheet" and services.settings.flag("google.write_back"),
        publish=_publish_plan(services, request.publish, request.scheduling),
    ).checked()
    report = queries.sources.check_source(services, spec, level)
    if not report.valid_rows:
        raise NoValidRows(
            f"no row of {spec.location} is valid at the {level} level, so no job was "
            "created — fix the rows `validate` lists, or choose a more lenient level"
        )
    if not title and report.title:  # a Google Sheet: its own title, not its URL's last part
        draft = replace(draft, title=f"{_plain(report.title)[:150]} — {date.today():%d %b %Y}")
    header_row = _title_row(services, spec, report) if draft.write_back else report.header_row
    if draft.publish.get("slots"):  # each video its own free slot on the channel's calendar
        calendar = queries.calendar.Calendar(services)
        times = calendar.slots_for(len(report.valid_rows), draft.publish["channel"])
        draft = replace(
            draft, publish={**draft.publish, "slot_times": [t.isoformat() for t in times]}
        )
    rows = job_store.new_job(
        draft,
        report.rows,
        request.actor or services.actor,
        request.schedule_id,
        header_row,
        report.empty_rows,
    )
    return JobPlan(rows, draft.title.strip(), report)


def preview_job(services: Services, request: JobRequest) -> tuple[JobPlan, Estimate]:
    """What `create_job` would make, checked the same way, and what it would take (the
    wizard's Review, ``jobs create --dry-run``) — nothing is stored."""
    plan = plan_job(services, request)
    found = queries.estimates.estimate(
        services,
        [row.idea for row in plan.report.valid_rows if row.idea],
        request.output_config,
        request.scheduling,
        bool(request.publish),
        style=request.style,
        left_out=len(plan.report.invalid_rows),
        publish=request.publish,
    )
    return plan, found


def store_job(
    services: Services, plan: JobPlan, also: Callable[[Session, int], None] | None = None
) -> CreatedJob:
    """Store a planned job. ``also(session, job_id)`` records more in the job's own
    transaction (a schedule's run, its audit entry: one commit, not two)."""
    with services.db.write() as session:
        job_id = job_store.insert_job(session, plan.rows)
        if also is not None:
            also(session, job_id)
    log.info(
        "created job %s with %s items from %s",
        job_id, len(plan.rows.items), plan.rows.job["source_location"],
    )  # fmt: skip
    return _created(job_id, plan)


def create_job(services: Services, request: JobRequest) -> CreatedJob:
    """Validate the source and store a job with one item per valid row (`plan_job`,
    `store_job`). Raises `SourceError` when the source cannot be read and `NoValidRows`
    when it has no valid row (nothing is stored then).

    ``request.repeat``: a schedule that makes this same job again — every setting of it —
    stored in the job's own transaction, the job its first run."""
    plan = plan_job(services, request)
    repeat = request.repeat
    if repeat is None:
        return store_job(services, plan)
    made: list[int] = []
    created = store_job(
        services,
        plan,
        lambda session, job_id: made.append(_repeat(services, session, job_id, plan, repeat)),
    )
    return _created(created.job_id, plan, made[0])


def _repeat(
    services: Services, session: Session, job_id: int, plan: JobPlan, repeat: dict[str, Any]
) -> int:
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
        actor=services.actor,
    )
    job = session.get(Job, job_id)
    assert job is not None
    job.schedule_id = schedule.id  # the job just made counts as the schedule's first
    return schedule.id


def check_job_output(services: Services, delivery: Delivery, style: str | None) -> None:
    """A job's own folder and style, checked where every front end creates a job (the
    codecs are `JobDraft`'s): a folder of the user's that can be written to, a style that
    exists (by name — never a path)."""
    from app.domain.job import DraftError

    folder = delivery.folder
    if folder:
        why = folder_problem(Path(str(folder)), services.paths)
        if why is not None:
            raise DraftError("output folder", f"{folder}: {why}")
    if style:
        try:
            services.check_style(style)
        except UserError as exc:
            raise DraftError("style", str(exc).removeprefix("render.style: ")) from None


def _publish_plan(
    services: Services, publish: dict[str, Any] | None, scheduling: dict[str, Any] | None
) -> dict[str, Any]:
    """The job's publishing settings with its channel named by id (a title or handle is
    looked up) and a time zone for times written without one."""
    from app.domain.publishing import DESTINATIONS, SHEET, PublishConfig, parse_destinations
    from app.domain.schedule import local_zone_name

    plan = dict(publish or {})
    if not plan.get("target"):
        return plan
    target = str(plan["target"])
    head, _, rest = target.partition(":")
    if head.strip().casefold() == SHEET:  # each row says; ``sheet:youtube`` for empty cells
        fallback = parse_destinations(rest) if rest.strip() else ()
        plan["target"] = f"{SHEET}:{','.join(fallback)}" if fallback else SHEET
    else:
        plan["target"] = ",".join(parse_destinations(target))
    config = PublishConfig.from_dict(plan)
    wanted = set(config.destinations) if not config.from_sheet else set(DESTINATIONS)
    if "youtube_shorts" in wanted:  # a Short goes to the job's YouTube channel
        wanted = (wanted - {"youtube_shorts"}) | {"youtube"}
    accounts = dict(plan.get("accounts") or {})
    for platform in DESTINATIONS:
        if platform not in wanted:
            continue
        given = str(plan.get("channel") or "") if platform == "youtube" else accounts.get(platform)
        found = _account(services, platform, given or "", required=not config.from_sheet)
        if platform == "youtube":
            plan["channel"] = found
        elif found:
            accounts[platform] = found
    if accounts:
        plan["accounts"] = accounts
    plan.setdefault("timezone", (scheduling or {}).get("timezone") or local_zone_name())
    return plan


def _account(services: Services, platform: str, given: str, *, required: bool) -> str:
    """The id of the account a job names for ``platform`` (by id, name or handle); with none
    named, the only one signed in. ''. An error when several could be meant."""
    from app.domain.publishing import platform_name

    if given:
        return services.channels.resolve(given, platform).id
    records = services.channels.records(platform)
    if len(records) == 1:
        return records[0].id
    if records and required:
        names = ", ".join(r.label for r in records)
        if platform == "youtube":
            what, flag = "channel", "--channel"
        else:
            what, flag = f"{platform_name(platform)} account", f"--account {platform}:ACCOUNT"
        raise UserError(f"name the {what} to publish to ({flag}) — signed in: {names}")
    return ""


def _title_row(services: Services, spec: SourceSpec, report: SheetReport) -> int:
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
    client = services.sheets()
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


@dataclass(frozen=True, slots=True)
class Exported(Done):
    """Jobs written to a file: its path and how many jobs it holds."""

    path: Path = field(kw_only=True)
    count: int = field(kw_only=True)


def export(
    services: Services,
    fmt: str,
    out: Path,
    state: State | None = None,
    ids: list[int] | None = None,
    items: bool = False,
) -> Exported:
    """The jobs (all, those in ``state``, or those in ``ids``) written atomically to ``out``
    (never half a file under its name), audited."""
    records = queries.jobs.export_records(services, state, ids)
    write_atomically(out, render(records, fmt, items=items))
    with services.db.write() as session:
        job_store.audit(
            session, services.actor, "jobs.export", "job", None,
            format=fmt, path=str(out), jobs=len(records),
        )  # fmt: skip
    count = len(records)
    return Exported(
        f"Exported {count} job{'s' if count != 1 else ''} to {out}.", path=out, count=count
    )


@dataclass(frozen=True, slots=True)
class StyleSaved(Done):
    path: Path = field(kw_only=True)


def save_style(services: Services, name: str, base: str, settings: dict[str, Any]) -> StyleSaved:
    """A style template made in the window, checked and saved in the templates folder."""
    from app.pipeline.style_templates import save_template

    path = save_template(services.paths.templates_dir, name, base, settings)
    with services.db.write() as session:
        job_store.audit(session, services.actor, "style.save", "style", None, name=name)
    return StyleSaved(f"Saved style “{name}”.", Changes.of(settings=["render.style"]), path=path)


def edit_job(services: Services, job_id: int, **changes: Any) -> Done:
    """Change a job's priority or (before it starts) its start time."""
    with services.db.write() as session:
        job_store.edit_job(session, job_id, services.actor, **changes)
    what = ", ".join(k.replace("_", " ") for k in changes) or "nothing"
    return Done(f"Job {job_id}: {what} changed.", Changes.of(jobs=[job_id]))


def job_action(services: Services, job_id: int, action: str) -> Done:
    """Pause, resume, cancel, retry or delete a job, or pause/resume the schedule that
    makes it (audited); returns what happened, in words, and the job changed."""
    action = JobAction.parse(action)
    return Done(_job_action(services, job_id, action), Changes.of(jobs=[job_id]))


def jobs_action(services: Services, job_ids: list[int], action: str) -> BulkDone:
    """One action on many jobs, each in its own transaction: each job's outcome (a job
    that cannot take the action does not stop the others)."""
    act = JobAction.parse(action)
    outcomes: list[tuple[int, Done | Exception]] = []
    for job_id in dict.fromkeys(job_ids):  # each once, in the order given
        try:
            outcomes.append((job_id, job_action(services, job_id, act)))
        except UserError as exc:
            outcomes.append((job_id, exc))
    return bulk_done(act.value, outcomes)


def _job_action(services: Services, job_id: int, action: JobAction) -> str:
    with services.db.write() as session:
        if action in (JobAction.ENABLE, JobAction.DISABLE):  # the schedule making this job
            from app.store import schedules as schedule_store
            from app.store.models import Job

            job = session.get(Job, job_id)
            if job is None or job.schedule_id is None:
                raise UserError(f"job {job_id} was not made by a schedule")
            disable = action == JobAction.DISABLE
            schedule_store.set_paused(session, job.schedule_id, disable, services.actor)
            verb = "is paused" if disable else "runs again"
            return f"The schedule that makes job {job_id} {verb}."
        if action == JobAction.DELETE:
            title = job_store.delete_job(session, job_id, services.actor)
            return f"Deleted job {job_id} “{title}” (its videos stay in their folder)."
        if action == JobAction.RETRY:
            again = job_actions.retry_job(session, job_id, services.actor)
            return f"Job {job_id}: {again} failed item{'s' if again != 1 else ''} queued again."
        act = {
            JobAction.PAUSE: job_actions.pause_job,
            JobAction.RESUME: job_actions.resume_job,
            JobAction.CANCEL: job_actions.cancel_job,
            JobAction.EXECUTE: job_actions.execute_job,
        }
        job = act[action](session, job_id, services.actor)
        if action == JobAction.EXECUTE:
            return f"Job {job_id} starts now."
        return f"Job {job_id} is {job.state}."


def ensure_demo(services: Services, sheet: Path = DEMO_SHEET) -> CreatedJob | None:
    """On a brand-new workspace, create a job from the bundled demo sheet, once — paused,
    so nothing renders until the user resumes it (no surprise CPU or files); the job, its
    pause and the note that the demo was made are one transaction."""
    with services.db.read() as session:
        if get_setting(session, DEMO_SEEDED) or job_store.any_job(session):
            return None
    request = JobRequest(SourceSpec(str(sheet)), title="Demo: ideas from the sample sheet")
    plan = plan_job(services, replace(request, actor="Cadence"))

    def paused(session: Session, job_id: int) -> None:
        set_setting(session, DEMO_SEEDED, True)
        job_actions.pause_job(session, job_id, "Cadence")

    return store_job(services, plan, paused)
