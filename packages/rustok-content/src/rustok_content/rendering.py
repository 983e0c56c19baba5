"""Content bodies: source as written, HTML as served.

A body is stored twice: the source in its format (``markdown``, ``html`` or ``json``)
so it can be edited again, and the HTML that :func:`render_body` makes of it, which is
what clients receive. Every format ends in the same sanitizer (:func:`sanitize_html`),
an explicit allow-list of tags, attributes and URL schemes, so nothing a writer types
can run in a reader's browser. The allow-list is documented in
``docs/modules/content-bodies.md``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from typing import Literal

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rustok_core.errors import FieldError, Validation

BODY_FORMATS = ("markdown", "html", "json")
MAX_BODY_CHARS = 200_000

# --------------------------------------------------------------------------- sanitizer

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "b", "i", "u", "s", "del",
        "blockquote", "code", "pre", "ul", "ol", "li", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
        "figure", "figcaption", "span", "sup", "sub", "cite",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "th": frozenset({"colspan", "rowspan", "align"}),
    "td": frozenset({"colspan", "rowspan", "align"}),
    # Only `language-…` class names survive; see _filter_attribute.
    "code": frozenset({"class"}),
    "pre": frozenset({"class"}),
}

URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"

# Tags removed together with everything inside them. Without this, the text of a
# <script> or <style> would be kept as visible text once the tag itself is dropped.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset",
        "object", "embed", "applet", "svg", "math", "textarea", "select", "title",
        "xmp", "noembed", "noframes",
    }
)  # fmt: skip

_LANGUAGE_CLASS = re.compile(r"language-[a-z0-9+#-]+")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep ``class`` on code/pre only for ``language-…`` names (syntax highlighting)."""
    if attribute != "class":
        return value
    kept = [name for name in value.split() if _LANGUAGE_CLASS.fullmatch(name)]
    return " ".join(kept) or None


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel=LINK_REL,
    url_schemes=URL_SCHEMES,
    # Relative URLs (/path, #anchor, ?q) pass; anything with another scheme is dropped.
    url_relative="pass_through",
)


def sanitize_html(fragment: str) -> str:
    """Return ``fragment`` reduced to the allow-list: safe to serve as-is."""
    return _CLEANER.clean(fragment)


# --------------------------------------------------------------------------- markdown


def _render_table_cell_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # markdown-it writes column alignment as style="text-align:…", and the sanitizer
    # drops every style attribute; the allowed `align` attribute carries it instead.
    token = tokens[idx]
    style = token.attrGet("style")
    if isinstance(style, str) and style.startswith("text-align:"):
        del token.attrs["style"]
        token.attrSet("align", style.removeprefix("text-align:"))
    return renderer.renderToken(tokens, idx, options, env)


def _markdown_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("th_open", _render_table_cell_open)
    parser.add_render_rule("td_open", _render_table_cell_open)
    return parser


_MARKDOWN = _markdown_parser()


def _render_markdown(source: str) -> str:
    rendered: str = _MARKDOWN.render(source)
    return rendered


# --------------------------------------------------------------------------- json


class _Block(BaseModel):
    # Strict: "2" is not a heading level and 1 is not a boolean. Unknown keys are
    # refused, so a typo in an editor does not silently lose content.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ParagraphBlock(_Block):
    type: Literal["paragraph"]
    text: str


class HeadingBlock(_Block):
    type: Literal["heading"]
    level: int = Field(ge=1, le=6)
    text: str = Field(min_length=1)


class ListBlock(_Block):
    type: Literal["list"]
    ordered: bool = False
    items: list[str] = Field(min_length=1)


class QuoteBlock(_Block):
    type: Literal["quote"]
    text: str
    cite: str | None = None


class CodeBlock(_Block):
    type: Literal["code"]
    text: str
    language: str | None = Field(default=None, pattern=r"^[a-z0-9+#-]{1,40}$")


class ImageBlock(_Block):
    type: Literal["image"]
    src: str = Field(min_length=1, max_length=2048)
    alt: str
    caption: str | None = None

    @field_validator("src")
    @classmethod
    def _src_is_http_or_relative(cls, src: str) -> str:
        scheme = _url_scheme(src)
        if scheme is not None and scheme not in {"http", "https"}:
            raise ValueError("image src must be an http(s) or relative URL")
        return src


class DividerBlock(_Block):
    type: Literal["divider"]


Block = ParagraphBlock | HeadingBlock | ListBlock | QuoteBlock | CodeBlock | ImageBlock | DividerBlock

BLOCK_TYPES: dict[str, type[Block]] = {
    "paragraph": ParagraphBlock,
    "heading": HeadingBlock,
    "list": ListBlock,
    "quote": QuoteBlock,
    "code": CodeBlock,
    "image": ImageBlock,
    "divider": DividerBlock,
}

_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# What a browser ignores when it reads a URL: tabs and newlines anywhere, and C0
# controls and spaces at either end. "java\tscript:" is still javascript:.
_URL_IGNORED_INSIDE = re.compile(r"[\t\n\r]")


