"""Fake uv workspaces in ``tmp_path`` for the xtask tests.

Nothing here touches the real repository: every workspace is written from scratch
under pytest's temporary directory.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from rustok_xtask.generate import PINS, SOURCES

ROOT_PYPROJECT = """\
[project]
name = "fake-platform"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["rustok-server[modules]"]

[tool.uv]
package = false

[tool.uv.workspace]
members = ["packages/*", "apps/server"]
"""

# Deliberately odd text around the generated blocks: comments, trailing spaces,
# non-ASCII characters and blank lines must all survive `generate` byte for byte.
SERVER_PYPROJECT = f"""\
# Hand-written header: keep me.   \n\
[project]
name = "rustok-server"
version = "0.1.0"
description = "Servidor — ünïcödé stays"
dependencies = ["rustok-core"]

[project.optional-dependencies]
# >>> comment that merely looks like a marker >>>
{PINS[0]}
modules = ["stale-package"]
{PINS[1]}

[tool.uv.sources]
rustok-core = {{ workspace = true }}


# Sources of the modules (generated).
{SOURCES[0]}
{SOURCES[1]}
# trailing comment without a final newline"""

TENANT_MODULES_TOML = """\
# Which modules this deployment installs.
schema = 1
app = "rustok-server"

[modules.tenant]
package = "rustok-tenant"
source = "path"
path = "packages/rustok-tenant"
required = true
"""


class FakeWorkspace:
    """Builder for a minimal uv workspace with modules.toml and the server app."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def package(
        self,
        directory: str,
        name: str,
        *,
        entry_points: Mapping[str, str] | None = None,
    ) -> Path:
        """A package dir with a pyproject.toml; ``entry_points`` go in the rustok.modules group."""
        lines = ["[project]", f'name = "{name}"', 'version = "0.1.0"', ""]
        if entry_points:
            lines.append('[project.entry-points."rustok.modules"]')
            lines += [f'{key} = "{value}"' for key, value in entry_points.items()]
            lines.append("")
        self.write(f"{directory}/pyproject.toml", "\n".join(lines))
        return self.root / directory

    def module_package(self, slug: str, *, directory: str | None = None, package: str | None = None) -> Path:
        """A path module laid out like the real ones, with its entry point."""
        package = package or "rustok-" + slug.replace("_", "-")
        directory = directory or f"packages/{package}"
        return self.package(directory, package, entry_points={slug: f"rustok_{slug}.module:module"})

    def modules_toml(self, text: str) -> Path:
        return self.write("modules.toml", textwrap.dedent(text))

    @property
    def server_pyproject(self) -> Path:
        return self.root / "apps/server/pyproject.toml"

    @property
    def manifest(self) -> Path:
        return self.root / "apps/server/src/rustok_server/_manifest.py"

    @property
    def importlinter(self) -> Path:
        return self.root / ".importlinter"


@pytest.fixture
def fake(tmp_path: Path) -> FakeWorkspace:
    """A workspace with the server app, rustok-testing and the tenant module (not yet generated)."""
    ws = FakeWorkspace(tmp_path / "ws")
    ws.write("pyproject.toml", ROOT_PYPROJECT)
    ws.write("apps/server/pyproject.toml", SERVER_PYPROJECT)
    ws.write("apps/server/src/rustok_server/__init__.py", "")
    ws.package("packages/rustok-core", "rustok-core")
    ws.package("packages/rustok-testing", "rustok-testing")
    ws.module_package("tenant")
    ws.modules_toml(TENANT_MODULES_TOML)
    return ws
