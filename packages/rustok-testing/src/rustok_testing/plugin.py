"""Fixtures for RusToK tests (registered through the ``pytest11`` entry point).

Session scope:
    ``rustok_pg_url``        admin URL of the test PostgreSQL (embedded or CI's)
    ``rustok_registry``      every installed module
    ``rustok_template``      template database migrated for ``rustok_registry``

Module scope (one database per test module):
    ``rustok_database_url``  a fresh database copied from the template
    ``rustok_platform``      the platform booted on it with every installed module
    ``rustok_app``           its Starlette app, lifespan started
    ``rustok_client``        a :class:`RustokClient` for the app

Function scope:
    ``make_tenant``          creates tenants with unique slugs
    ``boot_platform``        boots extra platforms (chosen modules, settings overrides)
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from rustok_core.context import TenantContext
from rustok_core.interfaces import TenantDirectory
from rustok_core.registry import ModuleRegistry
from rustok_core.settings import Settings
from rustok_server.app import create_app
from rustok_server.boot import Platform, boot
from rustok_testing import postgres
from rustok_testing.client import RustokClient

TEST_JWT_SECRET = "rustok-tests-only-signing-key-0123456789abcdef"


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings for tests: defaults of the ``test`` environment plus dotted overrides.

    Mail and media go to files under temporary directories, and shared cache keys get a
    prefix of their own, unless overridden (two "instances" of one test pass the same
    ``cache.key_prefix``).
    """
    base = {
        "auth.jwt_secret": TEST_JWT_SECRET,
        "mail.directory": _temporary_dir("mail"),
        "media.directory": _temporary_dir("media"),
        "cache.key_prefix": f"rustok-test-{secrets.token_hex(4)}",
        # Real argon2id at its cheapest cost: the same code paths, a fast suite.
        "auth.argon2_time_cost": 1,
        "auth.argon2_memory_kib": 8,
        "auth.argon2_parallelism": 1,
    }
    return Settings(env="test").with_overrides({**base, **overrides})


def _temporary_dir(purpose: str) -> str:
    import tempfile

    return str(Path(tempfile.gettempdir()) / f"rustok-test-{purpose}-{secrets.token_hex(4)}")


@pytest.fixture(scope="session")
def rustok_var_dir(request: pytest.FixtureRequest) -> Path:
    path = Path(request.config.rootpath) / "var"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def rustok_pg_url(rustok_var_dir: Path) -> str:
    url = postgres.server_url(rustok_var_dir)
    try:
        with postgres.admin_connection(url) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        pytest.fail(f"test PostgreSQL at {url} is not reachable: {exc}")
    return url


@pytest.fixture(scope="session")
def rustok_registry() -> ModuleRegistry:
    return ModuleRegistry.from_entry_points()


@pytest.fixture(scope="session")
def rustok_template(rustok_pg_url: str, rustok_registry: ModuleRegistry) -> str:
    return postgres.ensure_template(rustok_pg_url, rustok_registry)


@pytest.fixture(scope="module")
def rustok_database_url(rustok_pg_url: str, rustok_template: str) -> Iterator[str]:
    name = postgres.create_database(rustok_pg_url, template=rustok_template)
    yield postgres.with_database(rustok_pg_url, name)
    postgres.drop_database(rustok_pg_url, name)


@pytest.fixture(scope="module")
async def rustok_platform(rustok_database_url: str, rustok_registry: ModuleRegistry) -> AsyncIterator[Platform]:
    platform = boot(settings_for_tests(), registry=rustok_registry, manifest=None, database_url=rustok_database_url)
    yield platform
    await platform.ctx.db.dispose()


@pytest.fixture(scope="module")
async def rustok_app(rustok_platform: Platform) -> AsyncIterator[Starlette]:
    app = create_app(rustok_platform)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def rustok_client(rustok_app: Starlette) -> AsyncIterator[RustokClient]:
    platform: Platform = rustok_app.state.platform
    async with RustokClient(rustok_app, tenant_header=platform.settings.rustok.tenant.header_name) as client:
        yield client


