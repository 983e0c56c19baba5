"""The expected module set (generated from ``modules.toml``) and the boot-time check.

``xtask generate`` writes :mod:`rustok_server._manifest` listing the modules the
deployment was built with. At boot the installed modules must match it exactly: a
missing module, an extra one, a ``required`` flag that disagrees with the module's
kind, or an unmet dependency refuses the start with a message saying what to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rustok_core.errors import BootError
from rustok_core.module import ModuleKind
from rustok_core.registry import ModuleRegistry

REBUILD_HINT = "run `uv run xtask rebuild` to install the modules listed in modules.toml"


@dataclass(frozen=True)
class ManifestEntry:
    slug: str
    package: str
    required: bool
    depends_on: tuple[str, ...] = ()


class ManifestMismatch(BootError):
    """Installed modules differ from the generated manifest."""


def expected_modules() -> tuple[ManifestEntry, ...]:
    from rustok_server._manifest import MODULES

    return MODULES


def check_manifest(registry: ModuleRegistry, manifest: Sequence[ManifestEntry]) -> None:
    """Raise :class:`ManifestMismatch` listing every difference, or return quietly."""
    expected = {entry.slug: entry for entry in manifest}
    problems: list[str] = []
    for slug, entry in sorted(expected.items()):
        if slug not in registry:
            problems.append(f"module '{slug}' (package {entry.package}) is listed in modules.toml but not installed")
    for module in registry:
        found = expected.get(module.slug)
        if found is None:
            problems.append(
                f"module '{module.slug}' (package {module.distribution or '?'}) is installed but not "
                "listed in modules.toml; add it there or uninstall it"
            )
            continue
        entry = found
        if entry.required != (module.info.kind is ModuleKind.CORE):
            kind = "a core" if module.info.is_core else "an optional"
            problems.append(
                f"module '{module.slug}' is {kind} module but modules.toml says "
                f"required = {str(entry.required).lower()}; core modules are exactly the required ones"
            )
        declared = set(entry.depends_on)
        actual = set(module.info.dependencies)
        if declared != actual:
            problems.append(
                f"module '{module.slug}' depends on {sorted(actual)} but modules.toml says "
                f"depends_on = {sorted(declared)}"
            )
    if problems:
        raise ManifestMismatch(
            "installed modules do not match modules.toml:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\n{REBUILD_HINT}"
        )
