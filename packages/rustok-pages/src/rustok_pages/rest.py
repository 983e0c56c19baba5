"""REST surface of the pages module for integrations, under ``/api/v1/pages/``.

Pages: list (children of a parent, by position), create (safe to retry with
``Idempotency-Key``), get, patch (rename, move, replace blocks, change status in one
transaction), delete. Responses carry every translation with its path and blocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from rustok_content.access import authorize_on
from rustok_content.models import Node
from rustok_content.services import KEEP, BodyInput, NodeService
from rustok_core.context import RequestContext, request_context
from rustok_core.rest import RestRoute
from rustok_pages.models import BLOCK_TYPES
from rustok_pages.permissions import PAGES_CREATE, PAGES_DELETE, PAGES_PUBLISH, PAGES_READ, PAGES_UPDATE
from rustok_pages.services import BlockDraft, NewPage, PageBlocks, PageChanges, PageService, PageText, served_data
from rustok_pages.services import visible_metadata as page_metadata
from rustok_pages.services.paths import segment_of

Status = Literal["draft", "published", "archived"]
Format = Literal["markdown", "html", "json"]
BlockKind = Literal["hero", "text", "image", "gallery", "cta", "product_list"]
assert set(BlockKind.__args__) == set(BLOCK_TYPES)  # type: ignore[attr-defined]


class Camel(BaseModel):
    """JSON in camelCase; Python by field name; unknown fields refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class BodyIn(Camel):
    format: Format
    source: str


class BlockIn(Camel):
    type: BlockKind
    data: dict[str, Any] = Field(description="The fields of the block's type (snake_case keys).")


class TranslationIn(Camel):
    locale: str
    title: str | None = None
    segment: str | None = Field(None, description="The last part of the path; made from the title when omitted.")
    excerpt: str | None = None
    body: BodyIn | None = None
    blocks: list[BlockIn] | None = Field(None, description="The locale's complete list of blocks; [] clears them.")

    def value(self) -> PageText:
        return PageText(
            locale=self.locale,
            title=self.title,
            segment=self.segment,
            excerpt=self.excerpt,
            body=BodyInput(self.body.format, self.body.source) if self.body else None,
            blocks=[BlockDraft(b.type, b.data) for b in self.blocks] if self.blocks is not None else None,
        )


class CreatePageRequest(Camel):
    translations: list[TranslationIn] = Field(min_length=1)
    parent_id: uuid.UUID | None = Field(None, alias="parentId")
    position: int = 0
    status: Status = "draft"
    metadata: dict[str, Any] = Field(default_factory=dict)


class UpdatePageRequest(Camel):
    """Only the fields sent change; ``parentId`` sent as null moves the page to the top level."""

    version: int = Field(description="The version you read; a stale one answers 409.")
    translations: list[TranslationIn] = Field(default_factory=list)
    remove_locales: list[str] = Field(default_factory=list, alias="removeLocales")
    parent_id: uuid.UUID | None = Field(None, alias="parentId")
    position: int | None = None
    metadata: dict[str, Any] | None = None
    status: Status | None = Field(None, description="Publish, unpublish or archive in the same transaction.")


class PageListQuery(Camel):
    parent_id: uuid.UUID | None = Field(None, alias="parentId", description="Omit for top-level pages.")
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class DeleteQuery(Camel):
    version: int = Field(description="The version you read; a stale one answers 409.")


class BodyOut(Camel):
    format: Format
    source: str
    html: str


class BlockOut(Camel):
    id: uuid.UUID
    type: BlockKind
    position: int
    data: dict[str, Any]


class TranslationOut(Camel):
    locale: str
    title: str
    path: str
    segment: str
    excerpt: str | None
    body: BodyOut | None
    blocks: list[BlockOut]


class PageResponse(Camel):
    id: uuid.UUID
    status: Status
    version: int
    parent_id: uuid.UUID | None = Field(alias="parentId")
    root_id: uuid.UUID | None = Field(alias="rootId")
    depth: int
    position: int
    author_id: uuid.UUID | None = Field(alias="authorId")
    metadata: dict[str, Any]
    translations: list[TranslationOut]
    published_at: datetime | None = Field(alias="publishedAt")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class PagePage(Camel):
    items: list[PageResponse]
    next_cursor: str | None = Field(alias="nextCursor")


# -- mapping -------------------------------------------------------------------------------


