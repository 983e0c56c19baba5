"""modules.toml: what parses, and a clear message for everything that does not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rustok_core.errors import BootError
from rustok_xtask.modules_file import XtaskError, load_modules_file, parse_modules


def modules(**tables: dict[str, Any]) -> dict[str, Any]:
    return {"schema": 1, "app": "rustok-server", "modules": tables}


def index(package: str, **extra: Any) -> dict[str, Any]:
    return {"package": package, "source": "index", "version": "1.0.0", **extra}


def parse(raw: dict[str, Any], root: Path) -> Any:
    return parse_modules(raw, root / "modules.toml")


def parse_error(raw: dict[str, Any], root: Path) -> str:
    with pytest.raises(XtaskError) as caught:
        parse(raw, root)
    message = str(caught.value)
    assert message.startswith("modules.toml"), f"the message should name the file: {message}"
    return message


# --- what parses -------------------------------------------------------------------------


def test_valid_file_parses_with_defaults(fake):
    parsed = load_modules_file(fake.root / "modules.toml")

    assert parsed.app == "rustok-server"
    assert parsed.root == fake.root
    tenant = parsed.modules["tenant"]
    assert (tenant.package, tenant.source, tenant.path, tenant.required) == (
        "rustok-tenant",
        "path",
        "packages/rustok-tenant",
        True,
    )
    assert tenant.import_name == "rustok_tenant"
    assert tenant.pin == "rustok-tenant"


def test_source_defaults_to_path_and_required_to_false(fake):
    fake.module_package("blog")
    raw = modules(blog={"package": "rustok-blog", "path": "packages/rustok-blog"})

    blog = parse(raw, fake.root).modules["blog"]

    assert (blog.source, blog.required, blog.depends_on) == ("path", False, ())


def test_import_name_can_be_overridden(tmp_path):
    raw = modules(blog=index("rustok.blog-pkg", **{"import": "blogpkg"}))

    assert parse(raw, tmp_path).modules["blog"].import_name == "blogpkg"


def test_index_pin_is_exact(tmp_path):
    raw = modules(pages=index("rustok-pages", version="1.2.3"))

    assert parse(raw, tmp_path).modules["pages"].pin == "rustok-pages==1.2.3"


def test_git_source_keeps_its_single_ref(tmp_path):
    raw = modules(forum={"package": "rustok-forum", "source": "git", "git": "https://example.com/f.git", "tag": "v1"})

    forum = parse(raw, tmp_path).modules["forum"]

    assert (forum.git, forum.git_ref, forum.pin) == ("https://example.com/f.git", ("tag", "v1"), "rustok-forum")


def test_ordered_puts_dependencies_first(tmp_path):
    raw = modules(
        alpha=index("rustok-alpha", depends_on=["zeta"]),
        zeta=index("rustok-zeta", depends_on=["middle"]),
        middle=index("rustok-middle"),
        beta=index("rustok-beta"),
    )

    order = [spec.slug for spec in parse(raw, tmp_path).ordered()]

    assert order.index("middle") < order.index("zeta") < order.index("alpha")
    assert sorted(order) == ["alpha", "beta", "middle", "zeta"]


# --- errors ------------------------------------------------------------------------------


def test_malformed_toml_is_reported_as_invalid_toml(tmp_path):
    path = tmp_path / "modules.toml"
    path.write_text('schema = 1\napp = "rustok-server\n', encoding="utf-8")

    with pytest.raises(XtaskError, match=r"^modules\.toml is not valid TOML"):
        load_modules_file(path)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(XtaskError, match="not found"):
        load_modules_file(tmp_path / "modules.toml")


def test_xtask_error_is_a_boot_error():
    assert issubclass(XtaskError, BootError)


@pytest.mark.parametrize("schema", [None, 2, "1", True, 1.0])
def test_wrong_schema_is_rejected(tmp_path, schema):
    raw = modules()
    if schema is None:
        del raw["schema"]
    else:
        raw["schema"] = schema

    message = parse_error(raw, tmp_path)

    assert "'schema' must be 1" in message
    assert repr(schema) in message


@pytest.mark.parametrize("app", [None, "", "Rustok Server", 42, "-server"])
def test_missing_or_invalid_app_is_rejected(tmp_path, app):
    raw = modules()
    if app is None:
        del raw["app"]
    else:
        raw["app"] = app

    assert "'app' must name the server distribution" in parse_error(raw, tmp_path)


def test_unknown_top_level_key_is_named(tmp_path):
    raw = {**modules(), "modulez": {}, "extra": 1}

    assert "unknown top-level key(s): extra, modulez" in parse_error(raw, tmp_path)


def test_modules_must_be_a_table(tmp_path):
    raw = {**modules(), "modules": ["tenant"]}

    assert "'modules' must be a table" in parse_error(raw, tmp_path)


def test_module_must_be_a_table(tmp_path):
    raw = modules(blog="rustok-blog")

    assert "[modules.blog]: must be a table" in parse_error(raw, tmp_path)


def test_unknown_module_key_is_named_with_its_module(tmp_path):
    raw = modules(blog=index("rustok-blog", colour="red"))

    assert "[modules.blog]: unknown key(s): colour" in parse_error(raw, tmp_path)


@pytest.mark.parametrize("slug", ["Blog", "1blog", "b", "blog-post", "b" * 33, "_blog"])
def test_invalid_slug_is_rejected(tmp_path, slug):
    raw = modules(**{slug: index("rustok-blog")})

    message = parse_error(raw, tmp_path)

    assert f"[modules.{slug}]: invalid module slug" in message


@pytest.mark.parametrize("package", [None, "", "Rustok-Blog", "rustok blog", "-rustok", "rustok-", 3])
def test_invalid_package_is_rejected(tmp_path, package):
    table = {"source": "index", "version": "1.0.0"}
    if package is not None:
        table["package"] = package
    raw = modules(blog=table)

    assert "[modules.blog]: 'package' must be a distribution name" in parse_error(raw, tmp_path)


def test_unknown_source_lists_the_allowed_values(tmp_path):
    raw = modules(blog={"package": "rustok-blog", "source": "pypi"})

    message = parse_error(raw, tmp_path)

    assert "[modules.blog]: source = 'pypi'" in message
    assert "allowed values: path, index, git" in message


def test_path_source_without_path_is_rejected(tmp_path):
    raw = modules(blog={"package": "rustok-blog", "source": "path"})

    assert '[modules.blog]: source "path" needs path' in parse_error(raw, tmp_path)


def test_path_source_pointing_to_a_dir_without_pyproject_is_rejected(fake):
    (fake.root / "packages/rustok-blog/src").mkdir(parents=True)
    raw = modules(blog={"package": "rustok-blog", "path": "packages/rustok-blog"})

    message = parse_error(raw, fake.root)

    assert "[modules.blog]: no package at packages/rustok-blog (pyproject.toml missing)" in message


def test_path_source_pointing_nowhere_is_rejected(fake):
    raw = modules(blog={"package": "rustok-blog", "path": "packages/nothing-here"})

    assert "no package at packages/nothing-here" in parse_error(raw, fake.root)


@pytest.mark.parametrize("version", [None, "", ">=1.0", "~=1.2", "1.*", "latest", "1.0,<2"])
def test_index_source_needs_an_exact_version(tmp_path, version):
    table: dict[str, Any] = {"package": "rustok-blog", "source": "index"}
    if version is not None:
        table["version"] = version
    raw = modules(blog=table)

    assert '[modules.blog]: source "index" needs an exact version' in parse_error(raw, tmp_path)


def test_version_on_a_path_source_is_rejected(fake):
    fake.module_package("blog")
    raw = modules(blog={"package": "rustok-blog", "path": "packages/rustok-blog", "version": "1.0.0"})

    assert "[modules.blog]: 'version' only applies to source \"index\"" in parse_error(raw, fake.root)


def test_version_on_a_git_source_is_rejected(tmp_path):
    raw = modules(blog={"package": "rustok-blog", "source": "git", "git": "https://x/b.git", "version": "1.0.0"})

    assert "'version' only applies to source \"index\"" in parse_error(raw, tmp_path)


def test_path_on_an_index_source_is_rejected(tmp_path):
    raw = modules(blog=index("rustok-blog", path="packages/rustok-blog"))

    assert "[modules.blog]: 'path' only applies to source \"path\"" in parse_error(raw, tmp_path)


@pytest.mark.parametrize("key", ["git", "rev", "tag", "branch"])
def test_git_keys_on_an_index_source_are_rejected(tmp_path, key):
    raw = modules(blog=index("rustok-blog", **{key: "x"}))

    assert f'[modules.blog]: {key} only apply to source "git"' in parse_error(raw, tmp_path)


def test_git_keys_on_a_path_source_are_named(fake):
    fake.module_package("blog")
    raw = modules(blog={"package": "rustok-blog", "path": "packages/rustok-blog", "git": "https://x", "tag": "v1"})

    assert 'git, tag only apply to source "git"' in parse_error(raw, fake.root)


def test_git_source_without_url_is_rejected(tmp_path):
    raw = modules(blog={"package": "rustok-blog", "source": "git", "tag": "v1"})

    assert '[modules.blog]: source "git" needs git' in parse_error(raw, tmp_path)


@pytest.mark.parametrize(("first", "second"), [("rev", "tag"), ("tag", "branch"), ("rev", "branch")])
def test_two_git_refs_are_rejected(tmp_path, first, second):
    raw = modules(blog={"package": "rustok-blog", "source": "git", "git": "https://x", first: "a", second: "b"})

    assert "[modules.blog]: give at most one of rev, tag, branch" in parse_error(raw, tmp_path)


def test_empty_git_ref_is_rejected(tmp_path):
    raw = modules(blog={"package": "rustok-blog", "source": "git", "git": "https://x", "branch": ""})

    assert "'branch' must be a non-empty string" in parse_error(raw, tmp_path)


def test_required_must_be_a_boolean(tmp_path):
    raw = modules(blog=index("rustok-blog", required="yes"))

    assert "[modules.blog]: 'required' must be true or false" in parse_error(raw, tmp_path)


def test_depends_on_must_be_a_list_of_slugs(tmp_path):
    raw = modules(blog=index("rustok-blog", depends_on="tenant"))

    assert "'depends_on' must be a list of module slugs" in parse_error(raw, tmp_path)


def test_depends_on_an_unlisted_module_is_named(tmp_path):
    raw = modules(blog=index("rustok-blog", depends_on=["forum"]))

    assert "module 'blog' depends on 'forum', which is not listed" in parse_error(raw, tmp_path)


def test_several_unlisted_dependencies_are_all_named(tmp_path):
    raw = modules(blog=index("rustok-blog", depends_on=["forum", "media"]))

    assert "module 'blog' depends on 'forum', 'media', which are not listed" in parse_error(raw, tmp_path)


def test_dependency_cycle_names_the_modules_in_it(tmp_path):
    raw = modules(
        alpha=index("rustok-alpha", depends_on=["beta"]),
        beta=index("rustok-beta", depends_on=["gamma"]),
        gamma=index("rustok-gamma", depends_on=["alpha"]),
        outside=index("rustok-outside"),
    )

    message = parse_error(raw, tmp_path)

    assert "dependency cycle" in message
    cycle = re.search(r"dependency cycle between modules: (.*)$", message)
    assert cycle is not None, message
    assert set(cycle.group(1).split(" -> ")) == {"alpha", "beta", "gamma"}


def test_self_dependency_is_rejected(tmp_path):
    raw = modules(blog=index("rustok-blog", depends_on=["blog"]))

    assert "[modules.blog]: a module cannot depend on itself" in parse_error(raw, tmp_path)


def test_duplicate_package_names_both_modules(tmp_path):
    raw = modules(blog=index("rustok-blog"), news=index("rustok-blog", version="2.0.0"))

    assert "modules 'blog' and 'news' both use package rustok-blog" in parse_error(raw, tmp_path)


@pytest.mark.parametrize("name", ["not-an-identifier", "1abc", ""])
def test_invalid_import_override_is_rejected(tmp_path, name):
    raw = modules(blog=index("rustok-blog", **{"import": name}))

    assert "[modules.blog]: 'import' must be the module's Python package name" in parse_error(raw, tmp_path)
