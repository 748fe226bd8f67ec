"""The accounts Cadence publishes to, and what a platform says of one now (TikTok's creator
info: the nickname, the privacy levels offered, the switches the creator turned off)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.domain.errors import UserError

if TYPE_CHECKING:
    from app.domain.tiktok import CreatorInfo
    from app.google.channels import ChannelRecord
    from app.services import Services

CANNOT_POST = {
    "spam_risk_too_many_posts": "it reached TikTok's daily posting limit; try again tomorrow",
    "spam_risk_user_banned_from_posting": "TikTok has banned it from posting",
    "reached_active_user_cap": "TikTok's limit on accounts an unaudited app may post for "
    "(5 a day) is reached",
}


def accounts(services: Services, platform: str | None = None) -> list[ChannelRecord]:
    return services.channels.records(platform)


def tiktok_creator(services: Services, open_id: str) -> CreatorInfo:
    """What TikTok says of the account now; a `UserError` saying why it cannot post."""
    from app.publish.tiktok_api import TikTokError

    try:
        return services.tiktok.creator(open_id)
    except TikTokError as exc:
        if exc.code in CANNOT_POST:
            raise UserError(f"This account cannot post now: {CANNOT_POST[exc.code]}.") from None
        if exc.kind == "auth":
            raise UserError(
                "TikTok refused the account's sign-in — add it again in Settings › Accounts."
            ) from None
        raise UserError(f"TikTok could not be asked about the account ({exc}).") from None