async def page_responses(ctx: RequestContext, pages: Sequence[Node]) -> list[PageResponse]:
    """Responses for ``pages`` with three queries, however many there are."""
    tenant_id = ctx.require_tenant().id
    nodes = NodeService(ctx.app)
    translations = await nodes.translations_of(tenant_id, [page.id for page in pages])
    bodies = await nodes.bodies_of(tenant_id, [t.id for ts in translations.values() for t in ts])
    keys = [(page.id, t.locale) for page in pages for t in translations[page.id]]
    blocks = await PageBlocks(ctx.app).of(tenant_id, keys)
    responses = []
    for page in pages:
        texts = []
        for t in translations[page.id]:
            body = bodies.get(t.id)
            texts.append(
                TranslationOut(
                    locale=t.locale,
                    title=t.title,
                    path=t.slug,
                    segment=segment_of(t.slug),
                    excerpt=t.excerpt,
                    body=BodyOut(format=body.format, source=body.source, html=body.html) if body else None,
                    blocks=[
                        BlockOut(
                            id=b.id,
                            type=b.type,
                            position=b.position,
                            data=served_data(b.type, b.data, b.html, editor=True),
                        )
                        for b in blocks[(page.id, t.locale)]
                    ],
                )
            )
        responses.append(
            PageResponse(
                id=page.id,
                status=page.status,
                version=page.version,
                parent_id=page.parent_id,
                root_id=page.root_id,
                depth=page.depth,
                position=page.position,
                author_id=page.author_id,
                metadata=page_metadata(page),
                translations=texts,
                published_at=page.published_at,
                created_at=page.created_at,
                updated_at=page.updated_at,
            )
        )
    return responses


# -- routes --------------------------------------------------------------------------------


async def list_pages(request: Request, query: PageListQuery) -> PagePage:
    """Pages directly below ``parentId`` (top-level pages without it) in any status, by position."""
    ctx = request_context(request)
    page = await PageService(ctx.app).listing(
        ctx.require_tenant().id, parent_id=query.parent_id, statuses=None, first=query.first, after=query.after
    )
    items = await page_responses(ctx, [edge["node"] for edge in page["edges"]])
    info = page["page_info"]
    return PagePage(items=items, next_cursor=info["end_cursor"] if info["has_next_page"] else None)


async def create_page(request: Request, body: CreatePageRequest) -> PageResponse:
    """Create a page with its blocks; send ``Idempotency-Key`` to make retries safe."""
    ctx = request_context(request)
    if body.status == "published":
        await ctx.authorize(PAGES_PUBLISH)
    created = await PageService(ctx.app).create(
        ctx.require_tenant(),
        NewPage(
            translations=[t.value() for t in body.translations],
            parent_id=body.parent_id,
            position=body.position,
            status=body.status,
            metadata=body.metadata,
            author_id=ctx.actor_id,
        ),
        actor_id=ctx.actor_id,
    )
    return (await page_responses(ctx, [created]))[0]


async def get_page(request: Request, page_id: uuid.UUID) -> PageResponse:
    """One page with every translation, its path and its blocks."""
    ctx = request_context(request)
    found = await PageService(ctx.app).get(ctx.require_tenant().id, page_id)
    return (await page_responses(ctx, [found]))[0]


async def update_page(request: Request, page_id: uuid.UUID, body: UpdatePageRequest) -> PageResponse:
    """Change what is sent; ``version`` must be the one you read."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    service = PageService(ctx.app)
    current = await service.get(tenant.id, page_id)
    await authorize_on(ctx, PAGES_UPDATE, current)
    if body.status is not None and body.status != current.status:
        await authorize_on(ctx, PAGES_PUBLISH, current)
    changes = PageChanges(
        translations=[t.value() for t in body.translations],
        remove_locales=body.remove_locales,
        parent_id=body.parent_id if "parent_id" in body.model_fields_set else KEEP,
        position=body.position,
        metadata=body.metadata,
    )
    updated = await service.update(
        tenant, page_id, changes, expected_version=body.version, actor_id=ctx.actor_id, status=body.status
    )
    return (await page_responses(ctx, [updated]))[0]


async def delete_page(request: Request, page_id: uuid.UUID, query: DeleteQuery) -> None:
    """Delete a page, every page below it and their blocks."""
    ctx = request_context(request)
    service = PageService(ctx.app)
    current = await service.get(ctx.require_tenant().id, page_id)
    await authorize_on(ctx, PAGES_DELETE, current)
    await service.delete(ctx.require_tenant(), page_id, expected_version=query.version, actor_id=ctx.actor_id)


def routes() -> list[RestRoute]:
    tags = ["pages"]
    return [
        RestRoute(
            "/pages",
            list_pages,
            summary="List pages",
            query=PageListQuery,
            response=PagePage,
            permission=PAGES_READ,
            tags=tags,
        ),
        RestRoute(
            "/pages",
            create_page,
            methods=["POST"],
            summary="Create a page",
            body=CreatePageRequest,
            response=PageResponse,
            status_code=201,
            permission=PAGES_CREATE,
            idempotent=True,
            tags=tags,
            name="create_page",
        ),
        RestRoute(
            "/pages/{page_id:uuid}",
            get_page,
            summary="Get a page",
            response=PageResponse,
            permission=PAGES_READ,
            tags=tags,
        ),
        RestRoute(
            "/pages/{page_id:uuid}",
            update_page,
            methods=["PATCH"],
            summary="Change, rename or move a page",
            body=UpdatePageRequest,
            response=PageResponse,
            permission=PAGES_UPDATE,
            tags=tags,
            name="update_page",
        ),
        RestRoute(
            "/pages/{page_id:uuid}",
            delete_page,
            methods=["DELETE"],
            summary="Delete a page",
            query=DeleteQuery,
            status_code=204,
            permission=PAGES_DELETE,
            tags=tags,
            name="delete_page",
        ),
    ]
