"""The two shapes of topic text a client may send, shared by GraphQL and REST.

The short form (``title``, ``body`` in Markdown, ``locale``) edits one locale; the long
form (``translations``) several. Errors about the one translation the short form
makes are reported at the fields the client sent (``title``, not
``translations.0.title``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from rustok_content.graphql import translation_inputs
from rustok_content.services import BodyInput, TranslationInput
from rustok_core.context import TenantContext
from rustok_core.errors import FieldError, RustokError, Validation

T = TypeVar("T")

SHORT_FORM = ("title", "body", "slug")


def is_short_form(data: Mapping[str, Any]) -> bool:
    """Whether the input uses title/body/locale rather than translations."""
    if data.get("translations") and any(data.get(name) is not None for name in SHORT_FORM):
        message = "give either title and body or translations, not both"
        raise Validation(message, errors=[FieldError(("translations",), message)])
    return not data.get("translations")


def topic_translations(tenant: TenantContext, data: Mapping[str, Any], *, creating: bool) -> list[TranslationInput]:
    if not is_short_form(data):
        return list(translation_inputs(data["translations"]))
    title, text = data.get("title"), data.get("body")
    if creating:
        missing = [
            FieldError((name,), f"a topic needs a {name}") for name in ("title", "body") if data.get(name) is None
        ]
        if missing:
            raise Validation("a topic needs a title and a body", errors=missing)
    elif title is None and text is None:
        return []
    return [
        TranslationInput(
            locale=data.get("locale") or tenant.default_locale,
            title=title,
            slug=data.get("slug"),
            body=BodyInput("markdown", text) if text is not None else None,
        )
    ]


async def in_short_form(short: bool, call: Awaitable[T]) -> T:
    """Report errors of the one translation the short form makes at the fields the client sent."""
    try:
        return await call
    except RustokError as exc:
        if not short or not exc.field_errors:
            raise
        errors = [
            FieldError(e.path[2:], e.message) if e.path[:2] == ("translations", 0) else e for e in exc.field_errors
        ]
        raise RustokError(exc.message, exc.code, exc.details, errors) from None
