"""Uploaded files: what they really are, before they are stored.

The type an upload claims (its file name, its declared ``Content-Type``) is only a
hint. :func:`inspect_upload` reads the bytes: Pillow decodes PNG, JPEG, GIF and WebP
(and nothing else — other Pillow plugins never see the bytes), ``%PDF-`` marks a PDF,
and anything else is ``application/octet-stream``. The detected type is the one that
is checked and stored.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from rustok_core.errors import Validation

OCTET_STREAM = "application/octet-stream"
PDF = "application/pdf"

# The Pillow formats we decode. Image.open is limited to these, so a file is never
# handed to a decoder we do not accept (EPS, for one, runs Ghostscript).
DECODED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")

# Pillow format name -> content type. A JPEG carrying several pictures (cameras write
# them) opens as MPO.
_CONTENT_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}

MAX_IMAGE_PIXELS = 50_000_000
MAX_FILENAME_CHARS = 100

# Extensions that claim an image. A file named like this (or declared image/*) must
# decode as one of DECODED_FORMATS; an SVG, a BMP or a renamed text file does not.
IMAGE_EXTENSIONS = frozenset(
    {
        "png", "apng", "jpg", "jpeg", "jpe", "jfif", "gif", "webp",
        "svg", "svgz", "bmp", "ico", "tif", "tiff", "avif", "heic",
    }
)  # fmt: skip

# What Pillow raises on bytes it cannot decode: truncated data, bad chunks and CRCs,
# impossible headers.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)


@dataclass(frozen=True)
class FileInfo:
    """What an upload really is: its detected content type and, for images, its size."""

    content_type: str
    width: int | None
    height: int | None


def inspect_upload(
    data: bytes,
    *,
    filename: str,
    declared_type: str | None,
    allowed_types: Sequence[str],
) -> FileInfo:
    """Detect the real type of ``data`` and check it may be stored.

    Raises :class:`Validation` (field ``file``) when the detected type is not in
    ``allowed_types``, when the name or declared type claims an image that the bytes
    are not, and for corrupt, truncated or oversized (above
    :data:`MAX_IMAGE_PIXELS`) images.
    """
    allowed = sorted({_media_type(kind) for kind in allowed_types})
    image = _open_image(data)
    if image is None:
        detected = PDF if data.startswith(b"%PDF-") else OCTET_STREAM
        claim = _image_claim(filename, declared_type)
        if claim is not None:
            raise Validation(
                f"the file claims to be an image ({claim}) but is not a PNG, JPEG, GIF or WebP image",
                field="file",
                detectedType=detected,
            )
        _check_allowed(detected, allowed)
        return FileInfo(content_type=detected, width=None, height=None)

    with image:
        detected = _CONTENT_TYPES[str(image.format)]
        _check_allowed(detected, allowed)
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise _too_large(width, height)
        try:
            # Decoding every pixel is what finds a truncated or corrupt image; the
            # header alone (all Image.open reads) looks fine.
            image.load()
        except _DECODE_ERRORS as exc:
            raise Validation(f"the image is corrupt or truncated: {exc}", field="file", detectedType=detected) from exc
    return FileInfo(content_type=detected, width=width, height=height)


def _open_image(data: bytes) -> Image.Image | None:
    """Open ``data`` as one of DECODED_FORMATS (header only), or None if it is not one."""
    try:
        return Image.open(io.BytesIO(data), formats=DECODED_FORMATS)
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit (about 179 megapixels) trips while reading the header.
        raise Validation(
            f"the image is too large: more than {MAX_IMAGE_PIXELS} pixels", field="file", maxPixels=MAX_IMAGE_PIXELS
        ) from exc
    except _DECODE_ERRORS as exc:
        raise Validation(f"the image is corrupt: {exc}", field="file") from exc


def _too_large(width: int, height: int) -> Validation:
    return Validation(
        f"the image is too large: {width}x{height} is more than {MAX_IMAGE_PIXELS} pixels",
        field="file",
        maxPixels=MAX_IMAGE_PIXELS,
    )


def _check_allowed(detected: str, allowed: Sequence[str]) -> None:
    if detected not in allowed:
        listed = ", ".join(allowed) or "none"
        raise Validation(
            f"files of type {detected} are not accepted here; allowed: {listed}",
            field="file",
            detectedType=detected,
            allowedTypes=list(allowed),
        )


def _media_type(value: str) -> str:
    """``Image/PNG; charset=x`` -> ``image/png``."""
    return value.split(";", 1)[0].strip().lower()


def _image_claim(filename: str, declared_type: str | None) -> str | None:
    """What in the name or declared type says "image", or None if nothing does."""
    if declared_type is not None and _media_type(declared_type).startswith("image/"):
        return _media_type(declared_type)
    _, dot, extension = display_filename(filename).rpartition(".")
    if dot and extension.lower() in IMAGE_EXTENSIONS:
        return f".{extension.lower()}"
    return None


# --------------------------------------------------------------------------- file names

# Characters Windows refuses in names, plus both path separators.
_RESERVED_CHARS = re.compile(r'[<>:"/\\|?*]')
_WHITESPACE = re.compile(r"\s+")
_WINDOWS_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{n}" for n in range(1, 10)} | {f"lpt{n}" for n in range(1, 10)}
)
_MAX_EXTENSION_CHARS = 16


def display_filename(name: str) -> str:
    """Return a name that is safe to store and to send back in a download.

    Keeps the base name only (after ``/`` or ``\\``), drops control and format
    characters (NUL, newlines, bidi overrides), replaces characters Windows refuses,
    trims leading dots and trailing dots and spaces, and shortens the name to
    :data:`MAX_FILENAME_CHARS` characters while keeping the extension. Falls back to
    ``"file"`` when nothing usable is left.
    """
    normalized = unicodedata.normalize("NFC", name)
    base = re.split(r"[/\\]", normalized)[-1]
    visible = "".join(char for char in base if unicodedata.category(char) not in {"Cc", "Cf"})
    cleaned = _WHITESPACE.sub(" ", _RESERVED_CHARS.sub("_", visible))
    cleaned = cleaned.lstrip(". ").rstrip(". ")
    if not cleaned:
        return "file"
    stem, dot, extension = cleaned.rpartition(".")
    if not dot:
        stem, extension = cleaned, ""
    if cleaned.split(".", 1)[0].lower() in _WINDOWS_DEVICE_NAMES:
        cleaned = f"_{cleaned}"
        stem = f"_{stem}"
    if len(cleaned) <= MAX_FILENAME_CHARS:
        return cleaned
    if dot and 0 < len(extension) <= _MAX_EXTENSION_CHARS:
        room = MAX_FILENAME_CHARS - len(extension) - 1
        return f"{stem[:room].rstrip('. ')}.{extension}"
    return cleaned[:MAX_FILENAME_CHARS].rstrip(". ")
