"""Instagram professional accounts and Facebook Pages signed in for publishing, through one
Facebook Login with the user's own Meta app (app id and secret).

The sign-in finds the user's Pages (`pages_show_list`) and the Instagram professional account
linked to each; each becomes an account in the `channels` table — platform
``instagram_reels`` (id: the Instagram user id, handle @username) or ``facebook`` (id: the
Page id) — with ``project`` = "app id|user id|page id". Secrets go to the keyring: the
long-lived user token under ``meta.token.<user id>`` (about 60 days; exchanged for a fresh
one once it is a day old), each Page's token under ``meta.page.<page id>`` (it does not
expire while the user's grant stands), the app secret under ``meta.app_secret.<app id>``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import UserError
from app.publish import meta_api
from app.publish.loopback import sign_in
from app.publish.meta_api import Graph, MetaError
from app.secrets import SecretStore
from app.store.database import Database
from app.store.jobs import audit
from app.store.models import Channel, utcnow

log = logging.getLogger(__name__)
REDIRECT_PORT = 8777  # Facebook takes no wildcard port: register http://localhost:8777/callback/
GUIDE = "README › Publishing to Instagram and Facebook"
FRESH = timedelta(days=1)  # a long-lived token this old is exchanged for a new one


def token_key(user_id: str) -> str:
    return f"meta.token.{user_id}"


def page_key(page_id: str) -> str:
    return f"meta.page.{page_id}"


def secret_key(app_id: str) -> str:
    return f"meta.app_secret.{app_id}"


@dataclass(frozen=True, slots=True)
class Found:
    instagram: list[tuple[str, str]]  # (id, @username)
    pages: list[tuple[str, str]]  # (id, name)


class MetaAccounts:
    def __init__(
        self, db: Database, secrets: SecretStore, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db, self.secrets, self.clock = db, secrets, clock

    def login(
        self,
        app_id: str,
        app_secret: str,
        *,
        open_browser: bool = True,
        tell: Callable[[str], None] = print,
        actor: str = "Cadence",
        port: int = REDIRECT_PORT,
    ) -> Found:
        app_id, app_secret = app_id.strip(), app_secret.strip()
        if not app_id or not app_secret:
            raise UserError(f"a Meta app id and app secret are needed ({GUIDE})")
        redirect, answer = sign_in(
            "Facebook",
            lambda uri, state: meta_api.consent_url(app_id, uri, state),
            open_browser=open_browser,
            tell=tell,
            port=port,
            host="localhost",
        )
        try:
            short = meta_api.exchange_code(app_id, app_secret, answer["code"], redirect)
            token, expires = meta_api.long_lived(app_id, app_secret, short)
            graph = Graph(token)
            user_id = str(graph.me()["id"])
            pages = graph.pages()
        except MetaError as exc:
            raise UserError(f"{exc} — check the app id and secret ({GUIDE})") from None
        if not pages:
            raise UserError(
                "this Facebook account manages no Page Cadence may use — an Instagram "
                "professional account is linked to a Facebook Page; allow Cadence every Page "
                "when Facebook asks"
            )
        self.secrets.set(secret_key(app_id), app_secret)
        self._keep(user_id, app_id, token, expires)
        found = Found([], [])
        with self.db.write() as session:
            for page in pages:
                self.secrets.set(page_key(page.id), page.token)
                project = f"{app_id}|{user_id}|{page.id}"
                self._account(session, page.id, "facebook", page.name, "", project)
                found.pages.append((page.id, page.name))
                if page.instagram_id:
                    handle = f"@{page.instagram_username}" if page.instagram_username else ""
                    name = page.name or page.instagram_username
                    self._account(session, page.instagram_id, "instagram_reels", name, handle,
                                  project)  # fmt: skip
                    found.instagram.append((page.instagram_id, handle))
            audit(session, actor, "account.add", "channel", None, platform="meta", user=user_id)
        log.info("signed in to Facebook: %s Pages, %s Instagram accounts", len(found.pages),
                 len(found.instagram))  # fmt: skip
        return found

    @staticmethod
    def _account(session: object, id_: str, platform: str, title: str, handle: str,
                 project: str) -> None:  # fmt: skip
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        account = session.get(Channel, id_)
        if account is None:
            account = Channel(id=id_, title=title, platform=platform)
            session.add(account)
        account.platform, account.title, account.handle = platform, title, handle
        account.project, account.hold = project, None

    def _keep(self, user_id: str, app_id: str, token: str, expires: int) -> None:
        now = self.clock()
        self.secrets.set(
            token_key(user_id),
            json.dumps({"app_id": app_id, "token": token, "got_at": now.isoformat(),
                        "expires_at": (now + timedelta(seconds=expires)).isoformat()}),
        )  # fmt: skip

    def _parts(self, account: str) -> tuple[str, str, str]:
        with self.db.read() as session:
            found = session.get(Channel, account)
            project = found.project if found is not None else ""
        parts = project.split("|")
        if len(parts) != 3:
            raise MetaError("auth", "no stored sign-in for this account")
        return parts[0], parts[1], parts[2]

    def user_token(self, user_id: str) -> str:
        """The user's long-lived token — exchanged for a fresh one once it is a day old."""
        raw = self.secrets.get(token_key(user_id))
        if not raw:
            raise MetaError("auth", "no stored sign-in for this account")
        stored = json.loads(raw)
        if self.clock() - datetime.fromisoformat(stored["got_at"]) < FRESH:
            return str(stored["token"])
        app_id = str(stored["app_id"])
        secret = self.secrets.get(secret_key(app_id)) or ""
        token, expires = meta_api.long_lived(app_id, secret, str(stored["token"]))
        self._keep(user_id, app_id, token, expires)
        log.info("renewed a Facebook long-lived token")
        return token

    def graph(self, account: str, *, renew: bool = False) -> Graph:
        """The Page's token for an Instagram account or a Page; with ``renew`` (Meta refused
        it), the Page tokens read again with the user's token."""
        _app, user_id, page_id = self._parts(account)
        user = self.user_token(user_id)  # kept fresh whatever is asked
        token = None if renew else self.secrets.get(page_key(page_id))
        if not token:
            for page in Graph(user).pages():
                self.secrets.set(page_key(page.id), page.token)
                if page.id == page_id:
                    token = page.token
        if not token:
            raise MetaError("auth", "the Page is no longer shared with Cadence")
        return Graph(token)

    def forget(self, account: str) -> None:
        try:
            _app, _user, page_id = self._parts(account)
        except MetaError:
            return
        with self.db.read() as session:
            others = (
                session.query(Channel)
                .filter(Channel.project.endswith(f"|{page_id}"), Channel.id != account)
                .count()
            )
        if not others:
            self.secrets.delete(page_key(page_id))
