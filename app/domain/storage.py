"""Where finished files go beyond the disk: ``s3://bucket/folder`` or ``gs://bucket/folder``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain.errors import UserError

SCHEMES = {"s3": "s3", "gs": "gs", "gcs": "gs"}
EXAMPLE = "s3://my-bucket/videos or gs://my-bucket/videos"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]")


class StorageError(UserError):
    """Storage that cannot be used now; the message says what to do. ``transient``: worth
    trying again later (a connection dropped), unlike a wrong key or a missing bucket."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class StorageTarget:
    scheme: str  # "s3" | "gs"
    bucket: str
    prefix: str = ""  # a folder inside the bucket, no slashes at either end

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def key(self, *parts: str) -> str:
        """The object path (bucket first, as fsspec takes it) of ``parts`` under the prefix."""
        return "/".join([self.bucket, *([self.prefix] if self.prefix else []), *parts])

    def address(self, *parts: str) -> str:
        return f"{self.scheme}://{self.key(*parts)}"


def parse_target(text: str) -> StorageTarget:
    """``text`` as a target, or a `StorageError` (not transient) saying what is accepted."""
    value = text.strip()
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise StorageError(f"{value!r} is not a storage address — use {EXAMPLE}", transient=False)
    bucket, _, prefix = rest.partition("/")
    kind = SCHEMES[scheme.lower()]
    if not _BUCKET.fullmatch(bucket) or (kind == "s3" and "_" in bucket) or ".." in bucket:
        raise StorageError(
            f"{bucket!r} is not a bucket name — 3 to 63 lowercase letters, digits, dots and "
            f"hyphens, starting and ending with a letter or digit (e.g. {EXAMPLE})",
            transient=False,
        )
    parts = [p for p in prefix.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise StorageError(f"{value!r}: a folder named . or .. is not allowed", transient=False)
    return StorageTarget(kind, bucket, "/".join(parts))
