"""The module registry: plugins → validated modules in dependency order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.errors import BootError
from rustok_core.permissions import Permission
from rustok_core.registry import (
    LoadedModule,
    ModuleRegistry,
    ModuleRegistryError,
    check_dependency_graph,
)


class FakeModule:
    """The smallest module: only the mandatory ``rustok_module`` hook."""

    def __init__(self, slug: str, *dependencies: str, kind: ModuleKind = ModuleKind.OPTIONAL) -> None:
        self.info = ModuleInfo(slug=slug, name=slug.title(), version="1.0", kind=kind, dependencies=dependencies)

    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return self.info


def registry_of(*plugins: object) -> ModuleRegistry:
    return ModuleRegistry.from_plugins(plugins)


# --- ordering -----------------------------------------------------------------------


def test_modules_are_ordered_dependencies_first() -> None:
    registry = registry_of(
        FakeModule("shop", "catalog", "pricing"), FakeModule("pricing", "catalog"), FakeModule("catalog")
    )
    assert registry.slugs.index("catalog") < registry.slugs.index("pricing") < registry.slugs.index("shop")


def test_order_is_deterministic_whatever_the_plugin_order() -> None:
    def modules() -> list[FakeModule]:
        return [FakeModule("cc", "aa", "bb"), FakeModule("dd"), FakeModule("bb", "aa"), FakeModule("aa")]

    orders = {registry_of(*perm).slugs for perm in itertools.permutations(modules())}
    assert len(orders) == 1
    (order,) = orders
    assert sorted(order) == ["aa", "bb", "cc", "dd"]
    for module in modules():
        for dependency in module.info.dependencies:
            assert order.index(dependency) < order.index(module.info.slug)


def test_independent_modules_come_in_alphabetical_order() -> None:
    assert registry_of(FakeModule("zeta"), FakeModule("alpha"), FakeModule("mu")).slugs == ("alpha", "mu", "zeta")


def test_core_modules_come_first_among_modules_ready_at_the_same_time() -> None:
    registry = registry_of(
        FakeModule("blog"),
        FakeModule("zz_platform", kind=ModuleKind.CORE),
        FakeModule("comments", "blog"),
        FakeModule("tenant", kind=ModuleKind.CORE),
    )
    assert registry.slugs == ("tenant", "zz_platform", "blog", "comments")


def test_missing_dependency_names_both_modules() -> None:
    with pytest.raises(ModuleRegistryError) as caught:
        registry_of(FakeModule("blog", "content"), FakeModule("forum"))
    message = str(caught.value)
    assert "missing module dependencies" in message
    assert "'blog' needs 'content'" in message
    assert "forum" not in message


def test_dependency_cycle_names_the_modules_in_the_cycle() -> None:
    with pytest.raises(ModuleRegistryError) as caught:
        registry_of(FakeModule("aa", "cc"), FakeModule("bb", "aa"), FakeModule("cc", "bb"), FakeModule("dd"))
    message = str(caught.value)
    assert message.startswith("dependency cycle between modules: ")
    for slug in ("aa", "bb", "cc"):
        assert slug in message
    assert "dd" not in message


def test_registry_errors_are_boot_errors() -> None:
    assert issubclass(ModuleRegistryError, BootError)


# --- validation of plugins --------------------------------------------------------------


def test_duplicate_slug_is_refused() -> None:
    with pytest.raises(ModuleRegistryError, match="two modules use the slug 'blog'"):
        registry_of(FakeModule("blog"), FakeModule("blog"))


def test_unknown_hook_is_refused_naming_the_module() -> None:
    class Oddity(FakeModule):
        @hookimpl
        def rustok_not_a_hook(self) -> None:
            return None

    with pytest.raises(ModuleRegistryError) as caught:
        registry_of(FakeModule("blog"), Oddity("oddity"))
    message = str(caught.value)
    assert message.startswith("module 'oddity'")
    assert "rustok_not_a_hook" in message


def test_hook_with_arguments_the_spec_lacks_is_refused_naming_the_module() -> None:
    class Greedy(FakeModule):
        @hookimpl
        def rustok_health(self, ctx: Any, verbose: bool) -> None:
            return None

    with pytest.raises(ModuleRegistryError) as caught:
        registry_of(Greedy("greedy"))
    message = str(caught.value)
    assert "module 'greedy'" in message
    assert "verbose" in message


def test_plugin_without_rustok_module_is_refused() -> None:
    class Anonymous:
        @hookimpl
        def rustok_permissions(self) -> list[Permission]:
            return []

    with pytest.raises(ModuleRegistryError, match="does not implement the rustok_module hook"):
        registry_of(Anonymous())


def test_rustok_module_must_return_module_info() -> None:
    class Liar:
        @hookimpl
        def rustok_module(self) -> dict[str, str]:
            return {"slug": "liar"}

    with pytest.raises(ModuleRegistryError, match="must return a ModuleInfo"):
        registry_of(Liar())


def test_failing_rustok_module_is_reported() -> None:
    class Broken:
        @hookimpl
        def rustok_module(self) -> ModuleInfo:
            return ModuleInfo(slug="Bad Slug", name="x", version="1")

    with pytest.raises(ModuleRegistryError, match=r"rustok_module\(\) failed: invalid module slug"):
        registry_of(Broken())


# --- lookups ----------------------------------------------------------------------------


def test_lookups_by_slug() -> None:
    blog = FakeModule("blog")
    registry = registry_of(blog, FakeModule("forum"))
    assert len(registry) == 2
    assert "blog" in registry
    assert "shop" not in registry
    loaded = registry.get("blog")
    assert isinstance(loaded, LoadedModule)
    assert loaded.slug == "blog"
    assert loaded.plugin is blog
    assert loaded.info is blog.info
    assert loaded.distribution is None
    assert [m.slug for m in registry] == ["blog", "forum"]


def test_get_unknown_module_is_an_error() -> None:
    with pytest.raises(ModuleRegistryError, match="unknown module 'shop'"):
        registry_of(FakeModule("blog")).get("shop")


def test_core_and_optional_buckets() -> None:
    registry = registry_of(
        FakeModule("tenant", kind=ModuleKind.CORE),
        FakeModule("blog", "tenant"),
        FakeModule("auth", kind=ModuleKind.CORE),
        FakeModule("forum"),
    )
    assert [m.slug for m in registry.core] == [s for s in registry.slugs if s in {"auth", "tenant"}]
    assert [m.slug for m in registry.optional] == [s for s in registry.slugs if s in {"blog", "forum"}]
    assert len(registry.core) == 2
    assert len(registry.optional) == 2


def test_dependents_are_transitive_and_in_registry_order() -> None:
    registry = registry_of(
        FakeModule("content"),
        FakeModule("blog", "content"),
        FakeModule("comments", "blog"),
        FakeModule("pages", "content"),
        FakeModule("forum"),
    )
    assert registry.dependents("content") == tuple(s for s in registry.slugs if s in {"blog", "comments", "pages"})
    assert registry.dependents("blog") == ("comments",)
    assert registry.dependents("comments") == ()
    assert registry.dependents("forum") == ()


# --- calling hooks ----------------------------------------------------------------------------


class PermissionsModule(FakeModule):
    def __init__(self, slug: str, *dependencies: str, permissions: list[Permission] | None) -> None:
        super().__init__(slug, *dependencies)
        self.permissions = permissions

    @hookimpl
    def rustok_permissions(self) -> list[Permission] | None:
        return self.permissions


def test_call_returns_module_result_pairs_in_dependency_order_skipping_none() -> None:
    registry = registry_of(
        PermissionsModule("comments", "blog", permissions=[Permission("comments", "moderate")]),
        PermissionsModule("blog", permissions=[Permission("posts", "read")]),
        PermissionsModule("quiet", permissions=None),
        FakeModule("plain"),
    )
    results = registry.call("rustok_permissions")
    assert [(module.slug, perms) for module, perms in results] == [
        ("blog", [Permission("posts", "read")]),
        ("comments", [Permission("comments", "moderate")]),
    ]
    assert all(isinstance(module, LoadedModule) for module, _ in results)


def test_empty_results_are_kept_only_none_is_skipped() -> None:
    registry = registry_of(PermissionsModule("blog", permissions=[]))
    assert [(m.slug, r) for m, r in registry.call("rustok_permissions")] == [("blog", [])]


def test_implements_tells_which_modules_implement_a_hook() -> None:
    registry = registry_of(PermissionsModule("blog", permissions=[]), FakeModule("plain"))
    assert registry.implements("blog", "rustok_permissions")
    assert not registry.implements("plain", "rustok_permissions")
    assert registry.implements("plain", "rustok_module")


class HealthModule(FakeModule):
    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.calls: list[tuple[Any, ...]] = []


class HealthWithoutArguments(HealthModule):
    @hookimpl
    def rustok_health(self) -> str:
        self.calls.append(())
        return f"{self.info.slug}: ok"


class HealthWithContext(HealthModule):
    @hookimpl
    def rustok_health(self, ctx: Any) -> str:
        self.calls.append((ctx,))
        return f"{self.info.slug}: ok with {ctx}"


def test_call_module_calls_only_that_modules_hook() -> None:
    first, second = HealthWithContext("first"), HealthWithContext("second")
    registry = registry_of(first, second)
    assert registry.call_module("second", "rustok_health", ctx="CTX") == "second: ok with CTX"
    assert second.calls == [("CTX",)]
    assert first.calls == []


def test_call_module_passes_only_the_arguments_the_hook_accepts() -> None:
    bare, with_ctx = HealthWithoutArguments("bare"), HealthWithContext("full")
    registry = registry_of(bare, with_ctx)
    assert registry.call_module("bare", "rustok_health", ctx="CTX") == "bare: ok"
    assert bare.calls == [()]
    assert [(m.slug, r) for m, r in registry.call("rustok_health", ctx="CTX")] == [
        ("bare", "bare: ok"),
        ("full", "full: ok with CTX"),
    ]


def test_call_module_refuses_to_call_without_a_needed_argument() -> None:
    registry = registry_of(HealthWithContext("full"))
    with pytest.raises(TypeError, match=r"rustok_health called without \['ctx'\]"):
        registry.call_module("full", "rustok_health")


def test_call_module_returns_none_for_modules_without_the_hook() -> None:
    assert registry_of(FakeModule("plain")).call_module("plain", "rustok_health", ctx=None) is None


class LifecycleModule(FakeModule):
    def __init__(self, slug: str, *dependencies: str, log: list[str]) -> None:
        super().__init__(slug, *dependencies)
        self.log = log

    @hookimpl
    async def rustok_startup(self, ctx: Any) -> None:
        self.log.append(f"start {self.info.slug} {ctx}")

    @hookimpl
    async def rustok_shutdown(self) -> None:
        self.log.append(f"stop {self.info.slug}")


class SyncStartupModule(FakeModule):
    def __init__(self, slug: str, *dependencies: str, log: list[str]) -> None:
        super().__init__(slug, *dependencies)
        self.log = log

    @hookimpl
    def rustok_startup(self) -> None:
        self.log.append(f"start {self.info.slug} (sync)")


async def test_call_async_awaits_hooks_in_dependency_order() -> None:
    log: list[str] = []
    registry = registry_of(
        LifecycleModule("shop", "catalog", log=log),
        LifecycleModule("catalog", log=log),
        SyncStartupModule("audit", log=log),
        FakeModule("plain"),
    )
    await registry.call_async("rustok_startup", ctx="CTX")
    assert log == ["start audit (sync)", "start catalog CTX", "start shop CTX"]


async def test_call_async_reverse_runs_in_reverse_dependency_order() -> None:
    log: list[str] = []
    registry = registry_of(
        LifecycleModule("catalog", log=log), LifecycleModule("shop", "catalog", log=log), FakeModule("plain")
    )
    await registry.call_async("rustok_shutdown", reverse=True, ctx="CTX")
    assert log == ["stop shop", "stop catalog"]


async def test_call_async_propagates_a_failing_hook_and_stops() -> None:
    log: list[str] = []

    class Failing(FakeModule):
        @hookimpl
        async def rustok_startup(self) -> None:
            raise RuntimeError("cannot start")

    registry = registry_of(Failing("aaa"), LifecycleModule("bbb", log=log))
    with pytest.raises(RuntimeError, match="cannot start"):
        await registry.call_async("rustok_startup", ctx=None)
    assert log == []


# --- installed modules ------------------------------------------------------------------------


def test_from_entry_points_finds_the_installed_tenant_module() -> None:
    registry = ModuleRegistry.from_entry_points()
    assert "tenant" in registry
    tenant = registry.get("tenant")
    assert tenant.info.kind is ModuleKind.CORE
    assert tenant.distribution == "rustok-tenant"
    assert "tenant" in [m.slug for m in registry.core]
    assert registry.implements("tenant", "rustok_migrations")


def test_from_entry_points_can_load_only_some_modules() -> None:
    registry = ModuleRegistry.from_entry_points(only=["tenant"])
    assert registry.slugs == ("tenant",)


def test_from_entry_points_names_modules_that_are_not_installed() -> None:
    with pytest.raises(ModuleRegistryError, match=r"modules not installed: nope$"):
        ModuleRegistry.from_entry_points(only=["nope"])
    with pytest.raises(ModuleRegistryError, match=r"modules not installed: nada, nope$"):
        ModuleRegistry.from_entry_points(only=["tenant", "nope", "nada"])


# --- the shared graph check ----------------------------------------------------------------------


def test_check_dependency_graph_orders_slugs() -> None:
    order = check_dependency_graph({"blog": ["content"], "forum": ["content"], "content": []})
    assert order == ["content", "blog", "forum"]


def test_check_dependency_graph_names_missing_dependencies() -> None:
    with pytest.raises(ModuleRegistryError, match="'blog' needs 'content', 'media'"):
        check_dependency_graph({"blog": ["media", "content"]})


def test_check_dependency_graph_names_cycles() -> None:
    with pytest.raises(ModuleRegistryError, match="dependency cycle") as caught:
        check_dependency_graph({"blog": ["forum"], "forum": ["blog"]})
    assert "blog" in str(caught.value)
    assert "forum" in str(caught.value)
