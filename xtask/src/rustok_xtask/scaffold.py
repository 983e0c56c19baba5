"""``xtask new-module NAME``: a complete, working module package.

The package has an entry point, a module object with hooks, SDL extending Query and
Mutation, a tenant-owned table with its first migration (branch label = slug, file
``mYYYYMMDD_<slug>_001_create_<table>.py``), a README, a contract page and tests that
pass unchanged once ``xtask rebuild`` has installed it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path
from string import Template

import tomli_w

from rustok_core.module import MODULE_SLUG_RE
from rustok_xtask.modules_file import XtaskError
from rustok_xtask.workspace import MODULES_TOML, Workspace

TEMPLATE_SUFFIX = ".tmpl"
PATH_TOKEN_RE = re.compile(r"{(import|slug|date|table)}")


def names(slug: str, description: str | None = None) -> dict[str, str]:
    words = slug.split("_")
    title = " ".join(w.capitalize() for w in words)
    pascal = "".join(w.capitalize() for w in words)
    return {
        "slug": slug,
        "package": "rustok-" + slug.replace("_", "-"),
        "import_name": f"rustok_{slug}",
        "pascal": pascal,
        "camel": pascal[0].lower() + pascal[1:],
        "title": title,
        "table": f"{slug}_items",
        "resource": f"{slug}_items",
        "description": description or f"{title}: a RusToK module.",
        "date": datetime.now(UTC).strftime("%Y%m%d"),
        "date_iso": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def new_module(workspace: Workspace, slug: str, *, description: str | None = None) -> Path:
    """Create ``packages/rustok-<slug>`` and list it in modules.toml; return the package dir."""
    if not MODULE_SLUG_RE.match(slug):
        raise XtaskError(
            f"invalid module name {slug!r}: use 2-32 lowercase letters, digits or underscores, starting with a letter"
        )
    if description is not None and ('"' in description or "\\" in description or "\n" in description):
        raise XtaskError("the description must be one line without quotes or backslashes")
    values = names(slug, description)
    if slug in workspace.modules.modules:
        raise XtaskError(f"module '{slug}' is already listed in modules.toml")
    for other in workspace.modules.modules.values():
        if other.package == values["package"]:
            raise XtaskError(f"module '{other.slug}' in modules.toml already uses package {values['package']}")
    target = workspace.root / "packages" / values["package"]
    if target.exists():
        raise XtaskError(f"{workspace.relative(target)} already exists")
    docs_page = workspace.root / "docs" / "modules" / f"{slug}.md"
    if docs_page.exists():
        raise XtaskError(f"{workspace.relative(docs_page)} already exists")

    rendered: dict[Path, str] = {}
    with as_file(files("rustok_xtask").joinpath("templates", "module")) as template_root:
        for source in sorted(Path(template_root).rglob(f"*{TEMPLATE_SUFFIX}")):
            relative = source.relative_to(template_root).as_posix()[: -len(TEMPLATE_SUFFIX)]
            text = Template(source.read_text(encoding="utf-8")).substitute(values)
            if relative == "docs.md":
                rendered[docs_page] = text
                continue
            out_path = PATH_TOKEN_RE.sub(
                lambda m: values["import_name" if m.group(1) == "import" else m.group(1)], relative
            )
            rendered[target / out_path] = text

    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    entry = tomli_w.dumps(
        {
            "modules": {
                slug: {
                    "package": values["package"],
                    "source": "path",
                    "path": workspace.relative(target),
                    "required": False,
                }
            }
        }
    )
    modules_toml = workspace.root / MODULES_TOML
    current = modules_toml.read_text(encoding="utf-8")
    modules_toml.write_text(current.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    return target
