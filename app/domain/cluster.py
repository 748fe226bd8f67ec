"""The address of a render cluster's Dask scheduler, as a user types it."""

from __future__ import annotations

from urllib.parse import urlparse

from app.domain.errors import UserError


def check_scheduler_address(text: str, what: str, *, or_local: bool = False) -> str:
    """``tcp://host:port`` (returned stripped), or a `UserError` naming ``what`` and saying
    what is accepted — tls:// is refused with the reason. ``or_local``: ``local`` (this
    computer) is accepted too."""
    address = str(text).strip()
    if or_local and address == "local":
        return address
    url = urlparse(address)
    try:
        port = url.port
    except ValueError:  # not a number, or out of range
        port = None
    if url.scheme == "tls":
        raise UserError(
            f"{what}: tls:// needs certificates on every computer, which Cadence does not set "
            "up yet — use tcp:// on your own network (or through a VPN or SSH tunnel)"
        )
    if url.scheme != "tcp" or not url.hostname or port is None:
        neither = "neither local nor" if or_local else "not"
        raise UserError(
            f"{what}: {address!r} is {neither} a scheduler address such as tcp://renderbox:8786"
        )
    return address
