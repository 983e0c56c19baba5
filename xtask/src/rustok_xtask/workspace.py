"""The uv workspace around ``modules.toml``: its root, members and the server app."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from rustok_xtask.modules_file import ModulesFile, XtaskError, load_modules_file

MODULES_TOML = "modules.toml"


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` holding modules.toml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / MODULES_TOML).is_file():
            return candidate
    raise XtaskError(f"no {MODULES_TOML} found in {here} or its parents; run xtask inside the workspace")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise XtaskError(f"{path} is not valid TOML: {exc}") from None


@dataclass
class Workspace:
    root: Path

    @cached_property
    def modules(self) -> ModulesFile:
        return load_modules_file(self.root / MODULES_TOML)

    @cached_property
    def pyproject(self) -> dict[str, Any]:
        return read_toml(self.root / "pyproject.toml")

    @cached_property
    def members(self) -> dict[str, Path]:
        """Distribution name → directory of every workspace member."""
        config = self.pyproject.get("tool", {}).get("uv", {}).get("workspace", {})
        found: dict[str, Path] = {}
        excluded = {p.resolve() for pattern in config.get("exclude", []) for p in self.root.glob(pattern)}
        for pattern in config.get("members", []):
            for directory in sorted(self.root.glob(pattern)):
                project_file = directory / "pyproject.toml"
                if directory.resolve() in excluded or not project_file.is_file():
                    continue
                name = read_toml(project_file).get("project", {}).get("name")
                if isinstance(name, str):
                    found[_normalize(name)] = directory.resolve()
        return found

    def is_member(self, path: Path) -> bool:
        return path.resolve() in set(self.members.values())

    @cached_property
    def app_dir(self) -> Path:
        app = _normalize(self.modules.app)
        if app not in self.members:
            raise XtaskError(f"modules.toml: app '{self.modules.app}' is not a member of the uv workspace")
        return self.members[app]

    @property
    def app_pyproject(self) -> Path:
        return self.app_dir / "pyproject.toml"

    @property
    def manifest_module(self) -> Path:
        return self.app_dir / "src" / _normalize(self.modules.app).replace("-", "_") / "_manifest.py"

    @property
    def importlinter(self) -> Path:
        return self.root / ".importlinter"

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
