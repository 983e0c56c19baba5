"""The writer makes an entity's rows exactly the documents given: upsert, delete what is
no longer there, compute the search vector in SQL with the locale's configuration."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from rustok_core.index import CONTENT, PRODUCT, CategoryRef, ContentDocument, PriceRange
from rustok_index.runtime import runtime_of
from rustok_index.search_config import config_name
from rustok_index.services.writer import WriteResult, lock_entities
from rustok_server.boot import Platform

from .conftest import product, rows, write

pytestmark = pytest.mark.usefixtures("app")


async def test_documents_are_upserted_per_locale_and_missing_locales_leave(
    platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    pid = uuid.uuid4()
    en = product(pid, locale="en", title="Red shoes", handle="red-shoes", prices={"EUR": PriceRange(1999, 2999)})
    de = product(pid, locale="de", title="Rote Schuhe", handle="rote-schuhe", prices={"EUR": PriceRange(1999, 2999)})

    assert await write(platform, tenant, [en, de]) == WriteResult(2, 0)
    found = await rows(
        platform, "SELECT locale, title FROM index_products WHERE tenant_id = :t ORDER BY locale", t=tenant.id
    )
    assert [(r.locale, r.title) for r in found] == [("de", "Rote Schuhe"), ("en", "Red shoes")]

    renamed = product(
        pid, locale="en", title="Crimson shoes", handle="red-shoes", prices={"USD": PriceRange(2500, 2500)}
    )
    assert await write(platform, tenant, [renamed]) == WriteResult(1, 1)
    found = await rows(
        platform, "SELECT locale, title, prices, currencies FROM index_products WHERE tenant_id = :t", t=tenant.id
    )
    assert [(r.locale, r.title, r.prices, r.currencies) for r in found] == [
        ("en", "Crimson shoes", {"USD": {"min": 2500, "max": 2500}}, ["USD"])
    ]
    prices = await rows(
        platform, "SELECT currency, min_price, max_price FROM index_product_prices WHERE tenant_id = :t", t=tenant.id
    )
    assert [(p.currency, p.min_price, p.max_price) for p in prices] == [("USD", 2500, 2500)]

    assert await write(platform, tenant, [], entity_ids=[pid]) == WriteResult(0, 1)
    assert await rows(platform, "SELECT 1 FROM index_product_prices WHERE tenant_id = :t", t=tenant.id) == []


async def test_writing_the_same_documents_again_changes_nothing_but_the_time(
    platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    document = product(
        title="Lamp",
        subtitle="Warm light",
        description="A lamp for reading",
        prices={"EUR": PriceRange(4900, 5900), "USD": PriceRange(5500, 6500)},
        categories=[CategoryRef(uuid.uuid4(), "lighting", "Lighting")],
        tags=["home", "light"],
        total_stock=7,
        has_stock=True,
        created_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    columns = "id, product_id, locale, title, prices, currencies, categories, category_handles, tags, search_vector"
    columns += ", listed_at"
    await write(platform, tenant, [document])
    first = await rows(platform, f"SELECT {columns} FROM index_products WHERE tenant_id = :t", t=tenant.id)
    await write(platform, tenant, [document])
    second = await rows(platform, f"SELECT {columns} FROM index_products WHERE tenant_id = :t", t=tenant.id)
    assert first == second
    assert first[0].category_handles == ["lighting"]
    assert first[0].listed_at == datetime(2026, 1, 2, tzinfo=UTC)


async def test_the_search_vector_uses_the_locales_configuration_weighted_by_field(
    platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    node = uuid.uuid4()
    documents = [
        ContentDocument(node, locale, "article", title, f"s-{locale}", "published", excerpt="", body_text=body)
        for locale, title, body in (
            ("de", "Häuser am See", "Die Gärten blühen"),
            ("en", "Houses by the lake", "Gardens are blooming"),
            ("xx-YY", "Zzz", "qqq"),
        )
    ]
    await write(platform, tenant, documents)
    found = {
        r.locale: r
        for r in await rows(
            platform,
            "SELECT locale, search_config::text AS cfg, search_vector::text AS vector FROM index_content "
            "WHERE tenant_id = :t",
            t=tenant.id,
        )
    }
    assert {locale: r.cfg for locale, r in found.items()} == {"de": "german", "en": "english", "xx-YY": "simple"}
    assert "'haus':1A" in found["de"].vector and "'gart':5C" in found["de"].vector
    assert "'hous':1A" in found["en"].vector and "'garden':5C" in found["en"].vector
    assert config_name("pt-BR") == "portuguese" and config_name("zh") == "simple"


async def test_a_document_for_an_entity_not_asked_about_is_refused(platform: Platform, make_tenant: Any) -> None:
    tenant = await make_tenant(platform=platform)
    with pytest.raises(ValueError, match="outside entity_ids"):
        await write(platform, tenant, [product()], entity_ids=[uuid.uuid4()])


async def test_tenants_never_touch_each_others_rows(platform: Platform, make_tenant: Any) -> None:
    one = await make_tenant(platform=platform)
    two = await make_tenant(platform=platform)
    pid = uuid.uuid4()
    await write(platform, one, [product(pid, title="Mine")])
    await write(platform, two, [product(pid, title="Yours")])
    await write(platform, two, [], entity_ids=[pid])
    found = await rows(platform, "SELECT tenant_id, title FROM index_products WHERE product_id = :p", p=pid)
    assert [(r.tenant_id, r.title) for r in found] == [(one.id, "Mine")]


async def test_a_row_whose_searched_text_is_unchanged_keeps_its_search_vector_unless_fresh(
    platform: Platform, make_tenant: Any
) -> None:
    tenant = await make_tenant(platform=platform)
    pid, node = uuid.uuid4(), uuid.uuid4()
    category = CategoryRef(uuid.uuid4(), "lighting", "Lighting")
    lamp = product(
        pid, title="Lamp", description="For reading", categories=[category], prices={"EUR": PriceRange(1, 1)}
    )
    post = ContentDocument(node, "en", "article", "Lamps", "lamps", "published", excerpt="", body_text="Light")
    await write(platform, tenant, [lamp])
    await write(platform, tenant, [post])
    # A marker no formula produces: it stays only where the writer reused the stored vector.
    for table in ("index_products", "index_content"):
        await execute(
            platform, f"UPDATE {table} SET search_vector = 'marker'::tsvector WHERE tenant_id = :t", t=tenant.id
        )

    async def vectors() -> tuple[str, str]:
        [item] = await rows(
            platform, "SELECT search_vector::text AS v FROM index_products WHERE tenant_id = :t", t=tenant.id
        )
        [page] = await rows(
            platform, "SELECT search_vector::text AS v FROM index_content WHERE tenant_id = :t", t=tenant.id
        )
        return item.v, page.v

    # Prices, stock or a reply count change: the text did not, the vector is kept.
    await write(platform, tenant, [replace(lamp, prices={"EUR": PriceRange(2, 3)}, total_stock=4)])
    await write(platform, tenant, [replace(post, reply_count=3)])
    assert await vectors() == ("'marker'", "'marker'")
    found = await rows(platform, "SELECT prices FROM index_products WHERE tenant_id = :t", t=tenant.id)
    assert found[0].prices == {"EUR": {"min": 2, "max": 3}}

    # Any searched field changing (a category's name included) computes it again.
    renamed = replace(lamp, categories=[replace(category, name="Lights")])
    await write(platform, tenant, [renamed])
    await write(platform, tenant, [replace(post, body_text="Bright light")])
    item, page = await vectors()
    assert "'light':" in item and "'lamp':1A" in item
    assert "'bright':" in page

    # A rebuild computes every vector, changed or not.
    for table in ("index_products", "index_content"):
        await execute(
            platform, f"UPDATE {table} SET search_vector = 'marker'::tsvector WHERE tenant_id = :t", t=tenant.id
        )
    writer = runtime_of(platform.ctx).writer
    for entity_type, documents in ((PRODUCT, [renamed]), (CONTENT, [replace(post, body_text="Bright light")])):
        ids = [documents[0].entity_id]
        async with platform.ctx.db.session(tenant.id) as session, session.begin():
            await lock_entities(session, tenant.id, entity_type, ids)
            await writer.write(session, tenant.id, entity_type, ids, documents, owner="shop", fresh=True)
    item, page = await vectors()
    assert "marker" not in item and "marker" not in page


async def execute(platform: Platform, sql: str, **params: Any) -> None:
    async with platform.ctx.db.system_session() as session, session.begin():
        await session.execute(text(sql), params)
