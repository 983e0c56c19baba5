"""The REST surface for integrations: nodes with Idempotency-Key, media uploads with limits."""

from __future__ import annotations

import io
import secrets
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from rustok_core.storage import media_key
from rustok_server.boot import Platform
from rustok_testing.client import RustokClient

NODES = "/api/v1/content/nodes"
MEDIA = "/api/v1/content/media"


def png(width: int = 4, height: int = 3) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def site(make_tenant: Any, make_user: Any) -> Any:
    tenant = await make_tenant(locales=["en", "de"])
    return tenant, await make_user(tenant, role="editor")


async def count(platform: Platform, sql: str, **params: Any) -> int:
    async with platform.ctx.db.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_nodes_can_be_created_read_patched_and_deleted(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    payload = {
        "kind": "article",
        "status": "published",
        "tags": ["rest"],
        "translations": [
            {"locale": "en", "title": "From an integration", "body": {"format": "html", "source": "<p>hi</p>"}},
            {"locale": "de", "title": "Aus einer Integration"},
        ],
    }
    created = await rustok_client.post(NODES, json=payload, headers=editor.headers)
    assert created.status_code == 201, created.text
    node = created.json()
    assert node["status"] == "published" and node["tags"] == ["rest"]
    assert {t["locale"]: t["slug"] for t in node["translations"]} == {
        "en": "from-an-integration",
        "de": "aus-einer-integration",
    }

    fetched = await rustok_client.get(f"{NODES}/{node['id']}", headers=editor.headers)
    assert fetched.json() == node

    patched = await rustok_client.patch(
        f"{NODES}/{node['id']}",
        json={"version": node["version"], "translations": [{"locale": "en", "excerpt": "Short"}], "status": "draft"},
        headers=editor.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "draft" and patched.json()["version"] == node["version"] + 2
    stale = await rustok_client.patch(
        f"{NODES}/{node['id']}", json={"version": node["version"], "position": 3}, headers=editor.headers
    )
    assert stale.status_code == 409 and stale.json()["code"] == "CONFLICT"

    listed = await rustok_client.get(NODES, params={"kind": "article", "first": 10}, headers=editor.headers)
    assert [item["id"] for item in listed.json()["items"]] == [node["id"]]

    deleted = await rustok_client.delete(f"{NODES}/{node['id']}", headers=editor.headers)
    assert deleted.status_code == 204
    assert (await rustok_client.get(f"{NODES}/{node['id']}", headers=editor.headers)).status_code == 404
    assert await count(rustok_platform, "SELECT count(*) FROM nodes WHERE tenant_id = :t", t=tenant.id) == 0


async def test_a_retried_create_with_the_same_idempotency_key_makes_one_node(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    headers = {**editor.headers, "Idempotency-Key": secrets.token_hex(8)}
    payload = {"kind": "article", "translations": [{"locale": "en", "title": "Once only"}]}
    first = await rustok_client.post(NODES, json=payload, headers=headers)
    second = await rustok_client.post(NODES, json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second.headers.get("Idempotent-Replayed") == "true"
    assert await count(rustok_platform, "SELECT count(*) FROM nodes WHERE tenant_id = :t", t=tenant.id) == 1
    created = "SELECT count(*) FROM sys_events WHERE tenant_id = :t AND event_type = 'content.node.created'"
    assert await count(rustok_platform, created, t=tenant.id) == 1


async def test_an_image_upload_is_checked_stored_served_and_deleted(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any
) -> None:
    tenant, editor = site
    data = png(6, 5)
    uploaded = await rustok_client.post(
        MEDIA,
        files={"file": ("../../etc/photo.png", data, "application/octet-stream")},
        data={"locale": "de", "altText": "Ein rotes Bild"},
        headers=editor.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    media = uploaded.json()
    assert (media["contentType"], media["width"], media["height"], media["sizeBytes"]) == ("image/png", 6, 5, len(data))
    assert media["filename"] == "photo.png"
    assert media["translations"] == [{"locale": "de", "altText": "Ein rotes Bild", "caption": None}]

    served = await rustok_client.get(media["url"], headers={"X-Tenant-ID": tenant.slug})
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png" and served.headers["x-content-type-options"] == "nosniff"
    cached = await rustok_client.get(
        media["url"], headers={"X-Tenant-ID": tenant.slug, "If-None-Match": served.headers["etag"]}
    )
    assert cached.status_code == 304

    described = await rustok_client.graphql_data(
        'query($id: UUID!) { media(id: $id, locale: "de") { altText url width } }', {"id": media["id"]}, tenant=tenant
    )
    assert described["media"] == {"altText": "Ein rotes Bild", "url": media["url"], "width": 6}

    assert (await rustok_client.delete(f"{MEDIA}/{media['id']}", headers=editor.headers)).status_code == 204
    assert (await rustok_client.get(media["url"], headers={"X-Tenant-ID": tenant.slug})).status_code == 404
    storage = rustok_platform.ctx.storage
    assert storage is not None
    assert not await storage.exists(media_key(tenant.id, media["id"], "photo.png"))
    events = (
        "SELECT array_agg(event_type ORDER BY id) FROM sys_events "
        "WHERE tenant_id = :t AND event_type LIKE 'content.media.%'"
    )
    async with rustok_platform.ctx.db.engine.connect() as conn:
        logged = (await conn.execute(text(events), {"t": tenant.id})).scalar_one()
    assert logged == ["content.media.uploaded", "content.media.deleted"]


@pytest.mark.parametrize(
    ("filename", "content", "declared"),
    [
        ("notes.png", b"this is text, not an image", "image/png"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream"),
        ("cut.png", png()[:40], "image/png"),
    ],
)
async def test_uploads_that_are_not_what_they_claim_or_not_allowed_are_refused(
    rustok_client: RustokClient, rustok_platform: Platform, site: Any, filename: str, content: bytes, declared: str
) -> None:
    tenant, editor = site
    refused = await rustok_client.post(MEDIA, files={"file": (filename, content, declared)}, headers=editor.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "VALIDATION"
    assert await count(rustok_platform, "SELECT count(*) FROM media WHERE tenant_id = :t", t=tenant.id) == 0


async def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(
    boot_platform: Any, make_tenant: Any, make_user: Any
) -> None:
    from rustok_server.app import create_app

    platform = boot_platform(**{"server.max_upload_bytes": 2048})
    tenant = await make_tenant(platform=platform)
    editor = await make_user(tenant, role="editor", platform=platform)
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        big = png(200, 200) + b"\x00" * 4096
        refused = await client.post(MEDIA, files={"file": ("big.png", big, "image/png")}, headers=editor.headers)
        assert refused.status_code == 413
        assert await count(platform, "SELECT count(*) FROM media WHERE tenant_id = :t", t=tenant.id) == 0


async def test_media_need_their_permissions(rustok_client: RustokClient, make_user: Any, site: Any) -> None:
    tenant, _ = site
    customer = await make_user(tenant, role="customer")
    refused = await rustok_client.post(MEDIA, files={"file": ("a.png", png(), "image/png")}, headers=customer.headers)
    assert refused.status_code == 403
    anonymous = await rustok_client.get(MEDIA, headers={"X-Tenant-ID": tenant.slug})
    assert anonymous.status_code == 401
