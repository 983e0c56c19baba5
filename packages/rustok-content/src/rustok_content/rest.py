"""REST surface of the content module for integrations, under ``/api/v1/content/``.

Nodes: list, create (safe to retry with ``Idempotency-Key``), get, patch, delete.
Media: upload (multipart), list, get, the file itself (public), delete.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from rustok_content.access import authorize_on, node_to_write
from rustok_content.kinds import refuse_claimed
from rustok_content.models import Body, Media, Node, NodeTranslation, Tag
from rustok_content.permissions import (
    MEDIA_DELETE,
    MEDIA_READ,
    MEDIA_UPLOAD,
    NODES_CREATE,
    NODES_DELETE,
    NODES_PUBLISH,
    NODES_READ,
    NODES_UPDATE,
)
from rustok_content.services import (
    KEEP,
    BodyInput,
    MediaService,
    MediaText,
    NewNode,
    NodeChanges,
    NodeQuery,
    NodeService,
    TagService,
    TranslationInput,
)
from rustok_content.services.nodes import NODE_TARGET
from rustok_core.context import RequestContext, request_context
from rustok_core.rest import RestRoute, UploadedFile

Status = Literal["draft", "published", "archived"]
Format = Literal["markdown", "html", "json"]


class Camel(BaseModel):
    """JSON in camelCase; Python by field name; unknown fields refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class BodyIn(Camel):
    format: Format
    source: str


class TranslationIn(Camel):
    locale: str
    title: str | None = None
    slug: str | None = None
    excerpt: str | None = None
    body: BodyIn | None = None

    def value(self) -> TranslationInput:
        body = BodyInput(self.body.format, self.body.source) if self.body else None
        return TranslationInput(self.locale, self.title, self.slug, self.excerpt, body)


class CreateNodeRequest(Camel):
    kind: str
    translations: list[TranslationIn] = Field(min_length=1)
    status: Status = "draft"
    parent_id: uuid.UUID | None = Field(None, alias="parentId")
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    tags: list[str] = Field(default_factory=list)
    position: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)


class UpdateNodeRequest(Camel):
    """Only the fields sent change; ``parentId``/``categoryId`` sent as null detach."""

    version: int = Field(description="The version you read; a stale one answers 409.")
    translations: list[TranslationIn] = Field(default_factory=list)
    remove_locales: list[str] = Field(default_factory=list, alias="removeLocales")
    parent_id: uuid.UUID | None = Field(None, alias="parentId")
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    tags: list[str] | None = None
    position: int | None = None
    metadata: dict[str, Any] | None = None
    status: Status | None = Field(None, description="Publish, unpublish or archive in the same call.")


class NodeListQuery(Camel):
    kind: str | None = None
    status: Status | None = None
    parent_id: uuid.UUID | None = Field(None, alias="parentId")
    category_id: uuid.UUID | None = Field(None, alias="categoryId")
    tag: str | None = None
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


class DeleteQuery(Camel):
    version: int | None = None


class BodyOut(Camel):
    format: Format
    source: str
    html: str


class TranslationOut(Camel):
    locale: str
    title: str
    slug: str
    excerpt: str | None
    body: BodyOut | None


class NodeResponse(Camel):
    id: uuid.UUID
    kind: str
    status: Status
    version: int
    parent_id: uuid.UUID | None = Field(alias="parentId")
    root_id: uuid.UUID | None = Field(alias="rootId")
    category_id: uuid.UUID | None = Field(alias="categoryId")
    author_id: uuid.UUID | None = Field(alias="authorId")
    position: int
    reply_count: int = Field(alias="replyCount")
    metadata: dict[str, Any]
    tags: list[str]
    translations: list[TranslationOut]
    published_at: datetime | None = Field(alias="publishedAt")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class NodePage(Camel):
    items: list[NodeResponse]
    next_cursor: str | None = Field(alias="nextCursor")


