"""Read and validate ``modules.toml``: which modules the deployment installs."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rustok_core.errors import BootError
from rustok_core.module import MODULE_SLUG_RE
from rustok_core.registry import check_dependency_graph

SCHEMA_VERSION = 1
SOURCES = ("path", "index", "git")
PACKAGE_RE = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?\Z")
VERSION_RE = re.compile(r"^[0-9][0-9A-Za-z.+!-]*\Z")
GIT_REF_KEYS = ("rev", "tag", "branch")
MODULE_KEYS = {"package", "source", "path", "version", "git", *GIT_REF_KEYS, "required", "depends_on", "import"}


class XtaskError(BootError):
    """A problem with modules.toml or the workspace; the message names it."""


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    package: str
    source: str
    required: bool = False
    depends_on: tuple[str, ...] = ()
    path: str | None = None
    version: str | None = None
    git: str | None = None
    git_ref: tuple[str, str] | None = None
    import_name: str = ""

    @property
    def pin(self) -> str:
        """The requirement string in the server's dependency list."""
        if self.source == "index":
            return f"{self.package}=={self.version}"
        return self.package


@dataclass(frozen=True)
class ModulesFile:
    path: Path
    app: str
    modules: Mapping[str, ModuleSpec] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    def ordered(self) -> list[ModuleSpec]:
        """Modules with dependencies first (ties broken by slug)."""
        order = check_dependency_graph({slug: spec.depends_on for slug, spec in self.modules.items()})
        return [self.modules[slug] for slug in order]


def load_modules_file(path: Path) -> ModulesFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XtaskError(f"{path} not found; run xtask from the workspace (or pass --root)") from None
    except tomllib.TOMLDecodeError as exc:
        raise XtaskError(f"{path.name} is not valid TOML: {exc}") from None
    return parse_modules(raw, path)


def parse_modules(raw: Mapping[str, Any], path: Path) -> ModulesFile:
    name = path.name
    unknown = sorted(set(raw) - {"schema", "app", "modules"})
    if unknown:
        raise XtaskError(f"{name}: unknown top-level key(s): {', '.join(unknown)}")
    schema = raw.get("schema")
    # type() rather than ==: TOML's `true` and `1.0` compare equal to 1 in Python.
    if type(schema) is not int or schema != SCHEMA_VERSION:
        raise XtaskError(f"{name}: 'schema' must be {SCHEMA_VERSION}, got {schema!r}")
    app = raw.get("app")
    if not isinstance(app, str) or not PACKAGE_RE.match(app):
        raise XtaskError(f"{name}: 'app' must name the server distribution (e.g. \"rustok-server\")")
    modules_raw = raw.get("modules", {})
    if not isinstance(modules_raw, Mapping):
        raise XtaskError(f"{name}: 'modules' must be a table of [modules.<slug>] tables")

    modules: dict[str, ModuleSpec] = {}
    packages: dict[str, str] = {}
    for slug, table in modules_raw.items():
        spec = _parse_module(name, slug, table, path.parent)
        if spec.package in packages:
            raise XtaskError(f"{name}: modules '{packages[spec.package]}' and '{slug}' both use package {spec.package}")
        packages[spec.package] = slug
        modules[slug] = spec

    for slug, spec in modules.items():
        missing = [dep for dep in spec.depends_on if dep not in modules]
        if missing:
            raise XtaskError(
                f"{name}: module '{slug}' depends on {', '.join(repr(m) for m in missing)}, "
                f"which {'is' if len(missing) == 1 else 'are'} not listed"
            )
    result = ModulesFile(path=path, app=app, modules=modules)
    try:
        result.ordered()
    except BootError as exc:
        raise XtaskError(f"{name}: {exc}") from None
    return result


def _parse_module(name: str, slug: str, table: Any, root: Path) -> ModuleSpec:
    where = f"{name} [modules.{slug}]"
    if not MODULE_SLUG_RE.match(slug):
        raise XtaskError(
            f"{where}: invalid module slug; use 2-32 lowercase letters, digits or underscores, starting with a letter"
        )
    if not isinstance(table, Mapping):
        raise XtaskError(f"{where}: must be a table")
    unknown = sorted(set(table) - MODULE_KEYS)
    if unknown:
        raise XtaskError(f"{where}: unknown key(s): {', '.join(unknown)}")
    package = table.get("package")
    if not isinstance(package, str) or not PACKAGE_RE.match(package):
        raise XtaskError(f"{where}: 'package' must be a distribution name, e.g. \"rustok-{slug}\"")
    source = table.get("source", "path")
    if source not in SOURCES:
        raise XtaskError(f"{where}: source = {source!r}; allowed values: {', '.join(SOURCES)}")
    required = table.get("required", False)
    if not isinstance(required, bool):
        raise XtaskError(f"{where}: 'required' must be true or false")
    depends_on = table.get("depends_on", [])
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise XtaskError(f"{where}: 'depends_on' must be a list of module slugs")
    if slug in depends_on:
        raise XtaskError(f"{where}: a module cannot depend on itself")
    import_name = table.get("import", package.replace("-", "_").replace(".", "_"))
    if not isinstance(import_name, str) or not import_name.isidentifier():
        raise XtaskError(f"{where}: 'import' must be the module's Python package name")

    path_value = version = git = None
    git_ref: tuple[str, str] | None = None
    if source == "path":
        path_value = table.get("path")
        if not isinstance(path_value, str) or not path_value:
            raise XtaskError(f'{where}: source "path" needs path = "packages/{package}"')
        if not (root / path_value / "pyproject.toml").is_file():
            raise XtaskError(f"{where}: no package at {path_value} (pyproject.toml missing)")
    else:
        for key in ("path",):
            if key in table:
                raise XtaskError(f"{where}: '{key}' only applies to source \"path\"")
    if source == "index":
        version = table.get("version")
        if not isinstance(version, str) or not VERSION_RE.match(version):
            raise XtaskError(f'{where}: source "index" needs an exact version = "X.Y.Z"')
    elif "version" in table:
        raise XtaskError(f"{where}: 'version' only applies to source \"index\"")
    if source == "git":
        git = table.get("git")
        if not isinstance(git, str) or not git:
            raise XtaskError(f'{where}: source "git" needs git = "https://..."')
        refs = [(key, table[key]) for key in GIT_REF_KEYS if key in table]
        if len(refs) > 1:
            raise XtaskError(f"{where}: give at most one of rev, tag, branch")
        if refs:
            key, value = refs[0]
            if not isinstance(value, str) or not value:
                raise XtaskError(f"{where}: '{key}' must be a non-empty string")
            git_ref = (key, value)
    else:
        present = [key for key in ("git", *GIT_REF_KEYS) if key in table]
        if present:
            raise XtaskError(f'{where}: {", ".join(present)} only apply to source "git"')

    return ModuleSpec(
        slug=slug,
        package=package,
        source=source,
        required=required,
        depends_on=tuple(depends_on),
        path=path_value,
        version=version,
        git=git,
        git_ref=git_ref,
        import_name=import_name,
    )