MakeTenant = Callable[..., Awaitable[TenantContext]]


@pytest.fixture
def make_tenant(rustok_platform: Platform) -> MakeTenant:
    """``await make_tenant(modules=[...], slug=..., name=...)`` creates a tenant."""

    async def create(
        *,
        slug: str | None = None,
        name: str | None = None,
        modules: Iterable[str] | None = None,
        platform: Platform | None = None,
        **kwargs: Any,
    ) -> TenantContext:
        target = platform or rustok_platform
        slug = slug or f"t-{secrets.token_hex(4)}"
        directory = target.ctx.services.get(TenantDirectory)
        return await directory.create(slug=slug, name=name or slug.title(), modules=modules, **kwargs)

    return create


@dataclass
class SignedInUser:
    """A user created for a test, signed in: use ``headers`` on requests."""

    id: uuid.UUID
    email: str
    password: str
    tenant: TenantContext
    access_token: str
    refresh_token: str
    tenant_header: str = "X-Tenant-ID"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", self.tenant_header: self.tenant.slug}


MakeUser = Callable[..., Awaitable[SignedInUser]]
DEFAULT_TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(rustok_platform: Platform) -> MakeUser:
    """``await make_user(tenant, role="admin")`` creates a verified user and signs it in."""

    async def create(
        tenant: TenantContext,
        *,
        role: str | None = "admin",
        email: str | None = None,
        password: str = DEFAULT_TEST_PASSWORD,
        platform: Platform | None = None,
    ) -> SignedInUser:
        target = platform or rustok_platform
        auth = target.ctx.state["auth.service"]
        address = email or f"user-{secrets.token_hex(4)}@example.com"
        user = await auth.create_user(tenant.id, email=address, password=password, verified=True, role=role)
        signed = await auth.sign_in(tenant, email=address, password=password, ip=None, user_agent="pytest")
        return SignedInUser(
            id=user.id,
            email=user.email,
            password=password,
            tenant=tenant,
            access_token=signed.access_token,
            refresh_token=signed.refresh_token,
            tenant_header=target.settings.rustok.tenant.header_name,
        )

    return create


BootPlatform = Callable[..., Platform]


@pytest.fixture(scope="module")
async def boot_platform(rustok_database_url: str) -> AsyncIterator[BootPlatform]:
    """Boot another platform on the module's database: ``boot_platform(plugins=[...], **settings)``."""
    booted: list[Platform] = []

    def make(
        *,
        plugins: Iterable[object] | None = None,
        modules: Iterable[str] | None = None,
        database_url: str | None = None,
        **overrides: Any,
    ) -> Platform:
        if plugins is not None:
            registry = ModuleRegistry.from_plugins(plugins)
        else:
            registry = ModuleRegistry.from_entry_points(only=modules)
        platform = boot(
            settings_for_tests(**overrides),
            registry=registry,
            manifest=None,
            database_url=database_url or rustok_database_url,
            # The module's database is migrated for every installed module; a chosen
            # subset finds its schema there (and more), so it must not migrate it.
            migrate=None if database_url else False,
        )
        booted.append(platform)
        return platform

    yield make
    for platform in booted:
        await platform.ctx.db.dispose()


@pytest.fixture
def installed_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the ``rustok`` CLI accept the modules this environment installed.

    The CLI checks the installed modules against ``modules.toml``; a package's own test
    environment (CI's per-package runs) installs only that package and its dependencies,
    fewer than the workspace lists. With this fixture the CLI expects what is installed.
    """
    from rustok_server.manifest import ManifestEntry, ManifestMismatch, check_manifest, expected_modules

    registry = ModuleRegistry.from_entry_points()
    try:
        check_manifest(registry, expected_modules())
    except ManifestMismatch:
        installed = tuple(
            ManifestEntry(m.slug, m.distribution or m.slug, m.info.is_core, tuple(m.info.dependencies))
            for m in registry
        )
        monkeypatch.setattr("rustok_server.boot.expected_modules", lambda: installed)
