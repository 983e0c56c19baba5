"""Media storage: keys, atomic writes, missing files, keys that try to leave the directory."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from pathlib import Path

import pytest

from rustok_core.errors import NotFound, Validation
from rustok_core.settings import MediaSettings, Settings
from rustok_core.storage import (
    LocalMediaStorage,
    MediaStorage,
    media_key,
    safe_filename,
    storage_from_settings,
)

TENANT = uuid.UUID("01890000-0000-7000-8000-000000000001")
MEDIA = uuid.UUID("01890000-0000-7000-8000-0000000000aa")


@pytest.fixture
def storage(tmp_path: Path) -> LocalMediaStorage:
    return LocalMediaStorage(tmp_path / "media")


def test_local_storage_is_a_media_storage(storage: LocalMediaStorage) -> None:
    assert isinstance(storage, MediaStorage)


async def test_put_then_open_returns_the_bytes(storage: LocalMediaStorage) -> None:
    key = media_key(TENANT, MEDIA, "cat.png")
    assert key == f"{TENANT}/{MEDIA}/cat.png"
    assert not await storage.exists(key)
    await storage.put(key, b"\x89PNG data", "image/png")
    assert await storage.exists(key)
    assert await storage.open(key) == b"\x89PNG data"
    assert (storage.directory / str(TENANT) / str(MEDIA) / "cat.png").read_bytes() == b"\x89PNG data"


async def test_put_replaces_and_leaves_no_temporary_files(storage: LocalMediaStorage) -> None:
    key = media_key(TENANT, MEDIA, "doc.pdf")
    await storage.put(key, b"first", "application/pdf")
    await storage.put(key, b"second", "application/pdf")
    assert await storage.open(key) == b"second"
    assert os.listdir(storage.path_of(key).parent) == ["doc.pdf"]


async def test_a_failed_write_keeps_the_old_file_and_cleans_up(
    storage: LocalMediaStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = media_key(TENANT, MEDIA, "doc.pdf")
    await storage.put(key, b"old", "application/pdf")

    def refuse(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        await storage.put(key, b"new", "application/pdf")
    monkeypatch.undo()
    assert await storage.open(key) == b"old"
    assert os.listdir(storage.path_of(key).parent) == ["doc.pdf"]


async def test_file_io_runs_off_the_event_loop(storage: LocalMediaStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    original = os.replace

    def spy(src: str, dst: str) -> None:
        threads.append(threading.get_ident())
        original(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    await storage.put(media_key(TENANT, MEDIA, "a.png"), b"x", "image/png")
    assert threads and threads[0] != threading.get_ident()


async def test_opening_a_missing_key_is_not_found(storage: LocalMediaStorage) -> None:
    with pytest.raises(NotFound, match="no media stored under"):
        await storage.open(media_key(TENANT, MEDIA, "nothing.png"))
    # A key naming a directory is not a stored file either.
    await storage.put(media_key(TENANT, MEDIA, "a.png"), b"x", "image/png")
    with pytest.raises(NotFound):
        await storage.open(f"{TENANT}/{MEDIA}")


async def test_delete_removes_the_file_and_tolerates_missing_keys(storage: LocalMediaStorage) -> None:
    key = media_key(TENANT, MEDIA, "a.png")
    await storage.put(key, b"x", "image/png")
    await storage.delete(key)
    assert not await storage.exists(key)
    assert not (storage.directory / str(TENANT)).exists()  # emptied directories go too
    await storage.delete(key)  # already gone: fine


async def test_delete_keeps_other_files_of_the_same_item(storage: LocalMediaStorage) -> None:
    await storage.put(f"{TENANT}/{MEDIA}/a.png", b"a", "image/png")
    await storage.put(f"{TENANT}/{MEDIA}/b.png", b"b", "image/png")
    await storage.delete(f"{TENANT}/{MEDIA}/a.png")
    assert await storage.open(f"{TENANT}/{MEDIA}/b.png") == b"b"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../outside.png",
        f"{TENANT}/../../outside.png",
        "/etc/passwd",
        "\\windows\\system32",
        "C:/boot.ini",
        f"{TENANT}//a.png",
        f"{TENANT}/./a.png",
        f"{TENANT}/a b.png",
        f"{TENANT}/caf\u00e9.png",
        f"{TENANT}/a.png\x00.txt",
    ],
)
async def test_keys_that_could_leave_the_directory_are_refused(storage: LocalMediaStorage, key: str) -> None:
    for operation in (
        storage.put(key, b"x", "image/png"),
        storage.open(key),
        storage.delete(key),
        storage.exists(key),
    ):
        with pytest.raises(Validation) as caught:
            await operation
        assert caught.value.details["reason"] == "INVALID_STORAGE_KEY"
    assert not (storage.directory.parent / "outside.png").exists()


async def test_symbolic_links_out_of_the_directory_are_refused(storage: LocalMediaStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    storage.directory.mkdir(parents=True)
    (storage.directory / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(Validation, match="outside the storage directory"):
        await storage.put("escape/a.png", b"x", "image/png")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\My Photo.JPG", "My_Photo.JPG"),
        ("Café au lait.png", "Cafe_au_lait.png"),
        ("..", "file"),
        (None, "file"),
        ("", "file"),
        ("  .hidden  ", "hidden"),
        ("x" * 300 + ".jpeg", "x" * 95 + ".jpeg"),
    ],
)
def test_safe_filename(given: str | None, expected: str) -> None:
    assert safe_filename(given) == expected


async def test_concurrent_writes_of_one_key_leave_one_whole_file(storage: LocalMediaStorage) -> None:
    key = media_key(TENANT, MEDIA, "race.bin")
    payloads = [bytes([n]) * 200_000 for n in range(8)]
    await asyncio.gather(*(storage.put(key, data, "application/octet-stream") for data in payloads))
    assert await storage.open(key) in payloads


def test_the_storage_comes_from_the_media_settings(tmp_path: Path) -> None:
    settings = Settings().with_overrides({"media.directory": str(tmp_path / "m")})
    storage = storage_from_settings(settings.media)
    assert isinstance(storage, LocalMediaStorage)
    assert storage.directory == tmp_path / "m"


def test_media_settings_defaults_and_validation() -> None:
    media = MediaSettings()
    assert media.directory == "var/media"
    assert media.allowed_types == ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"]
    assert MediaSettings(allowed_types=[" Image/SVG+XML "]).allowed_types == ["image/svg+xml"]
    with pytest.raises(ValueError, match="is not a media type"):
        MediaSettings(allowed_types=["png"])
    assert Settings().server.max_upload_bytes == 25 * 1024 * 1024
    assert not hasattr(media, "max_upload_bytes")
