"""``xtask rebuild``: generate, ``uv lock``, ``uv sync``, and say what changed."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rustok_xtask.events import EVENTS_DIR
from rustok_xtask.generate import generate
from rustok_xtask.uv import run_uv
from rustok_xtask.workspace import Workspace

MANIFEST_SLUG_RE = re.compile(r'ManifestEntry\(slug="([a-z0-9_]+)"')


@dataclass
class RebuildSummary:
    files: list[str] = field(default_factory=list)
    modules_added: list[str] = field(default_factory=list)
    modules_removed: list[str] = field(default_factory=list)
    packages_added: list[str] = field(default_factory=list)
    packages_removed: list[str] = field(default_factory=list)
    packages_changed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        for label, items in (
            ("generated files changed", self.files),
            ("modules added", self.modules_added),
            ("modules removed", self.modules_removed),
            ("packages added", self.packages_added),
            ("packages removed", self.packages_removed),
            ("packages changed", self.packages_changed),
        ):
            if items:
                out.append(f"{label}: {', '.join(items)}")
        return out or ["nothing changed"]


def _manifest_slugs(path: Path) -> set[str]:
    return set(MANIFEST_SLUG_RE.findall(path.read_text(encoding="utf-8"))) if path.is_file() else set()


def _locked_packages(root: Path) -> dict[str, str]:
    lock = root / "uv.lock"
    if not lock.is_file():
        return {}
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {p["name"]: str(p.get("version", "")) for p in data.get("package", [])}


def rebuild(workspace: Workspace, *, sync: bool = True) -> RebuildSummary:
    before_modules = _manifest_slugs(workspace.manifest_module)
    before_packages = _locked_packages(workspace.root)
    changed = generate(workspace, events=False)
    run_uv(["lock"], workspace.root)
    if sync:
        run_uv(["sync"], workspace.root)
        # Event schemas come from the installed modules: export them once installed.
        if (workspace.root / EVENTS_DIR).is_dir():
            changed += [path for path in _generate_in_new_environment(workspace) if path not in changed]
    after_modules = _manifest_slugs(workspace.manifest_module)
    after_packages = _locked_packages(workspace.root)
    return RebuildSummary(
        files=[workspace.relative(p) for p in changed],
        modules_added=sorted(after_modules - before_modules),
        modules_removed=sorted(before_modules - after_modules),
        packages_added=sorted(f"{n} {after_packages[n]}" for n in after_packages.keys() - before_packages.keys()),
        packages_removed=sorted(before_packages.keys() - after_packages.keys()),
        packages_changed=sorted(
            f"{n} {before_packages[n]} -> {after_packages[n]}"
            for n in after_packages.keys() & before_packages.keys()
            if after_packages[n] != before_packages[n]
        ),
    )


def _generate_in_new_environment(workspace: Workspace) -> list[Path]:
    """Run ``xtask generate`` in the freshly synced environment (this process may predate it)."""
    before = {path: path.read_bytes() for path in (workspace.root / EVENTS_DIR).glob("*") if path.is_file()}
    run_uv(["run", "--no-sync", "xtask", "--root", str(workspace.root), "generate"], workspace.root)
    after = {path: path.read_bytes() for path in (workspace.root / EVENTS_DIR).glob("*") if path.is_file()}
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
