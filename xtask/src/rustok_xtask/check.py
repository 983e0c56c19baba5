"""``xtask check``: fail (naming the drift) when the workspace is out of step with modules.toml."""

from __future__ import annotations

import subprocess

from rustok_core.module import ModuleKind
from rustok_core.registry import ModuleRegistry, ModuleRegistryError
from rustok_xtask.generate import drift
from rustok_xtask.modules_file import XtaskError
from rustok_xtask.uv import uv_command
from rustok_xtask.workspace import Workspace, read_toml

ENTRY_POINT_GROUP = "rustok.modules"


def check(workspace: Workspace, *, lock: bool = True, installed: bool = True) -> list[str]:
    """Return every problem found (empty when the workspace is consistent)."""
    try:
        workspace.modules  # noqa: B018 - parse and validate modules.toml first
    except XtaskError as exc:
        return [str(exc)]
    problems: list[str] = []
    problems.extend(_path_packages(workspace))
    try:
        for path in drift(workspace):
            problems.append(f"{workspace.relative(path)} is out of date with modules.toml; run `uv run xtask generate`")
    except XtaskError as exc:
        problems.append(str(exc))
    if lock:
        problems.extend(_lock(workspace))
    if installed:
        problems.extend(installed_problems(workspace))
    return problems


def _path_packages(workspace: Workspace) -> list[str]:
    problems = []
    for spec in workspace.modules.modules.values():
        if spec.source != "path":
            continue
        assert spec.path is not None
        project = read_toml(workspace.root / spec.path / "pyproject.toml").get("project", {})
        if project.get("name") != spec.package:
            problems.append(
                f"module '{spec.slug}': {spec.path} holds package {project.get('name')!r}, "
                f"but modules.toml says {spec.package!r}"
            )
            continue
        entry_points = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
        if spec.slug not in entry_points:
            problems.append(
                f"module '{spec.slug}': {spec.path}/pyproject.toml registers no "
                f"[project.entry-points.\"{ENTRY_POINT_GROUP}\"] entry named '{spec.slug}'"
            )
    return problems


def _lock(workspace: Workspace) -> list[str]:
    result = subprocess.run(
        [*uv_command(), "lock", "--check"],
        cwd=workspace.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    detail = (result.stderr or result.stdout).strip().splitlines()
    last = detail[-1] if detail else f"exit status {result.returncode}"
    return [f"uv.lock is out of date ({last}); run `uv run xtask rebuild`"]


def installed_problems(workspace: Workspace) -> list[str]:
    """Compare the modules installed in this environment with modules.toml."""
    try:
        registry = ModuleRegistry.from_entry_points()
    except ModuleRegistryError as exc:
        return [f"installed modules cannot be loaded: {exc}"]
    problems = []
    specs = workspace.modules.modules
    for slug, spec in specs.items():
        if slug not in registry:
            problems.append(f"module '{slug}' ({spec.package}) is not installed; run `uv run xtask rebuild`")
            continue
        info = registry.get(slug).info
        if spec.required != (info.kind is ModuleKind.CORE):
            problems.append(
                f"module '{slug}': modules.toml says required = {str(spec.required).lower()} "
                f"but the module is {info.kind}; core modules are exactly the required ones"
            )
        if set(spec.depends_on) != set(info.dependencies):
            problems.append(
                f"module '{slug}': modules.toml says depends_on = {sorted(spec.depends_on)} "
                f"but the module declares {sorted(info.dependencies)}"
            )
    for module in registry:
        if module.slug not in specs:
            problems.append(
                f"module '{module.slug}' ({module.distribution}) is installed but not listed in modules.toml"
            )
    return problems
