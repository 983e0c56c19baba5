"""Typed blocks: one strict schema per type, validated on write, rendered once.

A block is ``{type, data}``. ``data`` must match its type's schema exactly: unknown
keys, wrong JSON types (no coercion: ``"3"`` is not a number) and unsafe URLs are
refused with the path of the offending value, e.g.
``("translations", 0, "blocks", 2, "data", "cta", "url")``. Text blocks are rendered
and sanitized by content's :func:`~rustok_content.rendering.render_body` when they are
written, so reads serve stored, safe HTML.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from rustok_content.rendering import MAX_BODY_CHARS, render_body
from rustok_content.services.text import Path
from rustok_core.errors import FieldError, Validation
from rustok_core.ids import parse_id
from rustok_pages.models import BLOCK_TYPES

MAX_BLOCKS = 100
"""Blocks of one page in one locale."""
MAX_BLOCK_BYTES = 65_536
"""JSON size of one block's data (text sources are limited by content's body limit instead)."""
MAX_URL = 2048
MAX_GALLERY = 50
MAX_PRODUCTS = 50

HANDLE_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
"""A pydantic field pattern (its Rust engine's ``$`` is the end of the text, never before a newline)."""


def check_link(url: str) -> str:
    """``url`` if it is an absolute http(s) URL or a path on this site (``/about``).

    Whitespace, control characters and backslashes are refused outright: browsers
    drop some of them while reading a URL ("java\\tscript:" is javascript:) and read
    "/\\host" as "//host", another site.
    """
    if not url:
        raise ValueError("must not be empty")
    if len(url) > MAX_URL:
        raise ValueError(f"must be at most {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" or c == "\\" for c in url):
        raise ValueError("must not contain spaces, control characters or backslashes")
    if url.startswith("/") and not url.startswith("//"):
        return url
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not parts.netloc.startswith("@"):
        return url
    raise ValueError("must be an http(s) URL or a path on this site starting with '/'")


Link = Annotated[str, AfterValidator(check_link)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Alt = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Caption = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def _id(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a UUID or ULID string")
    try:
        return parse_id(value)
    except Validation:
        raise ValueError("must be a UUID or ULID string") from None


AnyId = Annotated[uuid.UUID, BeforeValidator(_id)]
"""A UUID or ULID sent as text (JSON has no UUID type, so strict mode alone would refuse every one)."""


class _Schema(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    def problems(self) -> list[tuple[Path, str]]:
        """Rules across fields, as (path inside ``data``, message)."""
        return []


class CallToAction(_Schema):
    label: Line
    url: Link


class HeroBlock(_Schema):
    title: Line
    subtitle: Caption | None = None
    image_url: Link | None = None
    media_id: AnyId | None = None
    image_alt: Alt | None = None
    cta: CallToAction | None = None

    def problems(self) -> list[tuple[Path, str]]:
        if self.image_url is not None and self.media_id is not None:
            return [(("media_id",), "give image_url or media_id, not both")]
        return []


class TextBlock(_Schema):
    format: Literal["markdown", "html"]
    source: Annotated[str, Field(max_length=MAX_BODY_CHARS)]


class ImageData(_Schema):
    media_id: AnyId | None = None
    url: Link | None = None
    alt: Alt
    caption: Caption | None = None

    def problems(self) -> list[tuple[Path, str]]:
        if (self.media_id is None) == (self.url is None):
            return [(("url",) if self.media_id is None else ("media_id",), "give exactly one of media_id or url")]
        return []


class ImageBlock(ImageData):
    pass


class GalleryBlock(_Schema):
    images: Annotated[list[ImageData], Field(min_length=1, max_length=MAX_GALLERY)]

    def problems(self) -> list[tuple[Path, str]]:
        return [
            (("images", i, *path), message) for i, image in enumerate(self.images) for path, message in image.problems()
        ]


class CtaBlock(_Schema):
    label: Line
    url: Link
    style: Literal["primary", "secondary"] = "primary"


class ProductListBlock(_Schema):
    """Products chosen by id, or the first ``limit`` products of a category (by handle)."""

    title: Line | None = None
    product_ids: Annotated[list[AnyId], Field(min_length=1, max_length=MAX_PRODUCTS)] | None = None
    category_handle: Annotated[str, Field(min_length=1, max_length=200, pattern=HANDLE_PATTERN)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PRODUCTS)] | None = None

    def problems(self) -> list[tuple[Path, str]]:
        if (self.product_ids is None) == (self.category_handle is None):
            return [(("product_ids",), "give exactly one of product_ids or category_handle")]
        if self.product_ids is not None and self.limit is not None:
            return [(("limit",), "limit goes with category_handle only")]
        if self.product_ids is not None and len(set(self.product_ids)) != len(self.product_ids):
            return [(("product_ids",), "a product is listed twice")]
        return []


SCHEMAS: Mapping[str, type[_Schema]] = {
    "hero": HeroBlock,
    "text": TextBlock,
    "image": ImageBlock,
    "gallery": GalleryBlock,
    "cta": CtaBlock,
    "product_list": ProductListBlock,
}
assert tuple(SCHEMAS) == BLOCK_TYPES


@dataclass(frozen=True)
class BlockDraft:
    """A block as a client sends it."""

    type: str
    data: Any


@dataclass(frozen=True)
class CheckedBlock:
    """A block that passed its schema: normalized data, rendered HTML for text blocks."""

    type: str
    data: dict[str, Any]
    html: str | None = None

    @property
    def media_refs(self) -> list[tuple[Path, uuid.UUID]]:
        """The media the block shows, with where each id sits inside ``data``."""
        refs: list[tuple[Path, uuid.UUID]] = []
        if self.data.get("media_id"):
            refs.append((("media_id",), uuid.UUID(self.data["media_id"])))
        for index, image in enumerate(self.data.get("images", ())):
            if image.get("media_id"):
                refs.append((("images", index, "media_id"), uuid.UUID(image["media_id"])))
        return refs


def check_blocks(drafts: Sequence[BlockDraft], path: Path) -> list[CheckedBlock]:
    """Validate a locale's list of blocks; every problem is reported with its path."""
    if len(drafts) > MAX_BLOCKS:
        raise Validation(
            f"a page has at most {MAX_BLOCKS} blocks per locale",
            errors=[FieldError(path, f"at most {MAX_BLOCKS} blocks")],
        )
    checked: list[CheckedBlock] = []
    errors: list[FieldError] = []
    for index, draft in enumerate(drafts):
        where = (*path, index)
        try:
            checked.append(check_block(draft, where))
        except Validation as exc:
            errors.extend(exc.field_errors)
    if errors:
        first = errors[0]
        raise Validation(f"invalid block at {'.'.join(map(str, first.path))}: {first.message}", errors=errors)
    return checked


def check_block(draft: BlockDraft, where: Path) -> CheckedBlock:
    schema = SCHEMAS.get(draft.type)
    if schema is None:
        raise _invalid((*where, "type"), f"unknown block type; expected one of {', '.join(SCHEMAS)}")
    if not isinstance(draft.data, Mapping):
        raise _invalid((*where, "data"), "must be a JSON object")
    try:
        model = schema.model_validate(dict(draft.data))
    except ValidationError as exc:
        errors = [FieldError((*where, "data", *error["loc"]), _message(error)) for error in exc.errors()]
        raise Validation(errors[0].message, errors=errors) from None
    problems = [FieldError((*where, "data", *inner), message) for inner, message in model.problems()]
    if problems:
        raise Validation(problems[0].message, errors=problems)
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    html = None
    if isinstance(model, TextBlock):
        try:
            html = render_body(model.format, model.source)
        except Validation as exc:
            raise _invalid((*where, "data", "source"), exc.message) from None
    elif len(orjson.dumps(data)) > MAX_BLOCK_BYTES:
        raise _invalid((*where, "data"), f"a block's data must be at most {MAX_BLOCK_BYTES} bytes of JSON")
    return CheckedBlock(draft.type, data, html)


def digest(blocks: Sequence[CheckedBlock]) -> str:
    """A short fingerprint of a locale's blocks (equal blocks, equal digest)."""
    encoded = orjson.dumps([[block.type, block.data] for block in blocks], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(encoded).hexdigest()[:20]


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def _invalid(path: Path, message: str) -> Validation:
    return Validation(message, errors=[FieldError(path, message)])


def served_data(block_type: str, data: Mapping[str, Any], html: str | None, *, editor: bool) -> dict[str, Any]:
    """A block's data as clients read it.

    Text blocks carry their sanitized ``html``; only editors also get the ``source``
    (an HTML source may hold markup that the sanitizer removed). Images stored by
    media id get the URL the media is served at as ``src``.
    """
    served = dict(data)
    if block_type == "text":
        served["html"] = html or ""
        if not editor:
            served.pop("source", None)
    elif block_type == "image":
        served["src"] = _image_src(served)
    elif block_type == "gallery":
        served["images"] = [{**image, "src": _image_src(image)} for image in served.get("images", ())]
    elif block_type == "hero" and ("media_id" in served or "image_url" in served):
        served["image_src"] = _image_src({"media_id": served.get("media_id"), "url": served.get("image_url")})
    return served


def _image_src(image: Mapping[str, Any]) -> str:
    if image.get("media_id"):
        return f"/api/v1/content/media/{image['media_id']}/file"
    return str(image.get("url") or "")


__all__ = [
    "MAX_BLOCKS",
    "SCHEMAS",
    "BlockDraft",
    "CheckedBlock",
    "check_block",
    "check_blocks",
    "check_link",
    "digest",
    "served_data",
]
