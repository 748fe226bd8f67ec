"""TikTok accounts signed in for publishing, with the user's own TikTok app (client key and
secret, as with YouTube's OAuth client).

The `channels` table keeps the account (platform ``tiktok``, id = its ``open_id``, title =
nickname, handle = @username, project = the client key). Secrets go to the keyring: the
tokens under ``tiktok.token.<open_id>`` (the access token lives a day, the refresh token a
year and is replaced at every refresh — the new one is stored before the old is dropped),
the client secret under ``tiktok.client_secret.<client key>``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import UserError
from app.domain.tiktok import CreatorInfo
from app.publish import tiktok_api
from app.publish.loopback import sign_in
from app.publish.tiktok_api import TikTokAPI, TikTokError, Tokens
from app.secrets import SecretStore
from app.store.database import Database
from app.store.jobs import audit
from app.store.models import Channel, utcnow

log = logging.getLogger(__name__)
REFRESH_AHEAD = timedelta(minutes=5)  # an access token this close to its end is renewed first
GUIDE = "README › Publishing to TikTok"


def token_key(open_id: str) -> str:
    return f"tiktok.token.{open_id}"


def secret_key(client_key: str) -> str:
    return f"tiktok.client_secret.{client_key}"


@dataclass(frozen=True, slots=True)
class SignedIn:
    open_id: str
    username: str
    nickname: str


class TikTokAccounts:
    def __init__(
        self, db: Database, secrets: SecretStore, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.clock = clock

    def login(
        self,
        client_key: str,
        client_secret: str,
        *,
        open_browser: bool = True,
        tell: Callable[[str], None] = print,
        actor: str = "Cadence",
    ) -> SignedIn:
        """Consent in a browser (Login Kit for Desktop), then the account is read and kept.
        Posts held for it go on."""
        client_key, client_secret = client_key.strip(), client_secret.strip()
        if not client_key or not client_secret:
            raise UserError(
                f"a TikTok client key and client secret are needed — make an app at "
                f"developers.tiktok.com ({GUIDE})"
            )
        verifier, challenge = tiktok_api.pkce_pair()
        redirect_uri, answer = sign_in(
            "TikTok",
            lambda uri, state: tiktok_api.consent_url(client_key, uri, state, challenge),
            open_browser=open_browser,
            tell=tell,
        )
        granted = set(answer.get("scopes", "").split(","))
        missing = set(tiktok_api.SCOPES.split(",")) - granted if answer.get("scopes") else set()
        if missing:
            raise UserError(
                f"TikTok did not grant {', '.join(sorted(missing))} — add Content Posting API "
                "to your TikTok app and allow every permission when asked"
            )
        try:
            tokens = tiktok_api.exchange_code(
                client_key, client_secret, answer["code"], redirect_uri, verifier
            )
            creator = TikTokAPI(tokens.access_token).creator_info()
        except TikTokError as exc:
            raise UserError(f"{exc} — check the client key and secret ({GUIDE})") from None
        self.secrets.set(secret_key(client_key), client_secret)
        self._keep(tokens.open_id, client_key, tokens)
        with self.db.write() as session:
            account = session.get(Channel, tokens.open_id)
            if account is None:
                account = Channel(id=tokens.open_id, title=creator.nickname, platform="tiktok")
                session.add(account)
            account.platform = "tiktok"
            account.title = creator.nickname or creator.username
            account.handle = f"@{creator.username}" if creator.username else ""
            account.project, account.hold = client_key, None
            audit(session, actor, "account.add", "channel", None, channel=tokens.open_id)
        log.info("signed in to a TikTok account")
        return SignedIn(tokens.open_id, creator.username, creator.nickname)

    def _keep(self, open_id: str, client_key: str, tokens: Tokens) -> None:
        now = self.clock()
        self.secrets.set(
            token_key(open_id),
            json.dumps(
                {
                    "client_key": client_key,
                    "access_token": tokens.access_token,
                    "expires_at": (now + timedelta(seconds=tokens.expires_in)).isoformat(),
                    "refresh_token": tokens.refresh_token,
                    "refresh_expires_at": (
                        now + timedelta(seconds=tokens.refresh_expires_in)
                    ).isoformat(),
                }
            ),
        )

    def _stored(self, open_id: str) -> dict[str, str]:
        raw = self.secrets.get(token_key(open_id))
        if not raw:
            raise TikTokError("auth", "no stored sign-in for this account")
        data = json.loads(raw)
        return {str(k): str(v) for k, v in data.items()}

    def access_token(self, open_id: str, *, renew: bool = False) -> str:
        """A usable access token: the stored one, or a new one when it ends within minutes
        (or ``renew``: TikTok refused it)."""
        stored = self._stored(open_id)
        ends = datetime.fromisoformat(stored["expires_at"])
        if not renew and ends - self.clock() > REFRESH_AHEAD:
            return stored["access_token"]
        client_key = stored["client_key"]
        secret = self.secrets.get(secret_key(client_key)) or ""
        tokens = tiktok_api.refresh_tokens(client_key, secret, stored["refresh_token"])
        self._keep(open_id, client_key, tokens)  # the rotated refresh token, kept at once
        log.info("renewed a TikTok access token")
        return tokens.access_token

    def api(self, open_id: str, *, renew: bool = False) -> TikTokAPI:
        return TikTokAPI(self.access_token(open_id, renew=renew))

    def creator(self, open_id: str) -> CreatorInfo:
        """What TikTok says of the account now (its nickname, privacy options, switches)."""
        try:
            return self.api(open_id).creator_info()
        except TikTokError as exc:
            if exc.kind != "auth":
                raise
            return self.api(open_id, renew=True).creator_info()

    def forget(self, open_id: str) -> bool:
        """Revoke the account's token at TikTok (when reachable) and drop it; True if TikTok
        took the revocation."""
        try:
            stored = self._stored(open_id)
        except TikTokError:
            return True
        secret = self.secrets.get(secret_key(stored["client_key"])) or ""
        revoked = tiktok_api.revoke(stored["client_key"], secret, stored["access_token"])
        self.secrets.delete(token_key(open_id))
        return revoked
