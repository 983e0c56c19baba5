"""The module registry: entry points → pluggy → ordered, validated modules.

``ModuleRegistry.from_entry_points()`` loads every object registered under the
``rustok.modules`` entry-point group, registers it with a pluggy manager that knows
the hooks of :mod:`rustok_core.hookspecs`, rejects implementations without a spec
(``check_pending``), asks each module for its :class:`ModuleInfo`, and orders modules
so that dependencies come first. Missing or cyclic dependencies are errors naming
the modules involved.
"""

from __future__ import annotations

import graphlib
import inspect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from rustok_core import hookspecs
from rustok_core.errors import BootError
from rustok_core.module import ModuleInfo, ModuleKind

ENTRY_POINT_GROUP = "rustok.modules"


class ModuleRegistryError(BootError):
    """The installed modules cannot be composed (names the modules at fault)."""


@dataclass(frozen=True)
class LoadedModule:
    """A registered module: its identity, the plugin object, and where it came from."""

    info: ModuleInfo
    plugin: object
    distribution: str | None = None

    @property
    def slug(self) -> str:
        return self.info.slug


class ModuleRegistry:
    """Every installed module, in dependency order, behind one pluggy manager."""

    def __init__(self, modules: Sequence[LoadedModule], plugin_manager: pluggy.PluginManager):
        self._modules = tuple(modules)
        self._by_slug = {m.slug: m for m in self._modules}
        self.pm = plugin_manager

    # -- construction ----------------------------------------------------------

    @classmethod
    def from_entry_points(cls, *, only: Iterable[str] | None = None) -> ModuleRegistry:
        """Load the installed modules (optionally only the slugs in ``only``)."""
        wanted = set(only) if only is not None else None
        found: list[tuple[object, str | None, str]] = []
        seen: dict[str, str] = {}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if wanted is not None and ep.name not in wanted:
                continue
            dist = _distribution_name(ep)
            if ep.name in seen:
                raise ModuleRegistryError(f"module '{ep.name}' is registered twice (by {seen[ep.name]} and {dist})")
            seen[ep.name] = dist or "?"
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ModuleRegistryError(
                    f"cannot load module '{ep.name}' ({ep.value}, distribution {dist}): {exc}"
                ) from exc
            found.append((plugin, dist, ep.name))
        if wanted is not None:
            missing = wanted - {name for _, _, name in found}
            if missing:
                raise ModuleRegistryError("modules not installed: " + ", ".join(sorted(missing)))
        return cls._build(found)

    @classmethod
    def from_plugins(cls, plugins: Iterable[object]) -> ModuleRegistry:
        """Build a registry from module objects directly (tests, embedding)."""
        return cls._build([(plugin, None, None) for plugin in plugins])

    @classmethod
    def _build(cls, found: Sequence[tuple[object, str | None, str | None]]) -> ModuleRegistry:
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        loaded: dict[str, LoadedModule] = {}
        for plugin, dist, ep_name in found:
            info = _module_info(plugin, ep_name)
            if ep_name is not None and ep_name != info.slug:
                raise ModuleRegistryError(
                    f"entry point '{ep_name}' (distribution {dist}) names a module whose "
                    f"slug is '{info.slug}'; the entry point name must equal the slug"
                )
            if info.slug in loaded:
                raise ModuleRegistryError(f"two modules use the slug '{info.slug}'")
            try:
                pm.register(plugin, name=info.slug)
            except (ValueError, pluggy.PluginValidationError) as exc:
                # PluginValidationError: a hookimpl takes arguments its hookspec lacks.
                raise ModuleRegistryError(f"cannot register module '{info.slug}': {exc}") from exc
            loaded[info.slug] = LoadedModule(info, plugin, dist)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise ModuleRegistryError(f"module '{pm.get_name(exc.plugin)}': {exc}") from exc
        order = _topological_order(loaded)
        return cls([loaded[slug] for slug in order], pm)

    # -- lookups ------------------------------------------------------------------

    def __iter__(self) -> Iterator[LoadedModule]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def get(self, slug: str) -> LoadedModule:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise ModuleRegistryError(f"unknown module '{slug}'") from None

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(m.slug for m in self._modules)

    @property
    def core(self) -> tuple[LoadedModule, ...]:
        return tuple(m for m in self._modules if m.info.kind is ModuleKind.CORE)

    @property
    def optional(self) -> tuple[LoadedModule, ...]:
        return tuple(m for m in self._modules if m.info.kind is ModuleKind.OPTIONAL)

    def dependents(self, slug: str) -> tuple[str, ...]:
        """Slugs of installed modules that depend on ``slug`` directly or transitively."""
        result: list[str] = []
        frontier = [slug]
        while frontier:
            current = frontier.pop()
            for module in self._modules:
                if current in module.info.dependencies and module.slug not in result:
                    result.append(module.slug)
                    frontier.append(module.slug)
        return tuple(m.slug for m in self._modules if m.slug in result)

    # -- calling hooks --------------------------------------------------------------

    def call(self, hook: str, **kwargs: Any) -> list[tuple[LoadedModule, Any]]:
        """Call ``hook`` on every module implementing it, in dependency order.

        Returns ``(module, result)`` pairs, skipping ``None`` results, so callers know
        which module contributed what.
        """
        results: list[tuple[LoadedModule, Any]] = []
        for module in self._modules:
            if self.implements(module.slug, hook):
                result = self.call_module(module.slug, hook, **kwargs)
                if result is not None:
                    results.append((module, result))
        return results

    async def call_async(self, hook: str, *, reverse: bool = False, **kwargs: Any) -> None:
        """Await an async hook on every module implementing it (reverse for shutdown)."""
        modules = reversed(self._modules) if reverse else iter(self._modules)
        for module in modules:
            if self.implements(module.slug, hook):
                result = self.call_module(module.slug, hook, **kwargs)
                if inspect.isawaitable(result):
                    await result

    def implements(self, slug: str, hook: str) -> bool:
        return any(impl.plugin_name == slug for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def call_module(self, slug: str, hook: str, **kwargs: Any) -> Any:
        """Call one module's implementation of ``hook`` (``None`` if it has none)."""
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            if impl.plugin_name == slug:
                args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
                missing = [name for name in impl.argnames if name not in kwargs]
                if missing:
                    raise TypeError(f"hook {hook} called without {missing}")
                return impl.function(**args)
        return None


def _distribution_name(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else None


def _module_info(plugin: object, ep_name: str | None) -> ModuleInfo:
    label = f"module '{ep_name}'" if ep_name else repr(plugin)
    hook = getattr(plugin, "rustok_module", None)
    if hook is None:
        raise ModuleRegistryError(f"{label} does not implement the rustok_module hook")
    try:
        info = hook()
    except Exception as exc:
        raise ModuleRegistryError(f"{label}: rustok_module() failed: {exc}") from exc
    if not isinstance(info, ModuleInfo):
        raise ModuleRegistryError(f"{label}: rustok_module() must return a ModuleInfo")
    return info


def _topological_order(modules: dict[str, LoadedModule]) -> list[str]:
    missing = {slug: sorted(dep for dep in m.info.dependencies if dep not in modules) for slug, m in modules.items()}
    missing = {slug: deps for slug, deps in missing.items() if deps}
    if missing:
        detail = "; ".join(
            f"'{slug}' needs {', '.join(repr(d) for d in deps)}" for slug, deps in sorted(missing.items())
        )
        raise ModuleRegistryError(f"missing module dependencies: {detail}")
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for slug in modules:
        sorter.add(slug, *modules[slug].info.dependencies)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise ModuleRegistryError("dependency cycle between modules: " + " -> ".join(cycle)) from None
    # Among modules that are ready at the same time, core modules come first, then by
    # slug, so the order is deterministic and platform modules start before the rest.
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda s: (not modules[s].info.is_core, s))
        for slug in ready:
            order.append(slug)
            sorter.done(slug)
    return order


def check_dependency_graph(dependencies: dict[str, Sequence[str]]) -> list[str]:
    """Order slugs by ``dependencies``; raise naming missing or cyclic dependencies.

    Shared by the registry and ``xtask`` (which checks ``modules.toml`` the same way).
    """
    fake = {
        slug: LoadedModule(ModuleInfo(slug=slug, name=slug, version="0", dependencies=tuple(deps)), None)
        for slug, deps in dependencies.items()
    }
    return _topological_order(fake)
