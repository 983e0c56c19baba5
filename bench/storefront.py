"""Benchmark: storefront reads over HTTP against bare Starlette, write→index lag, search at scale.

One command:

    uv run python bench/storefront.py [--database-url URL] [--duration 10] [--products 10000]
        [--posts 5000] [--scale 1000,10000,100000] [--lag-rate 50] [--lag-seconds 20] [--note TEXT]

Also: ``--warmup 2`` (seconds of wrk before each measured run), ``--search-runs 400``,
``--redis-url URL`` (give the server Redis), ``--reseed``, ``--skip search,http,lag`` and
``--output FILE``. A first run seeds for about ten minutes on two cores; later runs with the
same parameters start measuring after a few seconds. Measuring takes about ten minutes.

What it does, in order:

1. **Seed** (once per parameter set): a tenant ``bench`` with locales ``en`` and ``de``,
   ``--products`` products (two translations, two variants priced in EUR and USD, a
   category, tags) and ``--posts`` blog posts (two translations, markdown bodies,
   category, tags), all written through the modules' services (``ProductService``,
   ``PostService``) by 8 concurrent writers, so every event fires and the index rows are
   the owners' documents, applied by the real index handler through the outbox relay.
   For the search-scale part, tenants ``bench-scale-<n>`` get ``n`` products each: the
   commerce owner's documents of the seeded products, copied under new ids and written
   with the index's own ``IndexWriter``. The result is kept as a template database
   ``rustok_bench_storefront_tpl_<key>`` (key: the parameters and the migration files),
   so a rerun clones it instead of seeding (``--reseed`` forces a new one).
2. **Clone** the template into ``rustok_bench_storefront`` (dropped and recreated on every
   run, never a test database) on the PostgreSQL server of ``--database-url`` (default
   ``RUSTOK_BENCH_DATABASE_URL``, else the embedded PostgreSQL under ``var/bench-pg``).
3. **Search at the database**: the storefront's own ``StorefrontQueries.search`` (the exact
   statement, timed around the cursor execute) with two-word queries, p50/p99 per
   catalogue size.
4. **HTTP**: the real server (``rustok serve``, one worker, pinned to core 0) driven by
   ``wrk`` (pinned to core 1, 16 connections, a Lua script POSTing the GraphQL body), with
   PostgreSQL pinned to core 1 during these runs, the layout the targets' calibration used
   (``--postgres-core none`` leaves it on both cores; see :class:`PostgresPinning` and
   ``docs/decisions/0011-storefront-benchmark-layout.md``), for
   ``catalogProducts(first: 20)``, ``catalogProduct(handle)``, ``search`` (two words) and
   ``contentFeed(first: 20)``; next to each, a bare Starlette app (same core, same
   uvicorn) answering the same POST with the exact JSON the server returned, from
   memory, serialized by orjson. "Cold" runs the server with the response cache switched
   off by its setting (every request executes its SQL; the fast path's rendered rows stay
   on, as they are in production); "cold, rendered rows off" and "cold, fast path off"
   show what each of those layers is worth; "warm" runs with the response cache on,
   repeating identical requests. Found no such setting: one run, reported as "no response cache". Next to
   the cold ``catalogProducts(first: 20)``, the bare app's calibration endpoints
   (:data:`CALIBRATIONS`: one ``SELECT 1`` round trip, the same indexed query with rows
   serialized by orjson, the same query returning JSON built by PostgreSQL) show what a
   Python server that reads the database per request can reach on this machine.
5. **Write→index lag** under a steady write load: ``setVariantPrices`` through GraphQL at
   ``--lag-rate`` per second for ``--lag-seconds`` (outbox transport, the server's own
   relay), from each 200 response to the first poll of ``index_product_prices`` (a tight
   loop from this process) that shows the new price.
6. **Report**: ``bench/results/storefront-<date>.md`` (machine, parameters, every number)
   and the list in ``bench/results/README.md``.

Needs ``wrk`` and ``taskset`` (``apt-get install -y wrk util-linux``) and two cores. Timed
numbers are benchmarks, not tests: nothing here fails on a slow result.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import os
import platform as machine
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import yaml
from psycopg import sql
from pydantic import BaseModel
from slugify import slugify
from sqlalchemy import event, text

from rustok_blog.services import CATEGORY_KIND, NewPost, PostService
from rustok_commerce.services.catalog import ProductService
from rustok_commerce.services.catalog_inputs import NewProduct, OptionInput, PriceInput, ProductText, VariantInput
from rustok_commerce.services.categories import CategoryText as ProductCategoryText
from rustok_commerce.services.categories import ProductCategoryService
from rustok_content.services import BodyInput, CategoryService, CategoryText, TranslationInput
from rustok_core.context import AppContext, TenantContext
from rustok_core.ids import generate_id
from rustok_core.index import CONTENT, PRODUCT, IndexDocument, ProductDocument
from rustok_core.interfaces import TenantDirectory, TenantResolver
from rustok_core.registry import ModuleRegistry
from rustok_core.settings import Settings
from rustok_index.runtime import runtime_of
from rustok_index.services.storefront import ReadScope, StorefrontQueries
from rustok_index.services.writer import lock_entities
from rustok_server.app import create_app, freeze_boot_heap
from rustok_server.boot import Platform, boot, migration_locations
from rustok_testing.postgres import admin_connection, libpq, migrations_fingerprint, with_database
from rustok_testing.server import environment_without_rustok, running_server

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RUSTOK = str(Path(sys.executable).parent / "rustok")

SEED_VERSION = 2
"""Bump when the seeded data changes shape: templates of other versions are not reused."""
TEMPLATE_PREFIX = "rustok_bench_storefront_tpl_"
RUN_DATABASE = "rustok_bench_storefront"
TENANT = "bench"
LOCALES = ("en", "de")
SCALE_TENANT = "bench-scale-{size}"
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench password 2026"
JWT_SECRET = "bench-only-signing-key-0123456789abcdefghijkl"
SEED_WRITERS = 8
SERVER_CORE = 0
LOAD_CORE = 1
CONNECTIONS = 16
SERVER_POOL_SIZE = 20
CALIBRATION_SQL = (
    "SELECT p.product_id, p.handle, p.title, p.subtitle, p.thumbnail, p.has_stock, p.prices, p.categories, "
    "p.listed_at FROM index_products p WHERE p.tenant_id = (SELECT id FROM tenants WHERE slug = %(tenant)s) "
    "AND p.locale = 'en' ORDER BY p.listed_at DESC, p.product_id DESC LIMIT 21"
)
"""The calibration endpoints' statement: what ``catalogProducts(first: 20)`` reads, by the same index."""
CALIBRATION_JSON_SQL = (
    "SELECT COALESCE(json_agg(json_build_object('id', p.product_id, 'handle', p.handle, 'title', p.title, "
    "'subtitle', p.subtitle, 'thumbnail', p.thumbnail, 'inStock', p.has_stock, 'prices', p.prices, "
    "'categories', p.categories, 'listedAt', p.listed_at)), '[]')::text "
    f"FROM ({CALIBRATION_SQL}) p"
)
"""The same rows, as one JSON text built by PostgreSQL (``json_agg``)."""
CALIBRATIONS = (
    ("round-trip", "one database round trip (`SELECT 1`), then the bare answer from memory"),
    ("catalog", "the one indexed query of `catalogProducts(first: 20)`, rows as tuples, serialized by orjson"),
    ("catalog-json", "the same query returning JSON built by PostgreSQL (`json_agg`), passed through"),
)
"""The bare app's ``/sql/<name>`` endpoints: what a Python server that reads the database per request costs."""
SEARCH_QUERY = "organic cotton"
"""The two-word query of the HTTP ``search`` case."""
SEARCH_TERMS = (
    "organic cotton",
    "linen breathable",
    "waterproof jacket",
    "recycled wool",
    "handmade leather",
    "soft cashmere",
    "durable canvas",
    "lightweight scarf",
)
"""Two-word queries of the search-at-scale part (each matches about 1% of the catalogue)."""
LAG_PRICE_CEILING = 1000
"""Seeded EUR prices start here; the lag writes set prices below it, so each one is the product's new minimum."""

# -- the catalogue the seed writes ----------------------------------------------------------------

