"""Commerce's product documents for the index (``rustok_index_documents`` for ``product``).

Built from the real services' writes and read back through the hook functions in a
tenant-scoped session, as the index calls them. Measured on a platform booted with
the event relay off, so that no background delivery runs statements while queries are
counted.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from rustok_commerce.index_documents import documents, entity_ids
from rustok_commerce.models import InventoryItem, VariantInventoryItem
from rustok_commerce.services.catalog import ProductService
from rustok_commerce.services.catalog_inputs import NewProduct, OptionInput, PriceInput, ProductText, VariantInput
from rustok_commerce.services.categories import CategoryText, ProductCategoryService
from rustok_commerce.services.images import ProductImageService
from rustok_commerce.services.inventory import InventoryService, variant_units
from rustok_commerce.services.prices import PriceService, TierInput
from rustok_commerce.services.pricing import prices_and_next_change, resolve_prices
from rustok_core.context import TenantContext
from rustok_core.index import PRODUCT, CategoryRef, PriceRange, ProductDocument
from rustok_server.boot import Platform
from rustok_testing.plugin import BootPlatform
from rustok_testing.queries import count_queries


@pytest.fixture(scope="module")
def quiet(boot_platform: BootPlatform) -> Platform:
    return boot_platform(**{"rustok.events.relay": False})


@pytest.fixture
async def tenant(quiet: Platform, make_tenant: Any) -> TenantContext:
    found: TenantContext = await make_tenant(locales=["en", "de", "fr"], platform=quiet)
    return found


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


async def docs(platform: Platform, tenant: TenantContext, *ids: uuid.UUID, at: datetime | None = None) -> Any:
    async with platform.ctx.db.session(tenant.id) as session:
        found = await documents(platform.ctx, session, tenant.id, list(ids), at=at)
    return {(d.product_id, d.locale): d for d in found}


async def product(
    platform: Platform,
    tenant: TenantContext,
    *,
    status: str = "active",
    title: str = "Linen Shirt",
    variants: list[VariantInput] | None = None,
    categories: list[uuid.UUID] | None = None,
    metadata: dict[str, Any] | None = None,
    translations: list[ProductText] | None = None,
) -> Any:
    return await ProductService(platform.ctx).create(
        tenant,
        NewProduct(
            translations=translations or [ProductText("en", title)],
            status=status,
            options=[OptionInput("Size", ["S", "M", "L"])] if variants and len(variants) > 1 else [],
            variants=variants or [VariantInput(sku=f"SKU-{uuid.uuid4().hex[:8]}", prices=[PriceInput("EUR", 1000)])],
            category_ids=categories or [],
            metadata=metadata or {},
        ),
        actor_id=None,
    )


async def variants_of(platform: Platform, tenant: TenantContext, product_id: uuid.UUID) -> list[Any]:
    found: list[Any] = (await ProductService(platform.ctx).variants_of(tenant.id, [product_id]))[product_id]
    return found


async def test_an_active_product_has_one_document_per_translation_with_its_text_and_meta(
    quiet: Platform, tenant: TenantContext
) -> None:
    ctx = quiet.ctx
    created = await product(
        quiet,
        tenant,
        translations=[
            ProductText(
                "en",
                "Linen Shirt",
                subtitle="Breezy",
                description="Cool in summer.",
                seo_title="Shirt | Shop",
                seo_description="Buy it",
            ),
            ProductText("de", "Leinenhemd", handle="leinenhemd"),
        ],
        metadata={"tags": [" summer ", "linen", "", "summer"], "other": 1},
    )
    first = await ProductImageService(ctx).upload(
        tenant, created.id, filename="a.png", data=png(), alt={"de": "Ein Hemd"}, actor_id=None
    )
    await ProductImageService(ctx).upload(tenant, created.id, filename="b.png", data=png(), actor_id=None)

    found = await docs(quiet, tenant, created.id)
    assert sorted(locale for _, locale in found) == ["de", "en"]
    english: ProductDocument = found[(created.id, "en")]
    assert (english.handle, english.title, english.subtitle, english.description) == (
        "linen-shirt",
        "Linen Shirt",
        "Breezy",
        "Cool in summer.",
    )
    assert (english.seo_title, english.seo_description, english.status) == ("Shirt | Shop", "Buy it", "active")
    assert english.tags == ("summer", "linen")
    assert english.thumbnail == f"/api/v1/commerce/images/{first.id}/file"
    # The alt text falls back to another locale's when English has none.
    assert english.extra["thumbnail_alt"] == "Ein Hemd"
    assert english.published_at == created.published_at and english.created_at == created.created_at
    assert english.module == "commerce"
    german = found[(created.id, "de")]
    assert (german.handle, german.title, german.subtitle, german.seo_title) == ("leinenhemd", "Leinenhemd", None, None)
    assert german.prices == {"EUR": PriceRange(1000, 1000)}


async def test_drafts_archived_and_deleted_products_have_no_documents_and_are_not_listed(
    quiet: Platform, tenant: TenantContext
) -> None:
    service = ProductService(quiet.ctx)
    active = await product(quiet, tenant, title="On sale")
    draft = await product(quiet, tenant, title="Draft", status="draft")
    archived = await product(quiet, tenant, title="Archived")
    await service.archive(tenant, archived.id, actor_id=None)
    deleted = await product(quiet, tenant, title="Deleted")
    await service.delete(tenant, deleted.id, actor_id=None)

    found = await docs(quiet, tenant, active.id, draft.id, archived.id, deleted.id)
    assert list(found) == [(active.id, "en")]
    async with quiet.ctx.db.session(tenant.id) as session:
        assert await entity_ids(session, None, 10) == [active.id]
        assert await entity_ids(session, active.id, 10) == []

    await service.publish(tenant, draft.id, actor_id=None)
    async with quiet.ctx.db.session(tenant.id) as session:
        page = await entity_ids(session, None, 1)
        assert page == [min(active.id, draft.id)]
        assert await entity_ids(session, page[0], 1) == [max(active.id, draft.id)]


async def test_prices_are_the_resolved_unit_prices_per_currency_with_sales_and_their_next_change(
    quiet: Platform, tenant: TenantContext
) -> None:
    prices = PriceService(quiet.ctx)
    created = await product(
        quiet,
        tenant,
        variants=[
            VariantInput(
                options={"Size": size},
                sku=f"P-{size}-{uuid.uuid4().hex[:6]}",
                prices=[
                    PriceInput("EUR", amount),
                    PriceInput("EUR", amount - 500, 10),  # a tier: not the price of one unit
                    PriceInput("USD", amount + 200),
                ],
            )
            for size, amount in (("S", 2000), ("M", 2500), ("L", 3000))
        ],
    )
    small, medium, large = await variants_of(quiet, tenant, created.id)
    sale = await prices.create_list(tenant, name="Sale", type="sale", actor_id=None)
    await prices.set_prices(tenant, large.id, "EUR", [TierInput(1500)], price_list_id=sale.id, actor_id=None)
    # An override replaces the base price (even upwards); a sale above the price does nothing.
    override = await prices.create_list(tenant, name="Members", type="override", actor_id=None)
    await prices.set_prices(tenant, small.id, "USD", [TierInput(2600)], price_list_id=override.id, actor_id=None)
    await prices.set_prices(tenant, medium.id, "USD", [TierInput(9999)], price_list_id=sale.id, actor_id=None)
    # A sale that starts tomorrow and one that ended yesterday: not applied now.
    now = datetime.now(UTC)
    tomorrow = await prices.create_list(
        tenant, name="Tomorrow", type="sale", starts_at=now + timedelta(days=1), actor_id=None
    )
    await prices.set_prices(tenant, medium.id, "EUR", [TierInput(100)], price_list_id=tomorrow.id, actor_id=None)
    ended = await prices.create_list(
        tenant,
        name="Ended",
        type="sale",
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=1),
        actor_id=None,
    )
    await prices.set_prices(tenant, small.id, "EUR", [TierInput(50)], price_list_id=ended.id, actor_id=None)

    [document] = (await docs(quiet, tenant, created.id, at=now)).values()
    assert document.prices == {"EUR": PriceRange(1500, 2500), "USD": PriceRange(2600, 3200)}
    # The range before the sale, for currencies where one applies.
    assert document.extra["original_prices"] == {"EUR": {"min": 2000, "max": 3000}}
    assert document.extra["prices_change_at"] == (now + timedelta(days=1)).isoformat()

    # The same document a day later: the sale of tomorrow applies, nothing changes after it.
    [later] = (await docs(quiet, tenant, created.id, at=now + timedelta(days=1, seconds=1))).values()
    assert later.prices["EUR"] == PriceRange(100, 2000)
    assert "prices_change_at" not in later.extra

    # The one resolver: every currency at once answers what it answers per currency, at any moment.
    ids = [small.id, medium.id, large.id]
    async with quiet.ctx.db.session(tenant.id) as session:
        everywhere, changes = await prices_and_next_change(session, ids, at=now)
        assert sorted(everywhere) == ["EUR", "USD"]
        assert changes == {medium.id: now + timedelta(days=1)}
        for moment in (now, now - timedelta(days=1, seconds=1), now + timedelta(days=1, seconds=1)):
            everywhere, _ = await prices_and_next_change(session, ids, at=moment)
            for currency in ("EUR", "USD"):
                assert everywhere.get(currency, {}) == await resolve_prices(session, ids, currency, at=moment)
        # Two days ago the ended sale had not ended yet: its end and tomorrow's start are ahead.
        _, before = await prices_and_next_change(session, ids, at=now - timedelta(days=1, seconds=1))
        assert before == {small.id: now - timedelta(days=1), medium.id: now + timedelta(days=1)}


async def test_stock_sums_what_managed_variants_can_take_and_any_buyable_variant_is_in_stock(
    quiet: Platform, tenant: TenantContext
) -> None:
    ctx = quiet.ctx
    inventory = InventoryService(ctx)
    north = await inventory.create_location(tenant.id, name="North")
    south = await inventory.create_location(tenant.id, name="South", priority=1)

    async def stocked(variant_id: uuid.UUID, location: Any, units: int) -> None:
        await inventory.set_level(
            tenant.id, location_id=location.id, variant_id=variant_id, stocked=units, actor_id=None
        )

    created = await product(
        quiet,
        tenant,
        variants=[
            VariantInput(options={"Size": size}, sku=f"ST-{size}-{uuid.uuid4().hex[:6]}", prices=[PriceInput("EUR", 1)])
            for size in ("S", "M", "L")
        ],
    )
    small, medium, large = await variants_of(quiet, tenant, created.id)
    [document] = (await docs(quiet, tenant, created.id)).values()
    assert (document.total_stock, document.has_stock) == (0, False)  # managed, no items yet

    await stocked(small.id, north, 4)
    await stocked(small.id, south, 3)
    # Reserved units are not available (what a checkout holds).
    async with ctx.db.session(tenant.id) as session, session.begin():
        await session.execute(
            text(
                "UPDATE commerce_inventory_levels SET reserved_quantity = 2 WHERE tenant_id = :t AND location_id = :l"
            ),
            {"t": tenant.id, "l": north.id},
        )
    # The medium one is a kit: two units of its own item and one of a shared strap.
    await stocked(medium.id, north, 9)
    async with ctx.db.session(tenant.id) as session, session.begin():
        strap = InventoryItem(sku=f"STRAP-{uuid.uuid4().hex[:6]}")
        session.add(strap)
        await session.flush()
        await session.execute(
            text(
                "UPDATE commerce_variant_inventory SET required_quantity = 2 WHERE tenant_id = :t AND variant_id = :v"
            ),
            {"t": tenant.id, "v": medium.id},
        )
        session.add(VariantInventoryItem(variant_id=medium.id, inventory_item_id=strap.id, required_quantity=1))
    await inventory.set_level(tenant.id, location_id=south.id, item_id=strap.id, stocked=3, actor_id=None)

    [document] = (await docs(quiet, tenant, created.id)).values()
    # small: 4 - 2 + 3 = 5; medium: min(9 // 2, 3 // 1) = 3; large: no item.
    assert (document.total_stock, document.has_stock) == (8, True)
    assert variant_units([(9, 2), (3, 1)]) == 3 and variant_units([]) == 0

    # Sold out everywhere (what is left is reserved, or too little for one kit): not buyable ...
    await stocked(small.id, north, 2)
    await stocked(small.id, south, 0)
    [own_item] = await inventory.items(tenant.id, variant_id=medium.id, sku=medium.sku)
    await inventory.set_level(tenant.id, location_id=north.id, item_id=own_item.id, stocked=1, actor_id=None)
    [document] = (await docs(quiet, tenant, created.id)).values()
    assert (document.total_stock, document.has_stock) == (0, False)

    # ... until a variant takes backorders, or does not track stock at all.
    from rustok_commerce.services.catalog import VariantService
    from rustok_commerce.services.catalog_inputs import VariantChanges

    variants = VariantService(ctx)
    updated = await variants.update(
        tenant, large.id, VariantChanges(allow_backorder=True), expected_version=large.version, actor_id=None
    )
    [document] = (await docs(quiet, tenant, created.id)).values()
    assert (document.total_stock, document.has_stock) == (0, True)
    await variants.update(
        tenant,
        large.id,
        VariantChanges(allow_backorder=False, manage_inventory=False),
        expected_version=updated.version,
        actor_id=None,
    )
    [document] = (await docs(quiet, tenant, created.id)).values()
    assert (document.total_stock, document.has_stock) == (0, True)


async def test_categories_are_the_public_ones_with_their_ancestors_named_in_the_locale(
    quiet: Platform, tenant: TenantContext
) -> None:
    categories = ProductCategoryService(quiet.ctx)

    async def category(*names: tuple[str, str], **more: Any) -> Any:
        return await categories.create(tenant, translations=[CategoryText(*n) for n in names], actor_id=None, **more)

    clothing = await category(("en", "Clothing"), ("de", "Kleidung"))
    shirts = await category(("en", "Shirts"), parent_id=clothing.id)
    hidden = await category(("en", "Hidden"), is_active=False)
    under_hidden = await category(("en", "Under hidden"), parent_id=hidden.id)
    internal = await category(("en", "Internal"), is_internal=True)
    french_only = await category(("fr", "Soldes"))
    created = await product(
        quiet,
        tenant,
        translations=[ProductText("en", "Shirt"), ProductText("de", "Hemd"), ProductText("fr", "Chemise")],
        categories=[shirts.id, under_hidden.id, internal.id, french_only.id],
    )

    found = await docs(quiet, tenant, created.id)
    english = found[(created.id, "en")]
    assert english.categories == (
        CategoryRef(shirts.id, shirts.handle, "Shirts"),
        CategoryRef(french_only.id, french_only.handle, "Soldes"),  # no English name: any there is
        CategoryRef(clothing.id, clothing.handle, "Clothing"),  # the ancestor, after the product's own
    )
    assert english.extra["linked_categories"] == [shirts.handle, french_only.handle]
    german = found[(created.id, "de")]
    # German names where they exist, else the default locale's (English).
    assert [c.name for c in german.categories] == ["Shirts", "Soldes", "Kleidung"]
    assert [c.name for c in found[(created.id, "fr")].categories] == ["Shirts", "Soldes", "Clothing"]


async def test_tags_that_are_not_a_list_of_strings_index_as_none(quiet: Platform, tenant: TenantContext) -> None:
    odd = await product(quiet, tenant, title="Odd tags", metadata={"tags": "summer"})
    mixed = await product(quiet, tenant, title="Mixed tags", metadata={"tags": ["summer", 3]})
    plain = await product(quiet, tenant, title="No tags")
    found = await docs(quiet, tenant, odd.id, mixed.id, plain.id)
    assert [found[(i, "en")].tags for i in (odd.id, mixed.id, plain.id)] == [(), (), ()]


async def test_any_number_of_products_costs_the_same_queries(quiet: Platform, tenant: TenantContext) -> None:
    ctx = quiet.ctx
    parent = await ProductCategoryService(ctx).create(
        tenant, translations=[CategoryText("en", "Parent")], actor_id=None
    )
    child = await ProductCategoryService(ctx).create(
        tenant, translations=[CategoryText("de", "Kind")], parent_id=parent.id, actor_id=None
    )
    location = await InventoryService(ctx).create_location(tenant.id, name="Main")
    sale = await PriceService(ctx).create_list(
        tenant, name="Later", type="sale", starts_at=datetime.now(UTC) + timedelta(hours=1), actor_id=None
    )
    ids = []
    for n in range(25):
        created = await product(
            quiet,
            tenant,
            translations=[ProductText("en", f"Counted {n}"), ProductText("de", f"Gezählt {n}")],
            variants=[
                VariantInput(
                    options={"Size": size}, sku=f"Q{n}-{size}-{uuid.uuid4().hex[:4]}", prices=[PriceInput("EUR", 100)]
                )
                for size in ("S", "M")
            ],
            categories=[child.id],
            metadata={"tags": ["counted"]},
        )
        first, _ = await variants_of(quiet, tenant, created.id)
        await InventoryService(ctx).set_level(
            tenant.id, location_id=location.id, variant_id=first.id, stocked=n, actor_id=None
        )
        await PriceService(ctx).set_prices(
            tenant, first.id, "EUR", [TierInput(90)], price_list_id=sale.id, actor_id=None
        )
        await ProductImageService(ctx).upload(
            tenant, created.id, filename="p.png", data=png(), alt={"de": "Bild"}, actor_id=None
        )
        ids.append(created.id)

    counts = {}
    async with ctx.db.session(tenant.id) as session:
        for size in (1, 25):
            async with count_queries(quiet) as counted:
                found = await documents(ctx, session, tenant.id, ids[:size])
            assert len(found) == 2 * size
            assert all(d.categories and d.thumbnail and d.extra["prices_change_at"] for d in found)
            counts[size] = counted
    # products with translations, category links and first images; variants + stock; prices with their
    # windows; the category tree; and the tenant's default locale (English alt text and category name fall back).
    assert counts[1].count == counts[25].count == 5, (str(counts[1]), str(counts[25]))


async def test_the_index_finds_commerce_as_the_owner_of_products(quiet: Platform, tenant: TenantContext) -> None:
    created = await product(quiet, tenant, title="Owned")
    async with quiet.ctx.db.session(tenant.id) as session:
        answers = quiet.registry.call_module(
            "commerce",
            "rustok_index_documents",
            ctx=quiet.ctx,
            session=session,
            tenant_id=tenant.id,
            entity_type=PRODUCT,
            entity_ids=[created.id],
        )
        found = await answers
        assert [d.title for d in found] == ["Owned"]
        other = quiet.registry.call_module(
            "commerce",
            "rustok_index_documents",
            ctx=quiet.ctx,
            session=session,
            tenant_id=tenant.id,
            entity_type="content",
            entity_ids=[created.id],
        )
        assert await other is None


async def test_documents_only_read_the_tenant_the_session_is_scoped_to(
    quiet: Platform, tenant: TenantContext, make_tenant: Any
) -> None:
    ctx = quiet.ctx
    category = await ProductCategoryService(ctx).create(tenant, translations=[CategoryText("en", "Own")], actor_id=None)
    created = await product(quiet, tenant, categories=[category.id])
    await ProductImageService(ctx).upload(tenant, created.id, filename="a.png", data=png(), actor_id=None)
    assert (await docs(quiet, tenant, created.id))[(created.id, "en")].categories

    other: TenantContext = await make_tenant(platform=quiet)
    # Another tenant's session asking for this tenant's product finds nothing of it.
    assert await docs(quiet, other, created.id) == {}
    async with ctx.db.session(other.id) as session:
        with pytest.raises(ValueError, match="another tenant"):
            await documents(ctx, session, tenant.id, [created.id])
    async with ctx.db.system_session() as session:
        with pytest.raises(RuntimeError, match="scoped to one tenant"):
            await documents(ctx, session, tenant.id, [created.id])
        with pytest.raises(RuntimeError, match="scoped to one tenant"):
            await prices_and_next_change(session, [uuid.uuid4()])
