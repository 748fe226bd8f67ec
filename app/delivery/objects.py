"""Finished files into object storage, each checked there before its address counts.

Object stores publish an object only when its upload completes (a dropped connection leaves
nothing under the name; an unfinished multipart upload is aborted), so the local rule "temp
name, then rename" holds by itself. What this adds: an object already there from an earlier
attempt of the same item is kept when it matches (a crash between upload and record uploads
nothing twice); someone else's object is never replaced; every upload is read back as size and
checksum — the S3 ETag (MD5, or MD5 of the parts' MD5s) or GCS's md5Hash — and sent again,
with backoff, when the connection drops or the copy differs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)
from tenacity.wait import wait_base

from app.domain.storage import StorageError, StorageTarget

log = logging.getLogger(__name__)

PART_BYTES = 50 * 2**20  # s3fs's part size, set explicitly: the multipart ETag depends on it
MARK = "cadence-item"  # object metadata: which item's file this is (ours to replace)
EXTRA = (
    "pip install 'cadence-studio[storage]' (in a source checkout: "
    ".venv/bin/pip install -e '.[storage]')"
)
# botocore's and google-auth's "no credentials found" (by name: neither need be installed)
_NO_KEY = ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError")
_ETAG = re.compile(r'^"?([0-9a-f]{32})(?:-(\d+))?"?$')


@dataclass(frozen=True, slots=True)
class StorageAccess:
    """How to sign in to the storage (from Settings and the keyring); empty: the provider's
    usual chain (environment variables, ~/.aws, Google application default credentials)."""

    key_id: str = ""
    secret: str = ""
    endpoint: str = ""  # an S3-compatible service (MinIO, R2, B2…) or a GCS emulator
    region: str = ""
    gcs_key: str = ""  # a Google service account's JSON key


@dataclass(frozen=True, slots=True)
class _Local:
    size: int
    md5: bytes
    parts_md5: bytes  # MD5 of the concatenated MD5s of PART_BYTES parts
    parts: int


def _local(path: Path) -> _Local:
    whole, digests, size = hashlib.md5(usedforsecurity=False), [], 0
    with path.open("rb") as f:
        while block := f.read(PART_BYTES):
            whole.update(block)
            digests.append(hashlib.md5(block, usedforsecurity=False).digest())
            size += len(block)
    parts = hashlib.md5(b"".join(digests), usedforsecurity=False).digest()
    return _Local(size, whole.digest(), parts, len(digests))


def open_store(target: StorageTarget, access: StorageAccess) -> Any:
    """An fsspec filesystem for ``target`` signed in with ``access`` (a fresh one: changed
    keys apply at once)."""
    try:
        if target.scheme == "s3":
            import s3fs

            client: dict[str, Any] = {"region_name": access.region} if access.region else {}
            fs = s3fs.S3FileSystem(
                key=access.key_id or None,
                secret=access.secret or None,
                endpoint_url=access.endpoint or None,
                client_kwargs=client,
                # One retry inside botocore, none inside s3fs: `deliver` retries (and says so)
                # with its own backoff, instead of 25 silent tries per attempt.
                config_kwargs={
                    "connect_timeout": 10,
                    "read_timeout": 120,
                    "retries": {"max_attempts": 2, "mode": "standard"},
                },
                skip_instance_cache=True,
            )
            fs.retries = 1
            return fs
        # The JSON API file system itself: gcsfs's default class now first asks over gRPC
        # whether a bucket is zonal, a minute's wait against anything but Google itself.
        from gcsfs.core import GCSFileSystem

        token: Any = "google_default"
        if access.gcs_key:
            try:
                token = json.loads(access.gcs_key)
            except ValueError:
                raise StorageError(
                    "storage.gcs_key is not a service account's JSON key — set it again with "
                    "the key file's contents",
                    transient=False,
                ) from None
        return GCSFileSystem(
            token=token, endpoint_url=access.endpoint or None, skip_instance_cache=True
        )
    except ImportError:
        raise StorageError(
            f"delivering to {target.scheme}:// needs Cadence's storage support — {EXTRA}",
            transient=False,
        ) from None
    except Exception as exc:  # no credentials found, a key it cannot read: said, not raised
        raise _problem(exc, target) from exc


def _matches(info: dict[str, Any], local: _Local) -> bool:
    """The stored object is these bytes: size, and the checksum the store computed."""
    if int(info.get("size") or -1) != local.size:
        return False
    if "md5Hash" in info or "crc32c" in info:  # GCS (a composed object has no md5Hash)
        md5 = info.get("md5Hash")
        return md5 is None or base64.b64decode(md5) == local.md5
    found = _ETAG.match(str(info.get("ETag") or info.get("etag") or ""))
    if found is None:
        return True  # no MD5 to compare (an encrypted bucket's ETag): size only
    digest, parts = found.group(1), found.group(2)
    if parts is None:
        return digest == local.md5.hex()
    return digest == local.parts_md5.hex() and int(parts) == local.parts


def _stat(fs: Any, key: str) -> dict[str, Any] | None:
    try:
        fs.invalidate_cache(key)
        info: dict[str, Any] = fs.info(key)
    except FileNotFoundError:
        return None
    return info if info.get("type", "file") == "file" else None


def _owner(fs: Any, info: dict[str, Any], key: str) -> str | None:
    metadata = info.get("metadata")  # GCS gives it with the object's details
    if metadata is None and hasattr(fs, "metadata"):
        try:
            metadata = fs.metadata(key)
        except OSError:
            metadata = None
    value = (metadata or {}).get(MARK)
    return None if value is None else str(value)


def _problem(exc: BaseException, target: StorageTarget) -> StorageError:
    """What went wrong, in words, and whether trying again may help."""
    if isinstance(exc, StorageError):
        return exc
    if type(exc).__name__ in _NO_KEY:
        return StorageError(
            f"no key for {target.url} — set the storage key in Settings (S3: storage.key_id "
            "and storage.secret; Google Cloud Storage: storage.gcs_key)",
            transient=False,
        )
    if isinstance(exc, PermissionError) or str(exc).startswith("Forbidden"):  # gcsfs: 403
        return StorageError(
            f"{target.url} refused Cadence's key ({exc}) — check the storage key in Settings "
            "and that it may write to this bucket",
            transient=False,
        )
    if isinstance(exc, FileNotFoundError):
        return StorageError(
            f"bucket {target.bucket} was not found — create it, or correct the storage address "
            "(Settings, or the job's Storage field)",
            transient=False,
        )
    text = str(exc) or type(exc).__name__
    return StorageError(
        f"could not reach {target.url} ({text}) — check the connection and the address",
        transient=True,
    )


def _put(fs: Any, target: StorageTarget, path: Path, key: str, mark: str, local: _Local) -> None:
    address = f"{target.scheme}://{key}"
    found = _stat(fs, key)
    if found is not None:
        if _matches(found, local):
            log.info("%s is already there (an earlier attempt): kept", address)
            return
        if _owner(fs, found, key) != mark:
            raise StorageError(
                f"{address} already exists and is another file — delete or move it there, or "
                "choose another storage folder, then retry the item",
                transient=False,
            )
    if target.scheme == "s3":
        fs.put_file(str(path), key, chunksize=PART_BYTES, Metadata={MARK: mark})
    else:
        fs.put_file(str(path), key, metadata={MARK: mark})
    stored = _stat(fs, key)
    if stored is None or not _matches(stored, local):
        try:
            fs.rm_file(key)  # ours, and wrong: not left where it could be taken for the video
        except OSError:
            log.warning("could not remove the damaged copy %s", address)
        raise StorageError(f"{address} arrived damaged (size or checksum differ)")


def deliver(
    files: Sequence[Path],
    target: StorageTarget,
    folder: str,
    access: StorageAccess,
    *,
    mark: str,
    attempts: int = 4,
    wait: wait_base | None = None,
    progress: Callable[[float], None] = lambda _f: None,
) -> list[str]:
    """Upload ``files`` under ``target``/``folder``, each verified; their addresses, in order.

    ``mark`` names the item (stored with each object): its own earlier objects may be replaced
    by a re-render, nobody else's. Dropped connections and damaged copies are retried up to
    ``attempts`` times per file; a `StorageError` says what failed and whether it may pass.
    """
    fs = open_store(target, access)
    sizes = [p.stat().st_size for p in files]
    total, sent, urls = max(1, sum(sizes)), 0, []
    for path, size in zip(files, sizes, strict=True):
        key = target.key(folder, path.name)
        local = _local(path)
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait or wait_exponential(multiplier=1, min=1, max=20),
            retry=retry_if_exception(lambda e: _problem(e, target).transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        log.info(
                            "sending %s again (try %s)",
                            path.name,
                            attempt.retry_state.attempt_number,
                        )
                    _put(fs, target, path, key, mark, local)
        except Exception as exc:
            raise _problem(exc, target) from exc
        sent += size
        progress(sent / total)
        urls.append(target.address(folder, path.name))
    return urls


def check(target: StorageTarget, access: StorageAccess) -> str:
    """Write, read back and delete a small object: the storage works with these keys."""
    fs = open_store(target, access)
    key = target.key(f".cadence-check-{uuid.uuid4().hex[:8]}")
    body = b"Cadence can write here\n"
    try:
        fs.pipe_file(key, body)
        back = fs.cat_file(key)
        fs.rm_file(key)
    except Exception as exc:
        raise _problem(exc, target) from exc
    if back != body:
        raise StorageError(f"{target.url} returned something else than was written")
    return f"{target.url} works: a test file was written, read back and deleted"