class MediaTextIn(Camel):
    locale: str
    alt_text: str | None = Field(None, alias="altText")
    caption: str | None = None


class MediaUploadForm(Camel):
    locale: str | None = Field(None, description="Locale of altText and caption.")
    alt_text: str | None = Field(None, alias="altText")
    caption: str | None = None


class MediaResponse(Camel):
    id: uuid.UUID
    filename: str
    content_type: str = Field(alias="contentType")
    size_bytes: int = Field(alias="sizeBytes")
    width: int | None
    height: int | None
    checksum_sha256: str = Field(alias="checksumSha256")
    url: str
    translations: list[MediaTextIn]
    version: int
    created_at: datetime = Field(alias="createdAt")


class MediaPage(Camel):
    items: list[MediaResponse]
    next_cursor: str | None = Field(alias="nextCursor")


class MediaListQuery(Camel):
    content_type: str | None = Field(None, alias="contentType")
    first: int = Field(20, ge=1, le=100)
    after: str | None = None


# -- mapping -------------------------------------------------------------------------------


async def node_responses(ctx: RequestContext, nodes: Sequence[Node]) -> list[NodeResponse]:
    """Responses for ``nodes`` with three queries, however many there are."""
    tenant_id = ctx.require_tenant().id
    service = NodeService(ctx.app)
    ids = [node.id for node in nodes]
    translations = await service.translations_of(tenant_id, ids)
    bodies = await service.bodies_of(tenant_id, [t.id for ts in translations.values() for t in ts])
    tags = await TagService(ctx.app).tags_of(tenant_id, NODE_TARGET, ids)
    return [_node_response(node, translations[node.id], bodies, tags[node.id]) for node in nodes]


def _node_response(
    node: Node, translations: Sequence[NodeTranslation], bodies: dict[uuid.UUID, Body], tags: Sequence[Tag]
) -> NodeResponse:
    return NodeResponse(
        id=node.id,
        kind=node.kind,
        status=node.status,
        version=node.version,
        parent_id=node.parent_id,
        root_id=node.root_id,
        category_id=node.category_id,
        author_id=node.author_id,
        position=node.position,
        reply_count=node.reply_count,
        metadata=node.node_metadata,
        tags=[tag.slug for tag in tags],
        translations=[
            TranslationOut(
                locale=t.locale,
                title=t.title,
                slug=t.slug,
                excerpt=t.excerpt,
                body=BodyOut(format=b.format, source=b.source, html=b.html) if (b := bodies.get(t.id)) else None,
            )
            for t in translations
        ],
        published_at=node.published_at,
        created_at=node.created_at,
        updated_at=node.updated_at,
    )


async def media_response(ctx: RequestContext, media: Media) -> MediaResponse:
    texts = (await MediaService(ctx.app).translations_of(ctx.require_tenant().id, [media.id]))[media.id]
    return _media_response(media, texts)


def _media_response(media: Media, texts: Sequence[Any]) -> MediaResponse:
    return MediaResponse(
        id=media.id,
        filename=media.filename,
        content_type=media.content_type,
        size_bytes=media.size_bytes,
        width=media.width,
        height=media.height,
        checksum_sha256=media.checksum_sha256,
        url=f"/api/v1/content/media/{media.id}/file",
        translations=[MediaTextIn(locale=t.locale, alt_text=t.alt_text, caption=t.caption) for t in texts],
        version=media.version,
        created_at=media.created_at,
    )


# -- nodes ---------------------------------------------------------------------------------


async def list_nodes(request: Request, query: NodeListQuery) -> NodePage:
    """Nodes of the tenant in any status, newest first."""
    ctx = request_context(request)
    page = await NodeService(ctx.app).page(
        ctx.require_tenant().id,
        NodeQuery(
            kind=query.kind,
            statuses=[query.status] if query.status else None,
            parent_id=query.parent_id if query.parent_id is not None else KEEP,
            category_id=query.category_id,
            tag=query.tag,
            first=query.first,
            after=query.after,
        ),
    )
    items = await node_responses(ctx, [edge["node"] for edge in page["edges"]])
    return NodePage(
        items=items, next_cursor=page["page_info"]["end_cursor"] if page["page_info"]["has_next_page"] else None
    )