def _url_scheme(url: str) -> str | None:
    """The scheme a browser would see in ``url`` (lower case), or None if relative."""
    cleaned = _URL_IGNORED_INSIDE.sub("", url).strip("".join(map(chr, range(0x21))))
    match = _SCHEME.match(cleaned.lower())
    return match.group(1) if match else None


def parse_document(source: str) -> list[Block]:
    """Validate a JSON body and return its blocks.

    Raises :class:`Validation` whose field paths point into the document, e.g.
    ``("body", "blocks", 3, "level")``.
    """
    try:
        document = json.loads(source)
    except json.JSONDecodeError as exc:
        message = f"body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise Validation(message, field="body") from exc
    except RecursionError as exc:  # a document like [[[[…]]]] nested past the stack
        raise Validation("body is nested too deeply", field="body") from exc
    if not isinstance(document, dict):
        raise Validation('a JSON body must be an object {"blocks": [...]}', field="body")
    unknown = sorted(set(document) - {"blocks"})
    if unknown:
        problems = [FieldError(("body", key), "unknown key") for key in unknown]
        raise Validation(f"unknown keys in JSON body: {', '.join(unknown)}", errors=problems)
    raw_blocks = document.get("blocks")
    if not isinstance(raw_blocks, list):
        raise Validation("blocks must be a list", errors=[FieldError(("body", "blocks"), "must be a list")])

    blocks: list[Block] = []
    errors: list[FieldError] = []
    for index, raw in enumerate(raw_blocks):
        where: tuple[str | int, ...] = ("body", "blocks", index)
        if not isinstance(raw, dict):
            errors.append(FieldError(where, "a block must be an object"))
            continue
        block_type = raw.get("type")
        model = BLOCK_TYPES.get(block_type) if isinstance(block_type, str) else None
        if model is None:
            known = ", ".join(BLOCK_TYPES)
            errors.append(FieldError((*where, "type"), f"unknown block type; expected one of {known}"))
            continue
        try:
            blocks.append(model.model_validate(raw))
        except ValidationError as exc:
            errors.extend(FieldError((*where, *error["loc"]), error["msg"]) for error in exc.errors())
    if errors:
        first = errors[0]
        where_text = ".".join(str(part) for part in first.path)
        raise Validation(f"invalid JSON body at {where_text}: {first.message}", errors=errors)
    return blocks


def _text(value: str) -> str:
    return html.escape(value, quote=True)


def _multiline(value: str) -> str:
    return "<br>\n".join(_text(line) for line in value.split("\n"))


def _render_block(block: Block) -> str:
    match block:
        case ParagraphBlock(text=text):
            return f"<p>{_multiline(text)}</p>"
        case HeadingBlock(level=level, text=text):
            return f"<h{level}>{_text(text)}</h{level}>"
        case ListBlock(ordered=ordered, items=items):
            tag = "ol" if ordered else "ul"
            inner = "".join(f"<li>{_text(item)}</li>" for item in items)
            return f"<{tag}>{inner}</{tag}>"
        case QuoteBlock(text=text, cite=cite):
            cite_html = f"<cite>{_text(cite)}</cite>" if cite else ""
            return f"<blockquote><p>{_multiline(text)}</p>{cite_html}</blockquote>"
        case CodeBlock(text=text, language=language):
            attribute = f' class="language-{language}"' if language else ""
            return f"<pre><code{attribute}>{_text(text)}</code></pre>"
        case ImageBlock(src=src, alt=alt, caption=caption):
            caption_html = f"<figcaption>{_text(caption)}</figcaption>" if caption else ""
            return f'<figure><img src="{_text(src)}" alt="{_text(alt)}">{caption_html}</figure>'
        case DividerBlock():
            return "<hr>"
    raise AssertionError(f"unhandled block {block!r}")  # pragma: no cover - BLOCK_TYPES is exhaustive


def _render_json(source: str) -> str:
    return "\n".join(_render_block(block) for block in parse_document(source)) + "\n"


# --------------------------------------------------------------------------- entry point

_RENDERERS: dict[str, Callable[[str], str]] = {
    "markdown": _render_markdown,
    "html": lambda source: source,
    "json": _render_json,
}


def render_body(format: str, source: str) -> str:
    """Render a body written in ``format`` to sanitized HTML.

    The same input always gives the same output. Raises :class:`Validation` for an
    unknown format (field ``format``), a source longer than :data:`MAX_BODY_CHARS`
    (field ``body``) or an invalid JSON document (paths into the document).
    """
    render = _RENDERERS.get(format)
    if render is None:
        raise Validation(f"unknown body format {format!r}; expected one of {', '.join(BODY_FORMATS)}", field="format")
    if len(source) > MAX_BODY_CHARS:
        raise Validation(f"body is longer than {MAX_BODY_CHARS} characters", field="body", maxChars=MAX_BODY_CHARS)
    return sanitize_html(render(source))
