"""Media storage behind one interface: files under ``var/media/`` by default.

Services keep a media record (filename, content type, size) in their own tables and
hand the bytes to ``ctx.storage`` under a key built with :func:`media_key`
(``<tenant_id>/<media_id>/<safe filename>``). They never know where the bytes live,
so another backend (object storage) can replace :class:`LocalMediaStorage` without
touching them.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import unicodedata
import uuid
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from rustok_core.errors import NotFound, Validation
from rustok_core.settings import MediaSettings

MAX_FILENAME_LENGTH = 100
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+\Z")


@runtime_checkable
class MediaStorage(Protocol):
    """Stores the bytes of uploaded media under keys like ``<tenant_id>/<media_id>/<filename>``."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there; readers never see half a file."""
        ...

    async def open(self, key: str) -> bytes:
        """The stored bytes; ``NotFound`` when nothing is stored under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove what is stored under ``key``; a missing key is not an error."""
        ...

    async def exists(self, key: str) -> bool: ...


def safe_filename(name: str | None) -> str:
    """A file name that is safe in a key and a path: ASCII letters, digits, ``.``, ``_``, ``-``.

    Directories in the client's name are dropped, other characters become ``_``, the
    result is cut to :data:`MAX_FILENAME_LENGTH` characters keeping the extension.
    """
    base = PurePosixPath((name or "").replace("\\", "/")).name
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE_FILENAME_CHARS.sub("_", ascii_name).strip("._")
    if not cleaned:
        return "file"
    if len(cleaned) > MAX_FILENAME_LENGTH:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            cleaned = f"{stem[: MAX_FILENAME_LENGTH - len(ext) - 1]}.{ext}"
        else:
            cleaned = cleaned[:MAX_FILENAME_LENGTH]
    return cleaned


def media_key(tenant_id: uuid.UUID, media_id: uuid.UUID, filename: str | None) -> str:
    """The storage key of one media file: ``<tenant_id>/<media_id>/<safe filename>``."""
    return f"{tenant_id}/{media_id}/{safe_filename(filename)}"


def check_key(key: str) -> tuple[str, ...]:
    """The segments of a valid key; ``VALIDATION`` for keys that could leave the storage root.

    A key is relative, separated by ``/``, and each segment is made of ASCII letters,
    digits, ``.``, ``_`` and ``-`` (never ``.`` or ``..`` alone).
    """
    if not isinstance(key, str) or not key:
        raise _invalid_key(key, "it is empty")
    if key.startswith(("/", "\\")) or "\\" in key or ":" in key:
        raise _invalid_key(key, "keys are relative paths separated by '/'")
    segments = tuple(key.split("/"))
    for segment in segments:
        if segment in ("", ".", ".."):
            raise _invalid_key(key, "empty, '.' and '..' segments are not allowed")
        if not _KEY_SEGMENT.match(segment):
            raise _invalid_key(key, "segments may hold only ASCII letters, digits, '.', '_' and '-'")
    return segments


def _invalid_key(key: object, why: str) -> Validation:
    return Validation(f"invalid storage key {key!r}: {why}", field="key", reason="INVALID_STORAGE_KEY")


class LocalMediaStorage:
    """Keeps each key as a file below ``directory``.

    Writes go to a temporary file in the target directory and are moved into place
    with ``os.replace``, so a reader sees the old file or the new one, never a part.
    File IO runs in a worker thread to keep the event loop free. The content type is
    not stored: the caller's media record holds it.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path_of(self, key: str) -> Path:
        """Where ``key`` lives on disk (after refusing keys that would leave the directory)."""
        segments = check_key(key)
        root = self.directory.resolve()
        path = root.joinpath(*segments)
        # Symbolic links inside the directory must not lead out of it either.
        if not path.resolve().is_relative_to(root):
            raise _invalid_key(key, "it leads outside the storage directory")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path_of(key)
        await asyncio.to_thread(_write_atomically, path, bytes(data))

    async def open(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no media stored under {key!r}", key=key) from None

    async def delete(self, key: str) -> None:
        path = self.path_of(key)
        await asyncio.to_thread(_remove, path, self.directory.resolve())

    async def exists(self, key: str) -> bool:
        path = self.path_of(key)
        return await asyncio.to_thread(path.is_file)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove(path: Path, root: Path) -> None:
    path.unlink(missing_ok=True)
    # Drop directories the removal left empty (one per media item), up to the root.
    parent = path.parent
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()
        except OSError:  # not empty (another file of the item) or already gone
            break
        parent = parent.parent


def storage_from_settings(settings: MediaSettings) -> MediaStorage:
    """The configured media storage (files under ``media.directory``)."""
    return LocalMediaStorage(settings.directory)