async def create_node(request: Request, body: CreateNodeRequest) -> NodeResponse:
    """Create a node; send ``Idempotency-Key`` to make retries safe."""
    ctx = request_context(request)
    refuse_claimed(body.kind)
    if body.status == "published":
        await ctx.authorize(NODES_PUBLISH)
    node = await NodeService(ctx.app).create(
        ctx.require_tenant(),
        NewNode(
            kind=body.kind,
            translations=[t.value() for t in body.translations],
            status=body.status,
            parent_id=body.parent_id,
            category_id=body.category_id,
            tags=body.tags,
            position=body.position,
            metadata=body.metadata,
            author_id=ctx.actor_id,
        ),
        actor_id=ctx.actor_id,
    )
    return (await node_responses(ctx, [node]))[0]


async def get_node(request: Request, node_id: uuid.UUID) -> NodeResponse:
    """One node with every translation."""
    ctx = request_context(request)
    node = await NodeService(ctx.app).get(ctx.require_tenant().id, node_id)
    return (await node_responses(ctx, [node]))[0]


async def update_node(request: Request, node_id: uuid.UUID, body: UpdateNodeRequest) -> NodeResponse:
    """Change what is sent; ``version`` must be the one you read."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    service = NodeService(ctx.app)
    node = await node_to_write(ctx, node_id, NODES_UPDATE)
    sent = body.model_fields_set
    changes = NodeChanges(
        translations=[t.value() for t in body.translations],
        remove_locales=body.remove_locales,
        parent_id=body.parent_id if "parent_id" in sent else KEEP,
        category_id=body.category_id if "category_id" in sent else KEEP,
        tags=body.tags,
        position=body.position,
        metadata=body.metadata,
    )
    if body.status is not None and body.status != node.status:
        await authorize_on(ctx, NODES_PUBLISH, node)
    async with ctx.app.db.session(tenant.id) as session, session.begin():
        node = await service.update(
            tenant, node_id, changes, expected_version=body.version, actor_id=ctx.actor_id, session=session
        )
        if body.status is not None:
            node = await service.set_status(tenant, node_id, body.status, actor_id=ctx.actor_id, session=session)
    return (await node_responses(ctx, [node]))[0]


async def delete_node(request: Request, node_id: uuid.UUID, query: DeleteQuery) -> None:
    """Delete a node and everything below it."""
    ctx = request_context(request)
    service = NodeService(ctx.app)
    await node_to_write(ctx, node_id, NODES_DELETE)
    await service.delete(ctx.require_tenant(), node_id, expected_version=query.version, actor_id=ctx.actor_id)


# -- media ---------------------------------------------------------------------------------


async def upload_media(request: Request, form: MediaUploadForm, uploads: dict[str, UploadedFile]) -> MediaResponse:
    """Upload a file (``multipart/form-data``: ``file`` plus optional ``locale``, ``altText``, ``caption``)."""
    ctx = request_context(request)
    tenant = ctx.require_tenant()
    upload = uploads["file"]
    texts = []
    if form.alt_text is not None or form.caption is not None:
        texts.append(MediaText(form.locale or tenant.default_locale, form.alt_text, form.caption))
    media = await MediaService(ctx.app).upload(
        tenant,
        filename=upload.filename or "file",
        data=await upload.read(),
        declared_type=upload.content_type,
        texts=texts,
        actor_id=ctx.actor_id,
    )
    return await media_response(ctx, media)


async def list_media(request: Request, query: MediaListQuery) -> MediaPage:
    """Uploaded media, newest first."""
    ctx = request_context(request)
    tenant_id = ctx.require_tenant().id
    service = MediaService(ctx.app)
    page = await service.page(tenant_id, first=query.first, after=query.after, content_type=query.content_type)
    rows = [edge["node"] for edge in page["edges"]]
    texts = await service.translations_of(tenant_id, [m.id for m in rows])
    return MediaPage(
        items=[_media_response(m, texts[m.id]) for m in rows],
        next_cursor=page["page_info"]["end_cursor"] if page["page_info"]["has_next_page"] else None,
    )


async def get_media(request: Request, media_id: uuid.UUID) -> MediaResponse:
    """One media record."""
    ctx = request_context(request)
    return await media_response(ctx, await MediaService(ctx.app).get(ctx.require_tenant().id, media_id))


async def media_file(request: Request, media_id: uuid.UUID) -> Response:
    """The file itself (public: media are what pages show)."""
    ctx = request_context(request)
    media, data = await MediaService(ctx.app).read(ctx.require_tenant().id, media_id)
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": f'"{media.checksum_sha256}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"inline; filename*=UTF-8''{_quote(media.filename)}",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media.content_type, headers=headers)


def _quote(name: str) -> str:
    return quote(name, safe="")


async def delete_media(request: Request, media_id: uuid.UUID) -> None:
    """Delete a media record and its file."""
    ctx = request_context(request)
    await MediaService(ctx.app).delete(ctx.require_tenant(), media_id, actor_id=ctx.actor_id)


def routes() -> list[RestRoute]:
    tags = ["content"]
    return [
        RestRoute(
            "/nodes",
            list_nodes,
            summary="List nodes",
            query=NodeListQuery,
            response=NodePage,
            permission=NODES_READ,
            tags=tags,
        ),
        RestRoute(
            "/nodes",
            create_node,
            methods=["POST"],
            summary="Create a node",
            body=CreateNodeRequest,
            response=NodeResponse,
            status_code=201,
            permission=NODES_CREATE,
            idempotent=True,
            tags=tags,
            name="create_node",
        ),
        RestRoute(
            "/nodes/{node_id:uuid}",
            get_node,
            summary="Get a node",
            response=NodeResponse,
            permission=NODES_READ,
            tags=tags,
        ),
        RestRoute(
            "/nodes/{node_id:uuid}",
            update_node,
            methods=["PATCH"],
            summary="Change a node",
            body=UpdateNodeRequest,
            response=NodeResponse,
            permission=NODES_UPDATE,
            tags=tags,
            name="update_node",
        ),
        RestRoute(
            "/nodes/{node_id:uuid}",
            delete_node,
            methods=["DELETE"],
            summary="Delete a node",
            query=DeleteQuery,
            status_code=204,
            permission=NODES_DELETE,
            tags=tags,
            name="delete_node",
        ),
        RestRoute(
            "/media",
            list_media,
            summary="List media",
            query=MediaListQuery,
            response=MediaPage,
            permission=MEDIA_READ,
            tags=tags,
        ),
        RestRoute(
            "/media",
            upload_media,
            methods=["POST"],
            summary="Upload a file",
            form=MediaUploadForm,
            files=("file",),
            response=MediaResponse,
            status_code=201,
            permission=MEDIA_UPLOAD,
            idempotent=True,
            tags=tags,
            name="upload_media",
        ),
        RestRoute(
            "/media/{media_id:uuid}",
            get_media,
            summary="Get a media record",
            response=MediaResponse,
            permission=MEDIA_READ,
            tags=tags,
        ),
        RestRoute(
            "/media/{media_id:uuid}/file",
            media_file,
            summary="Download a media file",
            public=True,
            tags=tags,
        ),
        RestRoute(
            "/media/{media_id:uuid}",
            delete_media,
            methods=["DELETE"],
            summary="Delete a media record and its file",
            status_code=204,
            permission=MEDIA_DELETE,
            tags=tags,
            name="delete_media",
        ),
    ]