ADJECTIVES = (
    ("Classic", "Klassisch"),
    ("Vintage", "Vintage"),
    ("Modern", "Modern"),
    ("Rustic", "Rustikal"),
    ("Urban", "Urban"),
    ("Nordic", "Nordisch"),
    ("Everyday", "Alltag"),
    ("Premium", "Premium"),
    ("Relaxed", "Locker"),
    ("Slim", "Schmal"),
    ("Cozy", "Gemütlich"),
    ("Festive", "Festlich"),
    ("Alpine", "Alpin"),
    ("Coastal", "Küste"),
    ("Heritage", "Tradition"),
    ("Studio", "Studio"),
)
MATERIALS = (
    ("Cotton", "Baumwolle"),
    ("Linen", "Leinen"),
    ("Wool", "Wolle"),
    ("Leather", "Leder"),
    ("Denim", "Denim"),
    ("Silk", "Seide"),
    ("Cashmere", "Kaschmir"),
    ("Canvas", "Canvas"),
    ("Bamboo", "Bambus"),
    ("Hemp", "Hanf"),
    ("Velvet", "Samt"),
    ("Fleece", "Fleece"),
)
NOUNS = (
    ("Shirt", "Hemd", "tops"),
    ("Jacket", "Jacke", "outerwear"),
    ("Scarf", "Schal", "accessories"),
    ("Bag", "Tasche", "bags"),
    ("Hat", "Hut", "accessories"),
    ("Sweater", "Pullover", "knitwear"),
    ("Dress", "Kleid", "dresses"),
    ("Trousers", "Hose", "bottoms"),
    ("Socks", "Socken", "basics"),
    ("Belt", "Gürtel", "accessories"),
    ("Coat", "Mantel", "outerwear"),
    ("Skirt", "Rock", "bottoms"),
    ("Gloves", "Handschuhe", "accessories"),
    ("Backpack", "Rucksack", "bags"),
    ("Blanket", "Decke", "home"),
    ("Beanie", "Mütze", "knitwear"),
    ("Vest", "Weste", "tops"),
    ("Shorts", "Shorts", "bottoms"),
    ("Apron", "Schürze", "home"),
    ("Cushion", "Kissen", "home"),
)
PRODUCT_CATEGORIES = {
    "tops": ("Tops", "Oberteile"),
    "outerwear": ("Outerwear", "Oberbekleidung"),
    "accessories": ("Accessories", "Accessoires"),
    "bags": ("Bags", "Taschen"),
    "knitwear": ("Knitwear", "Strick"),
    "dresses": ("Dresses", "Kleider"),
    "bottoms": ("Bottoms", "Hosen und Röcke"),
    "basics": ("Basics", "Basics"),
    "home": ("Home", "Wohnen"),
}
FEATURES = (
    ("breathable", "atmungsaktiv"),
    ("waterproof", "wasserdicht"),
    ("handmade", "handgemacht"),
    ("recycled", "recycelt"),
    ("lightweight", "leicht"),
    ("durable", "strapazierfähig"),
    ("washable", "waschbar"),
    ("organic", "biologisch"),
    ("warm", "warm"),
    ("soft", "weich"),
    ("stretchy", "dehnbar"),
    ("windproof", "winddicht"),
    ("sustainable", "nachhaltig"),
    ("hypoallergenic", "hypoallergen"),
    ("reversible", "wendbar"),
    ("insulated", "gefüttert"),
    ("packable", "verstaubar"),
    ("seamless", "nahtlos"),
    ("tailored", "maßgeschneidert"),
    ("embroidered", "bestickt"),
    ("quilted", "gesteppt"),
    ("brushed", "gebürstet"),
    ("vegan", "vegan"),
    ("timeless", "zeitlos"),
)
COLORS = (
    ("black", "schwarz"),
    ("white", "weiß"),
    ("navy", "marine"),
    ("olive", "oliv"),
    ("sand", "sand"),
    ("rust", "rost"),
    ("grey", "grau"),
    ("forest", "waldgrün"),
    ("cream", "creme"),
    ("burgundy", "bordeaux"),
)
FILLER_EN = (
    "Cut in our own workshop and finished by hand.",
    "It keeps its shape wash after wash.",
    "Pairs well with everything else in the collection.",
    "Shipped in plastic-free packaging.",
    "Sized true to fit; see the size guide for measurements.",
    "Every piece is checked twice before it leaves the studio.",
)
FILLER_DE = (
    "In unserer eigenen Werkstatt zugeschnitten und von Hand fertiggestellt.",
    "Behält seine Form Wäsche für Wäsche.",
    "Passt zu allem anderen aus der Kollektion.",
    "Versand in plastikfreier Verpackung.",
    "Fällt normal aus; Maße stehen in der Größentabelle.",
    "Jedes Stück wird zweimal geprüft, bevor es das Studio verlässt.",
)
BLOG_CATEGORIES = (
    ("care-guides", "Care guides", "Pflegetipps"),
    ("materials", "Materials", "Materialien"),
    ("behind-the-scenes", "Behind the scenes", "Hinter den Kulissen"),
    ("style-notes", "Style notes", "Stilnotizen"),
    ("sustainability", "Sustainability", "Nachhaltigkeit"),
    ("news", "News", "Neuigkeiten"),
)
POST_TITLES = (
    ("How to care for {material} {noun}s", "So pflegen Sie {noun_de} aus {material_de}"),
    ("Why we love {feature} {material}", "Warum wir {material_de} lieben: {feature_de}"),
    ("{adjective} {noun}s for every season", "{noun_de} für jede Jahreszeit: {adjective_de}"),
    ("A guide to {material}: {feature} and {feature2}", "{material_de} erklärt: {feature_de} und {feature2_de}"),
    ("Inside the workshop: making a {material} {noun}", "In der Werkstatt: {noun_de} aus {material_de}"),
)


def pick(items: Sequence[Any], n: int, salt: int) -> Any:
    """A deterministic choice, independent for every ``salt`` (so words combine freely), the same on every reseed."""
    digest = hashlib.blake2b(f"{n}:{salt}".encode(), digest_size=8).digest()
    return items[int.from_bytes(digest, "big") % len(items)]


def pick_distinct(items: Sequence[Any], n: int, salt: int, count: int) -> list[Any]:
    """``count`` different items, chosen like :func:`pick`."""
    chosen: list[Any] = []
    while len(chosen) < count:
        item = pick(items, n, salt)
        if item not in chosen:
            chosen.append(item)
        salt += 1
    return chosen


def new_product(n: int, category_ids: Mapping[str, uuid.UUID]) -> NewProduct:
    """The ``n``-th product of the seeded catalogue: two locales, two sizes priced in EUR and USD."""
    adjective, adjective_de = pick(ADJECTIVES, n, 11)
    material, material_de = pick(MATERIALS, n, 23)
    noun, noun_de, category = pick(NOUNS, n, 37)
    color, color_de = pick(COLORS, n, 53)
    features = pick_distinct(FEATURES, n, 1, 4)
    filler = pick_distinct(range(len(FILLER_EN)), n, 61, 2)
    en = [f for f, _ in features]
    de = [f for _, f in features]
    title = f"{adjective} {material} {noun}"
    title_de = f"{noun_de} {adjective_de} aus {material_de}"
    base = LAG_PRICE_CEILING + (n * 7919) % 19_000
    return NewProduct(
        status="active",
        translations=[
            ProductText(
                "en",
                title=title,
                subtitle=f"{color.capitalize()}, {en[0]}",
                handle=slugify(f"{title} {n}"),
                description=(
                    f"{'An' if en[0][0] in 'aeiou' else 'A'} {en[0]}, {en[1]} and {en[2]} {noun.lower()} "
                    f"made of {material.lower()}. "
                    f"It is {en[3]} and easy to care for. Colour: {color}. "
                    f"{FILLER_EN[filler[0]]} {FILLER_EN[filler[1]]}"
                ),
                seo_title=f"{title} | Bench Shop",
                seo_description=f"{title} in {color}: {en[0]}, {en[1]}.",
            ),
            ProductText(
                "de",
                title=title_de,
                subtitle=f"{color_de.capitalize()}, {de[0]}",
                handle=slugify(f"{title_de} {n}"),
                description=(
                    f"{noun_de} aus {material_de}: {de[0]}, {de[1]} und {de[2]}. "
                    f"Außerdem {de[3]} und pflegeleicht. Farbe: {color_de}. "
                    f"{FILLER_DE[filler[0]]} {FILLER_DE[filler[1]]}"
                ),
            ),
        ],
        metadata={"tags": [color, en[0]]},
        options=[OptionInput("Size", ["S", "M"])],
        variants=[
            VariantInput(
                options={"Size": size},
                sku=f"BENCH-{n}-{size}",
                manage_inventory=False,
                prices=[PriceInput("EUR", base + extra), PriceInput("USD", (base + extra) * 11 // 10)],
            )
            for size, extra in (("S", 0), ("M", 500))
        ],
        category_ids=[category_ids[category]],
    )


def new_post(n: int, category_ids: Sequence[uuid.UUID]) -> NewPost:
    """The ``n``-th blog post: two locales, a markdown body, a category and two tags."""
    adjective, adjective_de = pick(ADJECTIVES, n, 71)
    material, material_de = pick(MATERIALS, n, 73)
    noun, noun_de, _ = pick(NOUNS, n, 79)
    (feature, feature_de), (feature2, feature2_de), (feature3, _) = pick_distinct(FEATURES, n, 1001, 3)
    filler = pick_distinct(range(len(FILLER_EN)), n, 89, 2)
    words = {
        "adjective": adjective,
        "adjective_de": adjective_de,
        "material": material.lower(),
        "material_de": material_de,
        "noun": noun.lower(),
        "noun_de": noun_de,
        "feature": feature,
        "feature_de": feature_de,
        "feature2": feature2,
        "feature2_de": feature2_de,
    }
    title_en, title_de = pick(POST_TITLES, n, 83)
    title = title_en.format(**words)
    title = title[0].upper() + title[1:]
    german = title_de.format(**words)
    body = (
        f"Our {material.lower()} pieces are {feature} and {feature2}, and this {noun.lower()} is no exception.\n\n"
        f"## What makes it {feature3}\n\n"
        f"- {FILLER_EN[filler[0]]}\n- {FILLER_EN[filler[1]]}\n- It is {feature2} by design.\n\n"
        f"We tested the {adjective.lower()} line for a full season. **{material} ages well** when you follow "
        f"the care label, and a {feature} finish keeps it looking new. Read on for the details."
    )
    body_de = (
        f"Unsere Stücke aus {material_de} sind {feature_de} und {feature2_de}.\n\n"
        f"- {FILLER_DE[filler[0]]}\n- {FILLER_DE[filler[1]]}\n\n"
        f"Wir haben die Linie eine ganze Saison lang getestet. **{material_de} altert schön**."
    )
    return NewPost(
        status="published",
        category_id=pick(category_ids, n, 101),
        tags=[material.lower(), feature],
        translations=[
            TranslationInput(
                "en",
                title=title,
                slug=slugify(f"{title} {n}"),
                excerpt=f"{material} that is {feature} and {feature2}: what we learned.",
                body=BodyInput("markdown", body),
            ),
            TranslationInput(
                "de",
                title=german,
                slug=slugify(f"{german} {n}"),
                excerpt=f"{material_de}: {feature_de} und {feature2_de}.",
                body=BodyInput("markdown", body_de),
            ),
        ],
    )


# -- parameters, databases, templates -------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """What the seed depends on; its key names the template database."""

    products: int
    posts: int
    scale: tuple[int, ...]

    def key(self) -> str:
        locations = migration_locations(ModuleRegistry.from_entry_points())
        material = orjson.dumps(
            {
                "seed": SEED_VERSION,
                "products": self.products,
                "posts": self.posts,
                "scale": self.scale,
                "migrations": migrations_fingerprint(locations),
            }
        )
        return hashlib.sha256(material).hexdigest()[:16]


def bench_settings(**overrides: Any) -> Settings:
    """Settings of the in-process platform (seeding, search timing), independent of ``config/``."""
    scratch = Path(tempfile.gettempdir()) / "rustok-bench-storefront"
    base: dict[str, Any] = {
        "log_level": "warning",
        "auth.jwt_secret": JWT_SECRET,
        "mail.directory": str(scratch / "mail"),
        "media.directory": str(scratch / "media"),
        "rustok.rate_limit.enabled": False,
        "rustok.events.transport": "outbox",
        "database.pool_size": 20,
    }
    return Settings(env="development").with_overrides({**base, **overrides})


def database_exists(server: str, name: str) -> bool:
    with admin_connection(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def drop_database(server: str, name: str) -> None:
    with admin_connection(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def clone_database(server: str, template: str, name: str) -> float:
    started = time.perf_counter()
    with admin_connection(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return time.perf_counter() - started


def template_info(server: str, template: str) -> dict[str, Any]:
    """What the seed recorded about itself (kept as the template database's comment)."""
    with admin_connection(server) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database'), pg_database_size(oid) FROM pg_database WHERE datname = %s",
            (template,),
        ).fetchone()
    assert row is not None
    info: dict[str, Any] = orjson.loads(row[0]) if row[0] else {}
    info["size_bytes"] = int(row[1])
    return info


def ensure_template(server: str, params: Params, *, reseed: bool) -> tuple[str, bool]:
    """The template database of ``params`` (seeded now when missing); whether it was seeded now."""
    name = TEMPLATE_PREFIX + params.key()
    if reseed:
        drop_database(server, name)
    if database_exists(server, name):
        return name, False
    building = f"{name}_building"
    drop_database(server, building)
    with admin_connection(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
        # One cached seed at a time: seeds of other parameters (or schemas) take disk space.
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s AND datname <> %s",
            (TEMPLATE_PREFIX.replace("_", "\\_") + "%", name, building),
        ).fetchall()
        for (old,) in stale:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(old)))
    info = asyncio.run(seed(with_database(server, building), params))
    with psycopg.connect(libpq(with_database(server, building)), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        info["vacuum_seconds"] = round(time.perf_counter() - started, 1)
    with admin_connection(server) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (building,))
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(orjson.dumps(info).decode())
            )
        )
    return name, True


