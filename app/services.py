"""What every front end holds: one workspace's database, secrets, typed settings, channels,
Google clients, request limits, quota and storage access, and the clock they read.

The window, the command line, the REST API and the engine each make one `Services` and hand
it to the operations (`app.ops`: every change, one transaction each, returning `Done`) and
the queries (`app.queries`: what the views show). Nothing here changes the user's data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.domain.errors import UserError
from app.google.quota import QuotaLedger, QuotaLimits
from app.google.ratelimit import RateLimiter
from app.paths import AppPaths, folder_problem, unwritable
from app.secrets import SecretStore
from app.setting_checks import SettingError
from app.settings import Settings
from app.store import jobs as job_store
from app.store.database import Database
from app.store.models import utcnow

if TYPE_CHECKING:
    from app.cluster.executor import ClusterLink
    from app.delivery.objects import StorageAccess
    from app.google.auth import GoogleAuth
    from app.google.channels import Channels
    from app.google.publisher import PublishSettings
    from app.google.sheets import SheetsClient
    from app.publish.meta_accounts import MetaAccounts
    from app.publish.tiktok_accounts import TikTokAccounts

log = logging.getLogger(__name__)


class Services:
    """One workspace, opened (``front_end`` names who acts in the audit log)."""

    def __init__(
        self,
        paths: AppPaths,
        front_end: str = "cli",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.paths = paths
        self.actor = job_store.current_actor(front_end)
        self.clock = clock  # what "now" is for the calendar, the dashboard and analytics
        self.db = Database.open(paths.database)
        self.secrets = SecretStore(paths.secrets_file)
        self.settings = Settings(
            self.db,
            self.secrets,
            # The checks that need this workspace; the others are on their declarations.
            checks={"render.style": self.check_style, "output.folder": self.check_output_folder},
            actor=self.actor,
        )
        self.quota = QuotaLedger(self.db, self.quota_limits)
        self._limiter: RateLimiter | None = None
        self._cluster: ClusterLink | None = None  # the monitor's, made when first asked

    def close(self) -> None:
        self.close_cluster()
        self.db.close()

    def close_cluster(self) -> None:
        """The monitor's connection to the render cluster, if any, closed."""
        if self._cluster is not None:
            self._cluster.close()

    def cluster_link(self) -> ClusterLink:
        """One connection to the render cluster, kept while it is used (the monitor's)."""
        from app.cluster.executor import ClusterExecutor, ClusterLink

        if self._cluster is None:
            self._cluster = ClusterLink(ClusterExecutor.close)
        return self._cluster

    # The checks of settings that need the workspace

    def check_output_folder(self, folder: Any) -> None:
        """A folder of the user's videos can be written to."""
        path = Path(str(folder))
        why = folder_problem(path, self.paths) or unwritable(path)
        if why is not None:
            raise SettingError(
                f"output.folder: videos cannot be written to {path} ({why}) — choose a folder "
                "you can write to"
            )

    def check_style(self, name: Any) -> None:
        """A style that exists (by name — never a path) and whose template loads."""
        from app.pipeline.styles import load_template, style_names, template_files

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

    @cached_property
    def tiktok(self) -> TikTokAccounts:
        from app.publish.tiktok_accounts import TikTokAccounts

        return TikTokAccounts(self.db, self.secrets)

    @cached_property
    def meta(self) -> MetaAccounts:
        from app.publish.meta_accounts import MetaAccounts

        return MetaAccounts(self.db, self.secrets)

    @property
    def limiter(self) -> RateLimiter:
        """Google request quotas, shared by every client of this workspace."""
        if self._limiter is None:
            self._limiter = RateLimiter(
                self.settings.integer("google.requests_per_user"),
                self.settings.integer("google.requests_per_project"),
            )
        return self._limiter

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
