"""Uploads: the bytes decide what a file is; bad, fake and oversized images are refused."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from rustok_content.imaging import MAX_FILENAME_CHARS, MAX_IMAGE_PIXELS, FileInfo, display_filename, inspect_upload
from rustok_core.errors import Validation

IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
IMAGES_AND_PDF = (*IMAGES, "application/pdf")
ANYTHING = (*IMAGES_AND_PDF, "application/octet-stream")

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


def image_bytes(pillow_format: str, size: tuple[int, int] = (12, 8), *, noisy: bool = False) -> bytes:
    """A small image made in memory; ``noisy`` makes it incompressible (long data)."""
    if noisy:
        pixels = random.Random(7).randbytes(size[0] * size[1] * 3)
        image = Image.frombytes("RGB", size, pixels)
    else:
        image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, pillow_format)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (1-bit grey): a bomb's shape."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def inspect(
    data: bytes, filename: str = "upload", declared: str | None = None, allowed: tuple[str, ...] = IMAGES_AND_PDF
) -> FileInfo:
    return inspect_upload(data, filename=filename, declared_type=declared, allowed_types=allowed)


def refusal(
    data: bytes, filename: str = "upload", declared: str | None = None, **kwargs: tuple[str, ...]
) -> Validation:
    with pytest.raises(Validation) as caught:
        inspect(data, filename, declared, **kwargs)
    assert [error.path for error in caught.value.field_errors] == [("file",)]
    return caught.value


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("pillow_format", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_images_are_detected_with_their_size(pillow_format, content_type):
    info = inspect(image_bytes(pillow_format), f"picture.{pillow_format.lower()}", content_type)
    assert info == FileInfo(content_type=content_type, width=12, height=8)


def test_a_pdf_is_detected_without_a_size():
    assert inspect(MINIMAL_PDF, "report.pdf", "application/pdf") == FileInfo("application/pdf", None, None)


def test_the_detected_type_wins_over_the_declared_one():
    info = inspect(image_bytes("JPEG"), "photo.png", "image/png")
    assert info.content_type == "image/jpeg"


def test_unknown_bytes_are_an_octet_stream():
    info = inspect(b"just some notes\n", "notes.txt", "text/plain", allowed=ANYTHING)
    assert info == FileInfo("application/octet-stream", None, None)


def test_declared_types_are_compared_without_case_or_parameters():
    info = inspect(image_bytes("PNG"), "a.png", "Image/PNG; charset=binary", allowed=("IMAGE/PNG",))
    assert info.content_type == "image/png"


# --------------------------------------------------------------------------- refusals


def test_a_type_that_is_not_allowed_is_refused_naming_both_sides():
    error = refusal(image_bytes("GIF"), "anim.gif", "image/gif", allowed=("image/png", "image/jpeg"))
    assert "image/gif" in error.message
    assert "image/jpeg, image/png" in error.message
    assert error.details == {"detectedType": "image/gif", "allowedTypes": ["image/jpeg", "image/png"]}


def test_a_pdf_is_refused_where_only_images_are_allowed():
    error = refusal(MINIMAL_PDF, "report.pdf", "application/pdf", allowed=IMAGES)
    assert "application/pdf" in error.message


def test_unknown_bytes_are_refused_unless_octet_stream_is_allowed():
    error = refusal(b"MZ\x90\x00 not really a program", "tool.exe", "application/x-msdownload")
    assert "application/octet-stream" in error.message


def test_a_text_file_renamed_png_is_refused():
    error = refusal(b"hello, I am text\n", "holiday.png", None, allowed=ANYTHING)
    assert "claims to be an image" in error.message


def test_a_file_declared_as_an_image_must_decode_as_one():
    error = refusal(MINIMAL_PDF, "document", "image/jpeg", allowed=ANYTHING)
    assert "image/jpeg" in error.message


@pytest.mark.parametrize("allowed", [IMAGES_AND_PDF, ANYTHING, ("image/svg+xml",)])
def test_an_svg_is_refused_even_where_other_files_are_allowed(allowed):
    # SVG can carry script; it is not one of the image types we decode.
    refusal(SVG, "logo.svg", "image/svg+xml", allowed=allowed)


def test_an_svg_without_a_claim_is_an_octet_stream():
    assert inspect(SVG, "logo.txt", "text/plain", allowed=ANYTHING).content_type == "application/octet-stream"


@pytest.mark.parametrize(("pillow_format", "filename"), [("PNG", "cut.png"), ("JPEG", "cut.jpg")])
def test_a_truncated_image_is_refused(pillow_format, filename):
    whole = image_bytes(pillow_format, (64, 64), noisy=True)
    error = refusal(whole[: len(whole) // 2], filename)
    assert "truncated" in error.message


def test_an_image_cut_inside_its_header_is_refused():
    refusal(image_bytes("PNG")[:20], "cut.png")


def test_a_png_with_a_corrupt_chunk_is_refused():
    data = bytearray(image_bytes("PNG", (32, 32), noisy=True))
    data[60] ^= 0xFF  # inside the first IDAT: its CRC no longer matches
    refusal(bytes(data), "broken.png")


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8_000, 7_000),  # 56 megapixels: above our limit, below Pillow's
        (20_000, 20_000),  # 400 megapixels: Pillow's DecompressionBombError
    ],
)
def test_an_image_above_the_pixel_limit_is_refused_before_decoding(width, height):
    error = refusal(png_claiming(width, height), "bomb.png")
    assert "too large" in error.message
    assert error.details == {"maxPixels": MAX_IMAGE_PIXELS}


def test_an_image_in_pillows_warning_range_is_refused():
    # Between 89 and 179 megapixels Pillow only warns; our own limit refuses it.
    with pytest.warns(Image.DecompressionBombWarning):
        error = refusal(png_claiming(10_000, 10_000), "bomb.png")
    assert "10000x10000" in error.message


def test_an_image_at_the_pixel_limit_is_only_checked_by_decoding():
    # Exactly at the limit the header passes; the bogus pixel data then fails to decode.
    error = refusal(png_claiming(10_000, 5_000), "edge.png")
    assert "too large" not in error.message


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("holiday photo.jpg", "holiday photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.png", "y.png"),
        ("/var/www/../index.html", "index.html"),
        ("report\x00.pdf", "report.pdf"),
        ("line\nbreak\ttab\x7f.txt", "linebreaktab.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ('what?<is>*this|"name":.png', "what__is__this__name__.png"),
        ("  spaced   out  .txt ", "spaced out .txt"),
        ("..", "file"),
        (".htaccess", "htaccess"),
        ("trailing dots...", "trailing dots"),
        ("CON.txt", "_CON.txt"),
        ("", "file"),
        ("\x00\x01\x02", "file"),
        ("dir/", "file"),
        ("caf\u0065\u0301.png", "caf\u00e9.png"),
    ],
)
def test_safe_filename(name, expected):
    assert display_filename(name) == expected


def test_a_long_name_is_shortened_keeping_its_extension():
    name = display_filename("x" * 300 + ".jpeg")
    assert len(name) == MAX_FILENAME_CHARS
    assert name == "x" * (MAX_FILENAME_CHARS - 5) + ".jpeg"


def test_a_long_name_with_a_long_extension_is_cut_as_a_whole():
    name = display_filename("report." + "y" * 200)
    assert name == ("report." + "y" * 200)[:MAX_FILENAME_CHARS]


def test_a_long_unicode_name_is_counted_in_characters():
    assert display_filename("é" * 150 + ".png") == "é" * (MAX_FILENAME_CHARS - 4) + ".png"