# -- seeding --------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def concurrently(count: int, job: Callable[[int], Awaitable[object]], label: str) -> float:
    """Run ``job(0..count-1)`` on ``SEED_WRITERS`` concurrent writers; return the seconds taken."""
    numbers = iter(range(count))
    done = 0
    started = time.perf_counter()

    async def writer() -> None:
        nonlocal done
        for n in numbers:
            await job(n)
            done += 1
            if done % 1000 == 0:
                elapsed = time.perf_counter() - started
                log(f"  {label}: {done}/{count} ({done / elapsed:.0f}/s)")

    await asyncio.gather(*(writer() for _ in range(SEED_WRITERS)))
    return time.perf_counter() - started


async def wait_for_index(ctx: AppContext, tenant_id: uuid.UUID, expected: Mapping[str, int]) -> float:
    """Wait until the index applied every event of the tenant and holds ``expected`` rows per type."""
    status = runtime_of(ctx).status
    started = time.perf_counter()
    last_progress = (time.perf_counter(), -1)
    while True:
        entries = {entry.entity_type: entry for entry in await status.status(tenant_id)}
        pending = sum(entry.pending_events for entry in entries.values())
        documents = {t: entries[t].documents if t in entries else 0 for t in expected}
        if pending == 0 and documents == dict(expected):
            return time.perf_counter() - started
        now = time.perf_counter()
        if pending != last_progress[1]:
            last_progress = (now, pending)
            log(f"  index: {documents} of {dict(expected)}, {pending} events pending")
        elif now - last_progress[0] > 180:
            raise SystemExit(
                f"the index made no progress for 180 s ({pending} events pending, rows {documents}); "
                "see sys_events.last_error in the building database"
            )
        await asyncio.sleep(1)


async def seed(database_url: str, params: Params) -> dict[str, Any]:
    """Seed the storefront tenant through the services and the scale tenants through the index writer."""
    log(f"seeding {params.products} products and {params.posts} posts (a template is kept for later runs)")
    info: dict[str, Any] = {"seeded_at": datetime.now(UTC).isoformat(timespec="seconds")}
    platform = boot(bench_settings(), database_url=database_url)
    app = create_app(platform)
    ctx = platform.ctx
    async with app.router.lifespan_context(app):  # the outbox relay delivers to the index handler
        directory = ctx.services.get(TenantDirectory)
        tenant = await directory.create(slug=TENANT, name="Storefront bench", default_locale="en", locales=LOCALES)
        await ctx.state["auth.service"].create_user(
            tenant.id, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, verified=True, role="admin"
        )
        product_categories: dict[str, uuid.UUID] = {}
        for handle, (name, name_de) in PRODUCT_CATEGORIES.items():
            product_category = await ProductCategoryService(ctx).create(
                tenant,
                handle=handle,
                translations=[ProductCategoryText("en", name), ProductCategoryText("de", name_de)],
                actor_id=None,
            )
            product_categories[handle] = product_category.id
        blog_categories = []
        for slug, name, name_de in BLOG_CATEGORIES:
            category = await CategoryService(ctx).create(
                tenant,
                kind=CATEGORY_KIND,
                slug=slug,
                translations=[CategoryText("en", name), CategoryText("de", name_de)],
                actor_id=None,
            )
            blog_categories.append(category.id)

        products = ProductService(ctx)
        posts = PostService(ctx)
        seconds = await concurrently(
            params.products,
            lambda n: products.create(tenant, new_product(n, product_categories), actor_id=None),
            "products",
        )
        info["products_seconds"] = round(seconds, 1)
        seconds = await concurrently(
            params.posts, lambda n: posts.create(tenant, new_post(n, blog_categories), actor_id=None), "posts"
        )
        info["posts_seconds"] = round(seconds, 1)
        expected = {PRODUCT: params.products * len(LOCALES), CONTENT: params.posts * len(LOCALES)}
        info["index_drain_seconds"] = round(await wait_for_index(ctx, tenant.id, expected), 1)
        info["index_rows"] = expected

        if params.scale:
            started = time.perf_counter()
            info["scale_rows"] = await seed_scale_tenants(ctx, tenant, params.scale)
            info["scale_seconds"] = round(time.perf_counter() - started, 1)
    await ctx.db.dispose()
    info["method"] = (
        f"all {params.products} products and {params.posts} posts through ProductService.create / "
        f"PostService.create ({SEED_WRITERS} concurrent writers, outbox transport); index rows written by the "
        "index event handler from the owners' documents"
    )
    return info


async def seed_scale_tenants(ctx: AppContext, source: TenantContext, sizes: Sequence[int]) -> dict[str, int]:
    """Tenants with ``size`` products each: copies of commerce's documents of the seeded products."""
    runtime = runtime_of(ctx)
    directory = ctx.services.get(TenantDirectory)
    tenants = [
        await directory.create(
            slug=SCALE_TENANT.format(size=size), name=f"Scale {size}", locales=LOCALES, modules=["commerce"]
        )
        for size in sizes
    ]
    for tenant in tenants:  # enabling commerce rebuilds the (empty) product index: let it finish first
        await wait_for_index(ctx, tenant.id, {PRODUCT: 0})
    documents: dict[uuid.UUID, list[IndexDocument]] = {}
    async with ctx.db.session(source.id) as session:
        after: uuid.UUID | None = None
        while True:
            page = await runtime.owners.entity_ids(session, source.id, PRODUCT, after=after, limit=500)
            if not page:
                break
            _, found = await runtime.owners.documents(session, source.id, PRODUCT, page)
            for document in found:
                documents.setdefault(document.entity_id, []).append(document)
            after = page[-1]
    originals = list(documents.values())
    rows: dict[str, int] = {}
    for size, tenant in zip(sizes, tenants, strict=True):
        log(f"  scale tenant {tenant.slug}: writing {size} products through the index writer")
        written = 0
        for start in range(0, size, 500):
            ids: list[uuid.UUID] = []
            batch: list[IndexDocument] = []
            for n in range(start, min(size, start + 500)):
                copy, original = divmod(n, len(originals))
                product_id = generate_id()
                ids.append(product_id)
                for document in originals[original]:
                    assert isinstance(document, ProductDocument)
                    handle = document.handle if copy == 0 else f"{document.handle}-{copy}"
                    batch.append(dataclasses.replace(document, product_id=product_id, handle=handle))
            async with ctx.db.session(tenant.id) as session, session.begin():
                await lock_entities(session, tenant.id, PRODUCT, ids)
                result = await runtime.writer.write(session, tenant.id, PRODUCT, ids, batch, owner="commerce")
            written += result.written
        rows[tenant.slug] = written
    return rows


