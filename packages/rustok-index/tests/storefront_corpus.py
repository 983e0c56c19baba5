"""A storefront to read: products and content of varied shape, written through the index writer.

Shared by the response cache and fast path tests. Values are chosen to exercise what a
response must reproduce exactly: missing optional texts, several currencies, categories
and tags, unicode and escaping in texts and ``extra`` JSON, timestamps with and without
microseconds, German rows and rows only in the default locale.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rustok_core.context import TenantContext
from rustok_core.index import CategoryRef, ContentDocument, PriceRange, ProductDocument
from rustok_core.interfaces import TenantDirectory
from rustok_server.boot import Platform

from .conftest import product, write

START = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
CATEGORIES = [
    CategoryRef(uuid.UUID(int=0xC0FFEE01), "apparel", "Apparel"),
    CategoryRef(uuid.UUID(int=0xC0FFEE02), "shoes", "Shoes & boots"),
    CategoryRef(uuid.UUID(int=0xC0FFEE03), "outdoor", "Outdoor <gear>"),
]
WORDS = ["leather", "jacket", "wool", "socks", "running", "shoes", "linen", "shirt", "silk", "scarf", "canvas", "bag"]
TAGS = ["sale", "new", "eco", "sport", "winter", "unisex"]


@dataclass
class Storefront:
    tenant: TenantContext
    handles: list[str] = field(default_factory=list)
    slugs: dict[str, list[str]] = field(default_factory=dict)
    """Content slugs per kind."""


async def storefront_tenant(platform: Platform, *, slug: str | None = None) -> TenantContext:
    return await platform.ctx.services.get(TenantDirectory).create(
        slug=slug or f"shop-{uuid.uuid4().hex[:8]}", name="Shop", default_locale="en", locales=["en", "de"]
    )


async def seed_storefront(platform: Platform, *, products: int = 30, items: int = 12, seed: int = 7) -> Storefront:
    """A tenant with ``products`` products (some also in German) and ``items`` content items."""
    rng = random.Random(seed)
    shop = Storefront(await storefront_tenant(platform))
    documents: list[ProductDocument] = []
    for n in range(products):
        product_id = uuid.UUID(int=rng.getrandbits(128))
        words = rng.sample(WORDS, 2)
        title = f"{words[0].title()} {words[1]} {n}"
        handle = f"{words[0]}-{words[1]}-{n}"
        shop.handles.append(handle)
        currencies = rng.sample(["EUR", "USD", "GBP"], rng.randint(0, 3))
        prices = {c: PriceRange(low := rng.randint(100, 90_000), low + rng.choice([0, 500, 2_500])) for c in currencies}
        common = {
            "prices": prices,
            "total_stock": rng.randint(0, 40),
            "has_stock": rng.random() < 0.7,
            "categories": rng.sample(CATEGORIES, rng.randint(0, 2)),
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "published_at": START + timedelta(hours=n, microseconds=rng.choice([0, 123_456])),
            "thumbnail": f"https://cdn.example.com/{handle}.jpg" if n % 3 else None,
            "seo_title": f"Buy {title}" if n % 4 == 0 else None,
            "extra": {"material": words[0], "sizes": ["S", "M"], "note": 'ünïcode "quoted" <b>'} if n % 5 == 0 else {},
        }
        documents.append(
            product(
                product_id,
                title=title,
                handle=handle,
                subtitle=f"The {words[1]} for every day" if n % 2 else None,
                description=f"A {words[0]} {words[1]} made to last. " * (1 + n % 3),
                **common,
            )
        )
        if n % 3 == 0:
            documents.append(
                product(
                    product_id,
                    locale="de",
                    title=f"{words[0].title()} auf Deutsch {n}",
                    handle=f"{handle}-de",
                    description="Ein Artikel aus gutem Material.",
                    **common,
                )
            )
    await write(platform, shop.tenant, documents)

    contents: list[ContentDocument] = []
    for n in range(items):
        kind = "article" if n % 3 else "page"
        node_id = uuid.UUID(int=rng.getrandbits(128))
        slug = f"{kind}-{n}"
        shop.slugs.setdefault(kind, []).append(slug)
        category = CATEGORIES[n % 3] if n % 2 else None
        contents.append(
            ContentDocument(
                node_id=node_id,
                locale="en",
                kind=kind,
                title=f"{rng.choice(WORDS).title()} stories {n}",
                slug=slug,
                status="published",
                excerpt=f"About {rng.choice(WORDS)}" if n % 2 else None,
                body_text=f"Plain text about {' and '.join(rng.sample(WORDS, 3))}. " * 4,
                body_html=f"<p>About <em>{rng.choice(WORDS)}</em> &amp; more</p>",
                author_id=uuid.UUID(int=0xA0) if n % 4 else None,
                author_name="Ada" if n % 4 else None,
                category_id=category.id if category else None,
                category_name=category.name if category else None,
                category_slug=category.handle if category else None,
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                reply_count=n,
                seo_description="Read me" if n % 5 == 0 else None,
                published_at=START + timedelta(days=n),
                extra={"path": f"/{slug}"} if kind == "page" else {},
            )
        )
    await write(platform, shop.tenant, contents)
    return shop