# -- search at the database -----------------------------------------------------------------------


@dataclass
class SearchTiming:
    tenant: str
    products: int
    contents: int
    runs: int
    statement_ms: list[float]
    call_ms: list[float]
    hits: list[int]


async def time_search(database_url: str, runs: int) -> tuple[list[SearchTiming], bool]:
    """p50/p99 of the storefront's search statement per tenant; also whether a GraphQL responder is installed."""
    platform = boot(bench_settings(**{"rustok.events.relay": False}), database_url=database_url, migrate=False)
    ctx = platform.ctx
    responder = _responder_installed(platform)
    statement_seconds: list[float] = []
    started_at: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        started_at[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        began = started_at.pop(id(cursor), None)
        if began is not None and "websearch_to_tsquery" in statement:
            statement_seconds.append(time.perf_counter() - began)

    engine = ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    queries = StorefrontQueries(ctx)
    timings: list[SearchTiming] = []
    try:
        async with ctx.db.engine.connect() as conn:
            counts = {
                slug: (int(products), int(contents))
                for slug, products, contents in (
                    await conn.execute(
                        text(
                            "SELECT t.slug, "
                            "(SELECT count(*) FROM index_products p WHERE p.tenant_id = t.id AND p.locale = 'en'), "
                            "(SELECT count(*) FROM index_content c WHERE c.tenant_id = t.id AND c.locale = 'en') "
                            "FROM tenants t WHERE t.slug LIKE 'bench%'"
                        )
                    )
                ).all()
            }
        slugs = sorted(counts, key=lambda s: (counts[s][0], s))
        for slug in slugs:
            tenant = await _tenant_by_slug(ctx, slug)
            scope = ReadScope(
                tenant_id=tenant.id,
                locale="en",
                fallback=tenant.default_locale,
                modules=tuple(sorted(tenant.enabled_modules)),
            )
            for n in range(10):  # warm the pool, the plan cache and the buffers
                await queries.search(scope, SEARCH_TERMS[n % len(SEARCH_TERMS)])
            statement_seconds.clear()
            calls: list[float] = []
            hits: list[int] = []
            for n in range(runs):
                began = time.perf_counter()
                page = await queries.search(scope, SEARCH_TERMS[n % len(SEARCH_TERMS)])
                calls.append(time.perf_counter() - began)
                hits.append(len(page.edges))
            if len(statement_seconds) != runs:
                raise SystemExit(f"expected one search statement per call, timed {len(statement_seconds)} for {runs}")
            timings.append(
                SearchTiming(
                    tenant=slug,
                    products=counts[slug][0],
                    contents=counts[slug][1],
                    runs=runs,
                    statement_ms=[s * 1000 for s in statement_seconds],
                    call_ms=[s * 1000 for s in calls],
                    hits=hits,
                )
            )
            log(
                f"  search {slug}: {counts[slug][0]} products, p50 {percentile(timings[-1].statement_ms, 0.5):.1f} ms, "
                f"p99 {percentile(timings[-1].statement_ms, 0.99):.1f} ms"
            )
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        await ctx.db.dispose()
    return timings, responder


async def _tenant_by_slug(ctx: AppContext, slug: str) -> TenantContext:
    resolver = ctx.services.get(TenantResolver)
    async with ctx.db.engine.connect() as conn:
        tenant_id = (await conn.execute(text("SELECT id FROM tenants WHERE slug = :s"), {"s": slug})).scalar_one()
    return await resolver.by_id(tenant_id)


def _responder_installed(platform: Platform) -> bool:
    from rustok_core import interfaces

    responder = getattr(interfaces, "GraphQLResponder", None)
    return responder is not None and platform.ctx.services.find(responder) is not None


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- settings of the response cache ---------------------------------------------------------------


def bool_settings(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Dotted paths of every boolean setting."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from bool_settings(annotation, (*prefix, name))
        elif annotation is bool:
            yield (*prefix, name)


def find_setting(word: str) -> str | None:
    """The boolean setting that switches ``word`` (``graphql.response_cache`` or ``….response_cache.enabled``)."""
    for path in bool_settings(Settings):
        if path[-1] == word or (word in path and path[-1] == "enabled"):
            return ".".join(path)
    return None


def nested(overrides: Mapping[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


# -- HTTP: the real server, the bare app and wrk --------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    query: str
    variables: dict[str, Any]

    def body(self) -> bytes:
        return orjson.dumps({"query": self.query, "variables": self.variables})


def cases(handle: str) -> list[Case]:
    return [
        Case(
            "catalog",
            "catalogProducts(first: 20)",
            "query Catalog($first: Int!, $locale: String) { catalogProducts(first: $first, locale: $locale) { "
            "edges { cursor node { id handle title subtitle thumbnail inStock prices { currency min max } "
            "categories { handle name } } } pageInfo { hasNextPage endCursor } } }",
            {"first": 20, "locale": "en"},
        ),
        Case(
            "product",
            "catalogProduct(handle)",
            "query Product($handle: String!, $locale: String) { catalogProduct(handle: $handle, locale: $locale) { "
            "id handle title subtitle description inStock totalStock prices { currency min max } "
            "categories { id handle name } tags seoTitle seoDescription thumbnail publishedAt extra } }",
            {"handle": handle, "locale": "en"},
        ),
        Case(
            "search",
            f'search("{SEARCH_QUERY}")',
            "query Search($query: String!, $locale: String, $first: Int!) { "
            "search(query: $query, locale: $locale, first: $first) { "
            "edges { cursor node { type id title handle kind rank highlight titleHighlight } } "
            "pageInfo { hasNextPage endCursor } didYouMean } }",
            {"query": SEARCH_QUERY, "locale": "en", "first": 20},
        ),
        Case(
            "feed",
            "contentFeed(first: 20)",
            'query Feed($first: Int!, $locale: String) { contentFeed(kind: "post", first: $first, locale: $locale) { '
            "edges { cursor node { id title slug excerpt bodyPreview publishedAt tags author { name } "
            "category { name slug } } } pageInfo { hasNextPage endCursor } } }",
            {"first": 20, "locale": "en"},
        ),
    ]


@dataclass(frozen=True)
class Phase:
    name: str
    label: str
    overrides: dict[str, Any]


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    problems: str | None = None


@dataclass
class Measurement:
    case: str
    phase: str
    graphql: WrkResult
    bare: WrkResult

    @property
    def ratio(self) -> float:
        return self.graphql.rps / self.bare.rps


LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency(out: str, label: str) -> float:
    found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no {label}% latency in wrk's output:\n{out}")
    return float(found.group(1)) * LATENCY_UNITS[found.group(2)]


def lua_script(directory: Path, case: Case, tenant: str) -> Path:
    body = case.body().decode()
    if "]==]" in body:
        raise SystemExit("the request body cannot be quoted for Lua")
    script = directory / f"{case.name}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-Tenant-ID"] = "{tenant}"\n'
        f"wrk.body = [==[{body}]==]\n"
    )
    return script


def wrk(url: str, script: Path, duration: float) -> WrkResult:
    args = [
        "taskset",
        "-c",
        str(LOAD_CORE),
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    problems = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=_latency(out, "50"),
        p99_ms=_latency(out, "99"),
        requests=int(total.group(1)),
        problems="; ".join(problems) or None,
    )


def server_environment(
    workdir: Path, overrides: Mapping[str, Any], database_url: str, redis_url: str | None
) -> dict[str, str]:
    config = workdir / "config"
    config.mkdir(exist_ok=True)
    settings = {
        "log_level": "warning",
        "rustok.rate_limit.enabled": False,
        "rustok.events.transport": "outbox",
        # At least the load's concurrency: with the default 10, the 16 concurrent requests keep
        # opening and closing overflow connections (measured: ~10% of the server's time), or wait
        # in the read pool's queue (16 tasks reading on 10 connections: ~51 µs of CPU a read, on 20: ~43).
        "database.pool_size": SERVER_POOL_SIZE,
        "database.read_pool_size": SERVER_POOL_SIZE,
        **overrides,
    }
    (config / "development.yaml").write_text(yaml.safe_dump(nested(settings)))
    env = environment_without_rustok(
        RUSTOK_CONFIG_DIR=str(config), RUSTOK_JWT_SECRET=JWT_SECRET, DATABASE_URL=database_url
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def post(base_url: str, body: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    response = httpx.post(
        f"{base_url}/graphql",
        content=body,
        headers={"Content-Type": "application/json", "X-Tenant-ID": TENANT, **(headers or {})},
        timeout=30,
    )
    if response.status_code != 200:
        raise SystemExit(f"{response.status_code} from /graphql: {response.text[:500]}")
    return response.content


def checked_payload(case: Case, raw: bytes) -> Any:
    """The parsed answer, refused when it carries errors or nothing to show."""
    payload = orjson.loads(raw)
    if payload.get("errors"):
        raise SystemExit(f"{case.label} answered errors: {payload['errors']}")
    data = payload["data"]
    root = next(iter(data.values()))
    if root is None or ("edges" in root and not root["edges"]):
        raise SystemExit(f"{case.label} answered nothing: {raw[:300]!r}")
    return payload


def metrics_excerpt(base_url: str) -> list[str]:
    """Lines of ``/metrics`` about the storefront's response cache and fast path (evidence of what answered)."""
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return [
        line
        for line in text.splitlines()
        if re.match(r"rustok_(storefront|response_cache|graphql_response)", line)
        and not re.match(r"\S+_created[{ ]", line)
    ]


# -- the bare Starlette app -----------------------------------------------------------------------


def serve_bare(payload_file: str, host: str, port: int, database_url: str | None = None) -> None:
    """Serve each case's answer from memory (orjson), as ``POST /<case>``; ``GET /health`` for readiness.

    With ``database_url``, also the calibration endpoints ``POST /sql/<name>``
    (:data:`CALIBRATIONS`), on the server's own read connections
    (:class:`~rustok_core.db.reads.ReadConnections`: autocommit, JSON decoded by orjson,
    ``SERVER_POOL_SIZE`` of them) with tuple rows, as the server's storefront reads run:
    one round trip alone, the indexed query of ``catalogProducts(first: 20)``, and the
    same query returning JSON built by PostgreSQL. No GraphQL, no tenant resolution, no
    shaping: what any Python server answering from the database per request pays, to
    read the server's cold shares against.
    """
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    payloads: dict[str, Any] = orjson.loads(Path(payload_file).read_bytes())

    def endpoint(payload: Any) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            await request.body()
            return Response(orjson.dumps(payload), media_type="application/json")

        return answer

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [Route(f"/{name}", endpoint(payload), methods=["POST"]) for name, payload in payloads.items()]
    lifespan = None
    if database_url:
        from contextlib import asynccontextmanager

        from psycopg.rows import tuple_row

        from rustok_core.db.reads import ReadConnections

        reads = ReadConnections(libpq(database_url), max_size=SERVER_POOL_SIZE)
        catalog_answer = orjson.dumps(payloads["catalog"])

        async def fetch(statement: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
            async with reads.connection() as conn:
                cursor = conn.read_cursor(tuple_row)  # the cursor the server's reads reuse
                await cursor.execute(statement, params)
                return await cursor.fetchall()

        async def round_trip(request: Request) -> Response:
            await request.body()
            await fetch("SELECT 1", {})
            return Response(catalog_answer, media_type="application/json")

        async def catalog(request: Request) -> Response:
            await request.body()
            rows = await fetch(CALIBRATION_SQL, {"tenant": request.headers["x-tenant-id"]})
            return Response(orjson.dumps({"data": rows}), media_type="application/json")

        async def catalog_json(request: Request) -> Response:
            await request.body()
            ((answer,),) = await fetch(CALIBRATION_JSON_SQL, {"tenant": request.headers["x-tenant-id"]})
            return Response(b'{"data":' + answer.encode() + b"}", media_type="application/json")

        @asynccontextmanager
        async def lifespan(_: Any) -> Any:
            await fetch("SELECT 1", {})  # open the pool before the first measured request
            yield
            await reads.close()

        calibrations = {"round-trip": round_trip, "catalog": catalog, "catalog-json": catalog_json}
        assert calibrations.keys() == {name for name, _ in CALIBRATIONS}
        routes += [Route(f"/sql/{name}", answer, methods=["POST"]) for name, answer in calibrations.items()]
    app = Starlette(routes=[*routes, Route("/health", health)], lifespan=lifespan)
    # As `rustok serve` does: this process imported the whole platform with the bench, and
    # full collections over that heap stall every request in flight (the calibration
    # endpoints allocate rows; seen as p99 ~80 ms).
    freeze_boot_heap()
    # The same uvicorn defaults as `rustok serve` (uvloop and httptools when installed).
    uvicorn.run(app, host=host, port=port, log_level="warning")


# -- where PostgreSQL runs ------------------------------------------------------------------------


@dataclass
class PostgresPinning:
    """PostgreSQL's processes on one core while the storefront is measured over HTTP.

    The calibration the storefront targets were set from ran the server on one core and
    PostgreSQL on the other (``docs/decisions/0011-storefront-benchmark-layout.md``). Unpinned, PostgreSQL's backends
    share the server's core and take their CPU out of the server's measured share (the
    bare app reads nothing, so it loses nothing). The postmaster and every process it has
    forked are pinned (backends forked later inherit the postmaster's affinity) for the
    storefront runs only, and given back their own affinity after each phase's runs: the
    search timings and the write→index lag run with PostgreSQL on both cores. Needs the
    server on this host and the rights to change its processes (root, or its owner). A
    bench killed outright (SIGKILL) leaves them pinned; ``for p in $(pgrep -f postgres);
    do taskset -acp 0-$(($(nproc)-1)) $p; done`` gives them every core again.
    """

    core: int | None
    """The core to pin to; ``None``: leave PostgreSQL alone."""
    postmaster: int | None = None
    refused: str | None = None
    """Why PostgreSQL could not be pinned (the runs then go on unpinned)."""

    @classmethod
    def find(cls, server: str, core: int | None) -> PostgresPinning:
        if core is None:
            return cls(None)
        try:
            with admin_connection(server) as conn:
                row = conn.execute("SELECT current_setting('data_directory')").fetchone()
            pid_file = Path(str(row[0]) if row else "") / "postmaster.pid"
            postmaster = int(pid_file.read_text().split()[0])
            os.sched_getaffinity(postmaster)
        except (psycopg.Error, OSError, ValueError, IndexError) as exc:
            return cls(core, refused=f"its processes were not found here ({type(exc).__name__}: {exc})")
        return cls(core, postmaster)

    def describe(self) -> str:
        if self.core is None:
            return "not pinned (shared by both cores; `--postgres-core none`)"
        if self.postmaster is None:
            return f"not pinned: {self.refused}"
        return (
            f"pinned to core {self.core} (with the load generator) during the storefront runs, the layout of the "
            "targets' calibration (docs/decisions/0011); on both cores for search at the database and the lag"
        )

    def _processes(self) -> list[int]:
        """The postmaster and its descendants (``/proc/<pid>/task/<tid>/children``)."""
        assert self.postmaster is not None
        found: list[int] = []
        todo = [self.postmaster]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    todo.extend(int(child) for child in task.read_text().split())
                except OSError:
                    continue  # the process exited meanwhile
        return found

    def _set(self, cores: set[int]) -> None:
        for pid in self._processes():
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    os.sched_setaffinity(int(task.name), cores)
                except (ProcessLookupError, FileNotFoundError):
                    continue

    @contextmanager
    def pinned(self) -> Iterator[None]:
        if self.core is None or self.postmaster is None:
            yield
            return
        original = os.sched_getaffinity(self.postmaster)
        try:
            self._set({self.core})
        except PermissionError as exc:
            with suppress(PermissionError):
                self._set(original)  # those changed before the refusal
            self.refused = f"not permitted to change its processes ({exc})"
            self.postmaster = None
            yield
            return
        try:
            yield
        finally:
            self._set(original)


# -- HTTP measurement -----------------------------------------------------------------------------


@dataclass
class HttpReport:
    phases: list[Phase]
    measurements: list[Measurement]
    sizes: dict[str, int]
    identical_bytes: dict[str, bool]
    mismatches: list[str]
    metrics: dict[str, list[str]]
    lag: LagReport | None = None
    calibrations: dict[str, Measurement] = field(default_factory=dict)
    """The bare app's ``/sql/<name>`` endpoints (:data:`CALIBRATIONS`) against the bare catalog answer."""


def measure_http(
    database_url: str,
    phases: Sequence[Phase],
    handle: str,
    args: argparse.Namespace,
    lag_targets: Sequence[tuple[uuid.UUID, uuid.UUID]],
    postgres: PostgresPinning,
) -> HttpReport:
    if not shutil.which("wrk") or not shutil.which("taskset"):
        raise SystemExit("needs wrk and taskset (apt-get install -y wrk util-linux)")
    report = HttpReport(list(phases), [], {}, {}, [], {})
    all_cases = cases(handle)
    with tempfile.TemporaryDirectory(prefix="rustok-bench-storefront-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        scripts = {case.name: lua_script(workdir, case, TENANT) for case in all_cases}
        payloads: dict[str, Any] = {}
        raws: dict[str, bytes] = {}
        bare_url: str | None = None
        for index, phase in enumerate(phases):
            phase_dir = workdir / phase.name
            phase_dir.mkdir()
            env = server_environment(phase_dir, phase.overrides, database_url, args.redis_url)
            command = ["taskset", "-c", str(SERVER_CORE), RUSTOK, "serve"]
            log(f"http: {phase.label}: starting rustok serve (1 worker, core {SERVER_CORE})")
            with running_server(command, cwd=phase_dir, env=env, log=phase_dir / "server.log") as server:
                server.wait_for("/health/ready", timeout=120)
                for case in all_cases:
                    raw = post(server.base_url, case.body())
                    payload = checked_payload(case, raw)
                    if case.name not in payloads:
                        payloads[case.name] = payload
                        raws[case.name] = raw
                        report.sizes[case.name] = len(raw)
                        report.identical_bytes[case.name] = orjson.dumps(payload) == raw
                    elif payload != payloads[case.name]:
                        report.mismatches.append(f"{case.label}: the {phase.label} answer differs from the first one")
                if bare_url is None:
                    payload_file = workdir / "payloads.json"
                    payload_file.write_bytes(orjson.dumps(payloads))
                    bare = stack.enter_context(
                        running_server(
                            [
                                "taskset",
                                "-c",
                                str(SERVER_CORE),
                                sys.executable,
                                __file__,
                                "--serve-bare",
                                str(payload_file),
                                "--bare-database-url",
                                database_url,
                            ],
                            cwd=workdir,
                            env=environment_without_rustok(),
                            log=workdir / "bare.log",
                        )
                    )
                    bare.wait_for("/health")
                    bare_url = bare.base_url
                with postgres.pinned():
                    for case in all_cases:
                        script = scripts[case.name]
                        wrk(f"{bare_url}/{case.name}", script, args.warmup)
                        bare_result = wrk(f"{bare_url}/{case.name}", script, args.duration)
                        wrk(f"{server.base_url}/graphql", script, args.warmup)
                        graphql_result = wrk(f"{server.base_url}/graphql", script, args.duration)
                        after = checked_payload(case, post(server.base_url, case.body()))
                        if after != payloads[case.name]:
                            report.mismatches.append(f"{case.label}: the answer changed under load ({phase.label})")
                        measurement = Measurement(case.name, phase.name, graphql_result, bare_result)
                        report.measurements.append(measurement)
                        if case.name == "catalog" and phase.name in ("cold", "no-cache"):
                            for name, label in CALIBRATIONS:
                                wrk(f"{bare_url}/sql/{name}", script, args.warmup)
                                calibration = Measurement(
                                    case.name,
                                    phase.name,
                                    wrk(f"{bare_url}/sql/{name}", script, args.duration),
                                    bare_result,
                                )
                                report.calibrations[name] = calibration
                                log(
                                    f"  calibration {name}: {calibration.graphql.rps:7.0f} req/s "
                                    f"({calibration.ratio:5.1%} of bare) — {label}"
                                )
                        log(
                            f"  {case.label:<28} graphql {graphql_result.rps:7.0f} req/s "
                            f"p50 {graphql_result.p50_ms:6.2f} p99 {graphql_result.p99_ms:6.2f} ms | "
                            f"bare {bare_result.rps:7.0f} req/s | "
                            f"{measurement.ratio:5.1%}"
                        )
                report.metrics[phase.name] = metrics_excerpt(server.base_url)
                if index == len(phases) - 1 and lag_targets:
                    log(f"lag: {args.lag_rate:g} price updates/s for {args.lag_seconds:g}s through GraphQL")
                    report.lag = asyncio.run(
                        measure_lag(server.base_url, database_url, lag_targets, args.lag_rate, args.lag_seconds)
                    )
    return report


# -- write → index lag ----------------------------------------------------------------------------


@dataclass
class LagReport:
    rate: float
    seconds: float
    sent: int
    seen: int
    lag_ms: list[float]
    write_ms: list[float]
    achieved_rate: float
    errors: list[str] = field(default_factory=list)


SET_PRICE = (
    "mutation Price($variant: UUID!, $amount: MinorUnits!) { "
    'setVariantPrices(variantId: $variant, currencyCode: "EUR", prices: [{amount: $amount}]) { id } }'
)


async def measure_lag(
    base_url: str, database_url: str, targets: Sequence[tuple[uuid.UUID, uuid.UUID]], rate: float, seconds: float
) -> LagReport:
    """Price updates at ``rate``/s; lag = first poll showing the new minimum price minus the 200 response."""
    count = int(rate * seconds)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=64)) as client:
        signed = await client.post(
            "/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken } }",
                "variables": {"e": ADMIN_EMAIL, "p": ADMIN_PASSWORD},
            },
            headers={"X-Tenant-ID": TENANT},
        )
        token = signed.json()["data"]["signIn"]["accessToken"]
        headers = {"X-Tenant-ID": TENANT, "Authorization": f"Bearer {token}"}
        async with await psycopg.AsyncConnection.connect(libpq(database_url), autocommit=True) as conn:
            found = await (await conn.execute("SELECT id FROM tenants WHERE slug = %s", (TENANT,))).fetchone()
            if found is None:
                raise SystemExit(f"no tenant {TENANT!r} in the benchmark database")
            tenant_id = found[0]
            # Cloning the template WAL-logs the whole database, and the checkpoint that follows is
            # spread over most of a minute: a short run (--phases, --duration) would measure beside it,
            # where the full run reaches this point long after. Finish it first (superusers only).
            try:
                await conn.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:
                log("lag: not a superuser, so no CHECKPOINT before measuring")
            answered: dict[uuid.UUID, tuple[int, float]] = {}
            """product → (expected EUR minimum, when the write's 200 arrived)."""
            lags: list[float] = []
            writes: list[float] = []
            errors: list[str] = []
            sent = 0
            started = time.perf_counter()

            async def write(n: int) -> None:
                nonlocal sent
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                product_id, variant_id = targets[n % len(targets)]
                amount = 1 + n % (LAG_PRICE_CEILING - 2)
                began = time.perf_counter()
                response = await client.post(
                    "/graphql",
                    json={"query": SET_PRICE, "variables": {"variant": str(variant_id), "amount": amount}},
                    headers=headers,
                )
                done = time.perf_counter()
                sent += 1
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    errors.append(f"{response.status_code}: {str(body)[:200]}")
                    return
                writes.append(done - began)
                answered[product_id] = (amount, done)

            writers = asyncio.gather(*(write(n) for n in range(count)))
            last_seen = time.perf_counter()
            while not writers.done() or answered:
                polled = time.perf_counter()
                if answered:
                    # Only the products still awaited: a poll that returned every lowered price so far
                    # (up to one per write) kept a database backend and this loop busy, beside the server.
                    rows = await (
                        await conn.execute(
                            "SELECT product_id, min_price FROM index_product_prices "
                            "WHERE tenant_id = %s AND locale = 'en' AND currency = 'EUR' AND min_price < %s "
                            "AND product_id = ANY(%s)",
                            (tenant_id, LAG_PRICE_CEILING, list(answered)),
                        )
                    ).fetchall()
                    for product_id, price in rows:
                        expected = answered.get(product_id)
                        if expected is not None and expected[0] == price:
                            lags.append(polled - expected[1])
                            del answered[product_id]
                            last_seen = polled
                    if writers.done() and time.perf_counter() - last_seen > 30:
                        errors.append(f"{len(answered)} price changes not visible in the index after 30 s")
                        break
                await asyncio.sleep(0.001)
            await writers
            elapsed = time.perf_counter() - started
    return LagReport(
        rate=rate,
        seconds=seconds,
        sent=sent,
        seen=len(lags),
        lag_ms=[s * 1000 for s in lags],
        write_ms=[s * 1000 for s in writes],
        achieved_rate=count / max(elapsed, 1e-9),
        errors=errors,
    )


def lag_targets(database_url: str, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(product, its first variant) of ``count`` active products of the storefront tenant."""
    with psycopg.connect(libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (v.product_id) v.product_id, v.id FROM commerce_variants v "
            "JOIN tenants t ON t.id = v.tenant_id WHERE t.slug = %s "
            "ORDER BY v.product_id, v.position LIMIT %s",
            (TENANT, count),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def product_handle(database_url: str) -> str:
    with psycopg.connect(libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT p.handle FROM index_products p JOIN tenants t ON t.id = p.tenant_id "
            "WHERE t.slug = %s AND p.locale = 'en' ORDER BY p.product_id OFFSET 1000 LIMIT 1",
            (TENANT,),
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT p.handle FROM index_products p JOIN tenants t ON t.id = p.tenant_id "
                "WHERE t.slug = %s AND p.locale = 'en' LIMIT 1",
                (TENANT,),
            ).fetchone()
    if row is None:
        raise SystemExit("the storefront tenant has no indexed products")
    return str(row[0])


# -- the report -----------------------------------------------------------------------------------


@dataclass
class Machine:
    cpu: str
    cores: int
    memory_gb: float
    kernel: str
    python: str
    postgres: str
    wrk: str
    commit: str
    dirty_files: int
    load_before: tuple[float, float, float]
    postgres_layout: str = "not pinned (shared by both cores)"
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def machine_info(server: str) -> Machine:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    with admin_connection(server) as conn:
        row = conn.execute("SELECT version()").fetchone()
    postgres = str(row[0]).split(" on ")[0] if row else "unknown"
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()
    root = BENCH_DIR.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    status = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain"], cwd=root, capture_output=True, text=True
    )
    return Machine(
        cpu=cpu,
        cores=os.cpu_count() or 0,
        memory_gb=round(memory_kb / 1024 / 1024, 1),
        kernel=machine.release(),
        python=machine.python_version(),
        postgres=postgres,
        wrk=wrk_version[0].split(" [")[0] if wrk_version else "unknown",
        commit=commit.stdout.strip() or "unknown",
        dirty_files=len([line for line in status.stdout.splitlines() if line.strip()]),
        load_before=os.getloadavg(),
    )


def fmt_ms(values: Sequence[float], q: float) -> str:
    return f"{percentile(values, q):.1f}" if values else "n/a"


def partial_run(args: argparse.Namespace, http: HttpReport | None) -> str:
    """`` (… only)`` naming the parts a run left out of the full benchmark, for the title."""
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    ran = [] if "search" in skip else ["search at the database"]
    if http is not None:
        ran.append("HTTP phases " + ", ".join(phase.name for phase in http.phases))
    if "http" not in skip and "lag" not in skip:
        ran.append("write → index lag")
    if not skip and not args.phases:
        return ""
    return " (" + "; ".join(ran) + " only)" if ran else " (seed only)"


def render(
    *,
    args: argparse.Namespace,
    params: Params,
    host: Machine,
    seed_info: Mapping[str, Any],
    seeded_now: bool,
    clone_seconds: float,
    cache_setting: str | None,
    fast_path_setting: str | None,
    responder: bool | None,
    search: Sequence[SearchTiming],
    http: HttpReport | None,
    started: datetime,
) -> str:
    lines: list[str] = []
    add = lines.append
    add(f"# Storefront benchmark, {started:%Y-%m-%d %H:%M} UTC{partial_run(args, http)}")
    add("")
    add("Produced by `uv run python bench/storefront.py` (see its docstring for what each part does).")
    add("")
    if args.note:
        add(f"> **Note.** {args.note}")
        add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {host.cpu}, {host.cores} cores |")
    add(f"| memory | {host.memory_gb} GB |")
    add(f"| kernel / Python | {host.kernel} / {host.python} |")
    add(f"| PostgreSQL | {host.postgres}, same host, {host.postgres_layout} |")
    add(f"| load generator | {host.wrk}, 1 thread, {CONNECTIONS} connections, core {LOAD_CORE} |")
    add(
        f"| server | `rustok serve`, 1 uvicorn worker, core {SERVER_CORE}, `database.pool_size: {SERVER_POOL_SIZE}`, "
        "rate limit off, `development` environment |"
    )
    add(f"| bare app | Starlette on uvicorn (same defaults: uvloop, httptools), core {SERVER_CORE} |")
    add(
        f"| code | commit `{host.commit}`"
        + (f" plus {host.dirty_files} uncommitted files in the working tree" if host.dirty_files else "")
        + " |"
    )
    add(
        f"| load average (1/5/15 min) | before {'/'.join(f'{x:.2f}' for x in host.load_before)}, "
        f"after {'/'.join(f'{x:.2f}' for x in host.load_after)} |"
    )
    add("")
    add("## Parameters and data")
    add("")
    add(
        f"- `--products {params.products} --posts {params.posts} --duration {args.duration:g} "
        f"--scale {','.join(str(s) for s in params.scale)} --lag-rate {args.lag_rate:g} "
        f"--lag-seconds {args.lag_seconds:g}`"
        f" (+ {args.warmup:g} s of warm-up before every measured wrk run)"
    )
    add(f"- Tenant `{TENANT}`, locales {', '.join(LOCALES)} (default `en`); every read asks for `en`.")
    add(f"- Seeding: {seed_info.get('method', 'unknown')}.")
    add(
        f"  Took {seed_info.get('products_seconds', '?')} s for the products, {seed_info.get('posts_seconds', '?')} s "
        f"for the posts, {seed_info.get('index_drain_seconds', '?')} s more until the index had applied every event; "
        f"index rows: {seed_info.get('index_rows', '?')}."
    )
    if params.scale:
        add(
            f"- Search-scale tenants: {seed_info.get('scale_rows', '?')} index rows (copies of commerce's documents "
            f"of the seeded products under new ids and handles, written by `IndexWriter`; "
            f"{seed_info.get('scale_seconds', '?')} s)."
        )
    size = seed_info.get("size_bytes")
    add(
        f"- {'Seeded in this run' if seeded_now else 'Seed reused from the template database'} "
        f"(seeded {seed_info.get('seeded_at', '?')}"
        + (f", {size / 1024**3:.2f} GB" if isinstance(size, int) else "")
        + f"); cloned into `{RUN_DATABASE}` in {clone_seconds:.1f} s."
    )
    add(
        f"- Response cache setting: {f'`{cache_setting}`' if cache_setting else 'none found in the settings model'}; "
        f"fast path setting: {f'`{fast_path_setting}`' if fast_path_setting else 'none found'}; "
        "a GraphQL responder (cache / fast path) is "
        + {True: "installed", False: "not installed", None: "not looked for (search skipped)"}[responder]
        + " in this build."
    )
    add("")
    if http is not None:
        add("## Storefront queries over HTTP")
        add("")
        add(
            "Each GraphQL run is next to a run of the bare Starlette app on the same core answering the same POST "
            "with the exact JSON the server returned (from memory, `orjson.dumps` per request); the share is "
            "GraphQL req/s ÷ that bare req/s. Latencies are wrk's (closed loop, "
            f"{CONNECTIONS} connections)."
        )
        add("")
        add("| phase | server settings |")
        add("|---|---|")
        for phase in http.phases:
            settings = ", ".join(f"`{k}: {str(v).lower()}`" for k, v in phase.overrides.items()) or "defaults"
            add(f"| {phase.label} | {settings} |")
        add("")
        add("| query | phase | req/s | p50 ms | p99 ms | bare req/s | bare p50 / p99 ms | share of bare | target |")
        add("|---|---|---:|---:|---:|---:|---:|---:|---|")
        labels = {case.name: case.label for case in cases("x")}
        phase_labels = {phase.name: phase.label for phase in http.phases}
        for m in http.measurements:
            target = ""
            if m.phase == "warm":
                target = "≥ 50%: " + ("met" if m.ratio >= 0.5 else "not met")
            elif m.phase == "cold" and m.case == "catalog":
                target = "≥ 25%: " + ("met" if m.ratio >= 0.25 else "not met")
            elif m.phase == "no-cache":
                target = ("≥ 25% (cold): " + ("met" if m.ratio >= 0.25 else "not met")) if m.case == "catalog" else ""
            problems = f" ({m.graphql.problems})" if m.graphql.problems else ""
            add(
                f"| {labels[m.case]} | {phase_labels[m.phase]} | {m.graphql.rps:,.0f}{problems} | "
                f"{m.graphql.p50_ms:.2f} | {m.graphql.p99_ms:.2f} | {m.bare.rps:,.0f} | "
                f"{m.bare.p50_ms:.2f} / {m.bare.p99_ms:.2f} | "
                f"{m.ratio:.1%} | {target} |"
            )
        if http.calibrations:
            add("")
            add(
                "Calibration, same run: the bare Starlette app (same core, same uvicorn) reading the database on "
                "the server's own read connections (psycopg pool, autocommit, orjson JSON loaders, tuple rows), "
                "with no GraphQL, tenant resolution or shaping — what a Python server that reads the database per "
                "request pays on this machine, to read the cold shares against:"
            )
            add("")
            add("| calibration endpoint | req/s | p50 ms | p99 ms | share of bare |")
            add("|---|---|---|---|---|")
            for name, label in CALIBRATIONS:
                c = http.calibrations.get(name)
                if c is not None:
                    add(
                        f"| {label} | {c.graphql.rps:,.0f} | {c.graphql.p50_ms:.2f} | {c.graphql.p99_ms:.2f} | "
                        f"{c.ratio:.1%} |"
                    )
        add("")
        add(
            "Response sizes: "
            + ", ".join(f"{labels[k]} {v:,} bytes" for k, v in http.sizes.items())
            + ". "
            + (
                "The bare app's bytes are identical to the server's."
                if all(http.identical_bytes.values())
                else "Not byte-identical after orjson re-serialization: "
                + ", ".join(k for k, same in http.identical_bytes.items() if not same)
                + "."
            )
        )
        if http.mismatches:
            add("")
            add("**Answers that differed between phases (a correctness problem to look at):**")
            for mismatch in http.mismatches:
                add(f"- {mismatch}")
        evidence = {name: lines_ for name, lines_ in http.metrics.items() if lines_}
        if evidence:
            add("")
            add("`/metrics` after each phase (cache / fast-path lines):")
            add("")
            add("```")
            for name, metric_lines in evidence.items():
                add(f"# {name}")
                lines.extend(metric_lines[:20])
            add("```")
        add("")
        if http.lag is not None:
            lag = http.lag
            add("## Write → index lag (outbox transport)")
            add("")
            add(
                f"`setVariantPrices` (EUR base price of one variant, a new minimum for its product) through GraphQL "
                f"as an admin, open loop at {lag.rate:g}/s for {lag.seconds:g} s on distinct products, against the "
                "server of the last phase (its own relay delivers to the index handler), after a `CHECKPOINT` "
                "(the one the database clone set off would otherwise overlap short runs). Lag = the first poll of "
                "`index_product_prices` (this process, a loop about every millisecond) that shows the new price minus "
                "the arrival of the write's 200 response; it is an upper bound by one poll interval."
            )
            add("")
            add(
                "| writes sent | seen in the index | achieved rate | lag p50 | lag p99 | lag max "
                "| write p50 | write p99 | target |"
            )
            add("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            met = "met" if lag.lag_ms and percentile(lag.lag_ms, 0.99) < 100 and lag.seen == lag.sent else "not met"
            add(
                f"| {lag.sent} | {lag.seen} | {lag.achieved_rate:.1f}/s | {fmt_ms(lag.lag_ms, 0.5)} ms | "
                f"{fmt_ms(lag.lag_ms, 0.99)} ms | {max(lag.lag_ms):.1f} ms | {fmt_ms(lag.write_ms, 0.5)} ms | "
                f"{fmt_ms(lag.write_ms, 0.99)} ms | p99 < 100 ms: {met} |"
                if lag.lag_ms
                else f"| {lag.sent} | 0 | n/a | n/a | n/a | n/a | n/a | n/a | not met |"
            )
            for error in lag.errors[:10]:
                add(f"- error: {error}")
            add("")
    if search:
        add("## Search at the database")
        add("")
        add(
            "`StorefrontQueries.search` of `rustok_index` (the statement the GraphQL `search` runs: products and "
            "content, ranked, highlighted, first 20), called in process; *statement* is the cursor execute of that "
            "one statement (round trip to PostgreSQL on loopback, rows fetched), *call* adds the session and the "
            f"row shaping. Two-word queries, cycling through {', '.join(f'`{t}`' for t in SEARCH_TERMS)}; "
            f"10 warm-up calls, then {search[0].runs} measured per tenant."
        )
        add("")
        add(
            "| tenant | products (en rows) | content (en rows) | statement p50 | statement p99 | call p50 | call p99 "
            "| hits per page (mean) | target |"
        )
        add("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for timing in search:
            target = ""
            if timing.products >= 100_000:
                target = "p99 < 30 ms: " + ("met" if percentile(timing.statement_ms, 0.99) < 30 else "not met")
            add(
                f"| `{timing.tenant}` | {timing.products:,} | {timing.contents:,} | "
                f"{fmt_ms(timing.statement_ms, 0.5)} ms | {fmt_ms(timing.statement_ms, 0.99)} ms | "
                f"{fmt_ms(timing.call_ms, 0.5)} ms | "
                f"{fmt_ms(timing.call_ms, 0.99)} ms | {statistics.mean(timing.hits):.1f} | {target} |"
            )
        add("")
    return "\n".join(lines).rstrip() + "\n"


RESULT_NAME = re.compile(r"^(?P<stem>.+?-\d{4}-\d{2}-\d{2})(?:-(?P<run>\d+))?\.md\Z")


def new_result_path(started: datetime) -> Path:
    """``bench/results/storefront-<date>.md``, or ``-2``, ``-3``… when that day already has results."""
    stem = f"storefront-{started:%Y-%m-%d}"
    path = RESULTS_DIR / f"{stem}.md"
    run = 1
    while path.exists():
        run += 1
        path = RESULTS_DIR / f"{stem}-{run}.md"
    return path


def _result_order(path: Path) -> tuple[str, int]:
    """A day's runs in the order they were written (``<day>.md``, then ``<day>-2.md``…)."""
    found = RESULT_NAME.match(path.name)
    if found is None:
        return (path.stem, 0)
    return (found["stem"], int(found["run"] or 1))


def update_results_index() -> None:
    """``bench/results/README.md``: every result file, newest first, with its title."""
    entries = []
    for path in sorted(RESULTS_DIR.glob("*.md"), key=_result_order, reverse=True):
        if path.name == "README.md":
            continue
        title = path.read_text().splitlines()[0].lstrip("# ").strip()
        entries.append(f"- [{path.name}]({path.name}) — {title}")
    (RESULTS_DIR / "README.md").write_text(
        "# Benchmark results\n\n"
        "Written by the scripts in `bench/` (not part of the test suite). Each file names the machine, the "
        "parameters and how busy the machine was; compare numbers only within one file (every ratio is against a "
        "bare endpoint measured in the same run).\n\n" + "\n".join(entries) + "\n"
    )


# -- main -----------------------------------------------------------------------------------------


def selected_phases(phases: Sequence[Phase], names: str) -> list[Phase]:
    """The phases named in ``--phases`` (in their usual order), or all of them when none is named.

    Picking one phase gets to the lag measurement (which runs on the last phase's server) in a minute
    instead of a quarter of an hour.
    """
    wanted = {name.strip() for name in names.split(",") if name.strip()}
    if not wanted:
        return list(phases)
    known = {phase.name for phase in phases}
    if not wanted <= known:
        raise SystemExit(f"--phases takes {', '.join(sorted(known))}; not {', '.join(sorted(wanted - known))}")
    return [phase for phase in phases if phase.name in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RUSTOK_BENCH_DATABASE_URL"),
        help="a PostgreSQL server (the database part is ignored; default: embedded under var/bench-pg)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk before each measured run")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument(
        "--scale", default="1000,10000,100000", help="catalogue sizes for search at the database ('' for none)"
    )
    parser.add_argument("--search-runs", type=int, default=400, help="measured search calls per tenant")
    parser.add_argument("--lag-rate", type=float, default=50.0, help="price updates per second")
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument("--redis-url", help="give the server Redis (shared cache); default: in-process caches only")
    parser.add_argument("--reseed", action="store_true", help="seed again even when a template exists")
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: search, http, lag")
    parser.add_argument(
        "--phases",
        default="",
        help=(
            "comma-separated HTTP phases to run (cold-no-fast-path, cold-no-rendered-rows, cold, warm; "
            "default all); lag runs in the last"
        ),
    )
    parser.add_argument(
        "--postgres-core",
        default=str(LOAD_CORE),
        choices=(str(LOAD_CORE), "none"),
        help=f"core PostgreSQL runs on during the storefront runs (default {LOAD_CORE}: the layout of the targets' "
        "calibration, docs/decisions/0011); 'none' leaves it on both cores",
    )
    parser.add_argument("--note", default="", help="a remark for the results file (e.g. how busy the machine was)")
    parser.add_argument("--output", help="results file (default bench/results/storefront-<date>.md)")
    parser.add_argument("--serve-bare", help=argparse.SUPPRESS)
    parser.add_argument("--bare-database-url", help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.host, args.port, args.bare_database_url)
        return
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    if not skip <= {"search", "http", "lag"}:
        raise SystemExit(f"--skip takes search, http, lag; not {', '.join(sorted(skip - {'search', 'http', 'lag'}))}")
    if not all(float(seconds).is_integer() and seconds >= 1 for seconds in (args.duration, args.warmup)):
        raise SystemExit("--duration and --warmup are whole seconds (wrk takes no fractions)")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs two cores (server on one, load generator on the other)")
    os.environ.pop("DATABASE_URL", None)
    started = datetime.now(UTC)

    if args.database_url:
        server = with_database(args.database_url, "postgres")
    else:
        from rustok_core.embedded import start_embedded_postgres

        server = start_embedded_postgres(BENCH_DIR.parent / "var" / "bench-pg", database="postgres")
    params = Params(
        products=args.products,
        posts=args.posts,
        scale=tuple(int(s) for s in args.scale.split(",") if s.strip()),
    )
    host = machine_info(server)
    postgres = PostgresPinning.find(server, None if args.postgres_core == "none" else int(args.postgres_core))
    if postgres.refused:
        log(f"PostgreSQL stays unpinned: {postgres.refused}")
    template, seeded_now = ensure_template(server, params, reseed=args.reseed)
    seed_info = template_info(server, template)
    clone_seconds = clone_database(server, template, RUN_DATABASE)
    database_url = with_database(server, RUN_DATABASE)
    log(f"cloned {template} into {RUN_DATABASE} in {clone_seconds:.1f}s")

    # Everything this process measures from here runs on the load generator's core.
    os.sched_setaffinity(0, {LOAD_CORE})
    cache_setting = find_setting("response_cache")
    fast_path_setting = find_setting("fast_path")
    search: list[SearchTiming] = []
    responder: bool | None = None
    if "search" not in skip:
        search, responder = asyncio.run(time_search(database_url, args.search_runs))
    http: HttpReport | None = None
    if "http" not in skip:
        if cache_setting is not None:
            phases = []
            if fast_path_setting is not None:
                phases.append(
                    Phase(
                        "cold-no-fast-path",
                        "cold, fast path off",
                        {cache_setting: False, fast_path_setting: False},
                    )
                )
            phases.append(
                Phase(
                    "cold-no-rendered-rows",
                    "cold, rendered rows off",
                    {cache_setting: False, "graphql.rendered_rows": 0},
                )
            )
            phases.append(Phase("cold", "cold (response cache off)", {cache_setting: False}))
            phases.append(Phase("warm", "warm (response cache on)", {cache_setting: True}))
        else:
            phases = [Phase("no-cache", "no response cache (every request executes)", {})]
        phases = selected_phases(phases, args.phases)
        targets = [] if "lag" in skip else lag_targets(database_url, int(args.lag_rate * args.lag_seconds))
        http = measure_http(database_url, phases, product_handle(database_url), args, targets, postgres)
    host.load_after = os.getloadavg()
    host.postgres_layout = postgres.describe() if http is not None else "not pinned (no storefront runs)"

    text = render(
        args=args,
        params=params,
        host=host,
        seed_info=seed_info,
        seeded_now=seeded_now,
        clone_seconds=clone_seconds,
        cache_setting=cache_setting,
        fast_path_setting=fast_path_setting,
        responder=responder,
        search=search,
        http=http,
        started=started,
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    output = Path(args.output) if args.output else new_result_path(started)
    output.write_text(text)
    if output.resolve().parent == RESULTS_DIR.resolve():
        update_results_index()
    print(text)
    print(f"written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
