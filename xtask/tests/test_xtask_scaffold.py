"""xtask new-module: a complete package, listed in modules.toml, or a clear refusal."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import graphql
import pytest

from rustok_xtask.check import check
from rustok_xtask.generate import generate
from rustok_xtask.modules_file import XtaskError
from rustok_xtask.scaffold import names, new_module
from rustok_xtask.workspace import Workspace


def ws(fake) -> Workspace:
    return Workspace(fake.root)


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


def scaffold(fake, slug: str = "demo_shop", **kwargs) -> tuple[Path, set[str]]:
    """Run new_module; return the package dir and the dates it may have stamped."""
    before = today()
    target = new_module(ws(fake), slug, **kwargs)
    return target, {before, today()}


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def assigned(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return ast.literal_eval(node.value)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned")


# --- what it creates ---------------------------------------------------------------------------


def test_creates_the_package_with_every_expected_file(fake):
    target, dates = scaffold(fake)

    assert target == fake.root / "packages/rustok-demo-shop"
    relative = {p.relative_to(target).as_posix() for p in files_under(target)}
    migrations = {r for r in relative if r.startswith("src/rustok_demo_shop/migrations/versions/")}
    assert migrations & {
        f"src/rustok_demo_shop/migrations/versions/m{d}_demo_shop_001_create_demo_shop_items.py" for d in dates
    }, migrations
    assert relative - migrations == {
        "pyproject.toml",
        "README.md",
        "src/rustok_demo_shop/__init__.py",
        "src/rustok_demo_shop/module.py",
        "src/rustok_demo_shop/models.py",
        "src/rustok_demo_shop/services.py",
        "src/rustok_demo_shop/permissions.py",
        "src/rustok_demo_shop/graphql/__init__.py",
        "src/rustok_demo_shop/graphql/schema.graphql",
        "tests/test_demo_shop_module.py",
    }
    assert len(migrations) == 1
    assert (fake.root / "docs/modules/demo_shop.md").is_file()


def test_pyproject_registers_the_entry_point_named_after_the_slug(fake):
    target, _ = scaffold(fake)

    project = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))

    assert project["project"]["name"] == "rustok-demo-shop"
    assert project["project"]["entry-points"]["rustok.modules"] == {"demo_shop": "rustok_demo_shop.module:module"}
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/rustok_demo_shop"]
    assert "rustok-core" in project["project"]["dependencies"]


def test_migration_is_the_first_of_the_module_branch_after_the_tenant_table(fake):
    target, dates = scaffold(fake)

    (migration,) = (target / "src/rustok_demo_shop/migrations/versions").glob("*.py")
    assert migration.name in {f"m{d}_demo_shop_001_create_demo_shop_items.py" for d in dates}
    tree = ast.parse(migration.read_text(encoding="utf-8"))

    assert assigned(tree, "revision") == "demo_shop_001"
    assert assigned(tree, "down_revision") is None
    assert assigned(tree, "branch_labels") == ("demo_shop",)
    assert assigned(tree, "depends_on") == ("tenant_001",)
    assert {f.name for f in tree.body if isinstance(f, ast.FunctionDef)} >= {"upgrade", "downgrade"}
    assert '"demo_shop_items"' in migration.read_text(encoding="utf-8")


def test_sdl_parses_and_extends_query_and_mutation(fake):
    target, _ = scaffold(fake)

    document = graphql.parse((target / "src/rustok_demo_shop/graphql/schema.graphql").read_text(encoding="utf-8"))

    extensions = {
        d.name.value: {f.name.value for f in d.fields}
        for d in document.definitions
        if isinstance(d, graphql.ObjectTypeExtensionNode)
    }
    assert extensions == {
        "Query": {"demoShopHello", "demoShopItems"},
        "Mutation": {"createDemoShopItem"},
    }
    types = {d.name.value for d in document.definitions if isinstance(d, graphql.ObjectTypeDefinitionNode)}
    assert types == {"DemoShopItem"}


def test_resolvers_bind_the_fields_the_sdl_declares(fake):
    target, _ = scaffold(fake)

    source = (target / "src/rustok_demo_shop/graphql/__init__.py").read_text(encoding="utf-8")

    for field in ("demoShopHello", "demoShopItems", "createDemoShopItem"):
        assert f'.field("{field}")' in source


def test_module_object_declares_the_slug_and_is_optional(fake):
    target, _ = scaffold(fake)

    source = (target / "src/rustok_demo_shop/module.py").read_text(encoding="utf-8")

    assert 'slug="demo_shop"' in source
    assert "kind=ModuleKind.OPTIONAL" in source
    assert 'version("rustok-demo-shop")' in source
    assert "module = DemoShopModule()" in source


def test_permissions_are_scoped_to_the_module_table(fake):
    target, _ = scaffold(fake)

    source = (target / "src/rustok_demo_shop/permissions.py").read_text(encoding="utf-8")

    assert 'Permission("demo_shop_items", "read"' in source
    assert 'Permission("demo_shop_items", "create"' in source


@pytest.mark.parametrize("slug", ["demo_shop", "blog", "a1", "x2_y_z3", "shop__v2"])
def test_generated_python_compiles_and_no_placeholder_is_left(fake, slug):
    target, _ = scaffold(fake, slug)
    generated = [*files_under(target), fake.root / f"docs/modules/{slug}.md"]

    python = [p for p in generated if p.suffix == ".py"]
    assert len(python) == 8  # 7 in the package + its test module
    for path in python:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    for path in generated:
        text = path.read_text(encoding="utf-8")
        assert "${" not in text, f"leftover placeholder in {path}"
        assert "{import}" not in path.as_posix() and "{slug}" not in path.as_posix()
    graphql.parse((target / f"src/rustok_{slug}/graphql/schema.graphql").read_text(encoding="utf-8"))
    tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))


def test_generated_tests_query_the_module_fields(fake):
    target, _ = scaffold(fake)

    source = (target / "tests/test_demo_shop_module.py").read_text(encoding="utf-8")

    assert "demoShopHello" in source
    assert '{"slug": "demo_shop", "kind": "OPTIONAL"}' in source
    assert "createDemoShopItem" in source


def test_description_is_used_in_the_package(fake):
    target, _ = scaffold(fake, description="Sells demo things.")

    assert 'description = "Sells demo things."' in (target / "pyproject.toml").read_text(encoding="utf-8")
    assert 'description="Sells demo things."' in (target / "src/rustok_demo_shop/module.py").read_text(encoding="utf-8")
    assert "Sells demo things." in (fake.root / "docs/modules/demo_shop.md").read_text(encoding="utf-8")


def test_default_description_names_the_module():
    assert names("demo_shop")["description"] == "Demo Shop: a RusToK module."
    assert names("demo_shop")["pascal"] == "DemoShop"
    assert names("demo_shop")["camel"] == "demoShop"


# --- modules.toml --------------------------------------------------------------------------


def test_appends_the_module_table_and_keeps_existing_text(fake):
    path = fake.root / "modules.toml"
    before = path.read_text(encoding="utf-8")

    scaffold(fake)

    after = path.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n") + "\n")
    assert "# Which modules this deployment installs." in after
    appended = after[len(before.rstrip("\n")) :]
    assert tomllib.loads(appended) == {
        "modules": {
            "demo_shop": {
                "package": "rustok-demo-shop",
                "source": "path",
                "path": "packages/rustok-demo-shop",
                "required": False,
            }
        }
    }


def test_appended_file_parses_and_validates(fake):
    scaffold(fake)

    spec = Workspace(fake.root).modules.modules["demo_shop"]

    assert (spec.package, spec.source, spec.path, spec.required, spec.depends_on) == (
        "rustok-demo-shop",
        "path",
        "packages/rustok-demo-shop",
        False,
        (),
    )
    assert spec.import_name == "rustok_demo_shop"
    assert set(Workspace(fake.root).modules.modules) == {"tenant", "demo_shop"}


def test_scaffolded_package_passes_check_once_generated(fake):
    generate(ws(fake))
    scaffold(fake)

    stale = check(ws(fake), lock=False, installed=False)
    assert stale and all("out of date" in p for p in stale), stale

    generate(ws(fake))
    assert check(ws(fake), lock=False, installed=False) == []


def test_two_modules_can_be_scaffolded_one_after_the_other(fake):
    scaffold(fake, "blog")
    scaffold(fake, "forum")

    assert set(Workspace(fake.root).modules.modules) == {"tenant", "blog", "forum"}


def test_modules_toml_without_final_newline_still_gets_a_separate_table(fake):
    path = fake.root / "modules.toml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")

    scaffold(fake)

    assert Workspace(fake.root).modules.modules["tenant"].required is True
    assert "demo_shop" in Workspace(fake.root).modules.modules


# --- refusals ----------------------------------------------------------------------------------


def snapshot(fake) -> dict[str, bytes]:
    return {p.relative_to(fake.root).as_posix(): p.read_bytes() for p in files_under(fake.root)}


@pytest.mark.parametrize("name", ["Demo", "1shop", "s", "demo-shop", "demo shop", "d" * 33, "_shop", ""])
def test_invalid_names_are_refused_and_nothing_is_written(fake, name):
    before = snapshot(fake)

    with pytest.raises(XtaskError, match="invalid module name"):
        new_module(ws(fake), name)
    assert snapshot(fake) == before


def test_name_already_listed_is_refused(fake):
    before = snapshot(fake)

    with pytest.raises(XtaskError, match=r"module 'tenant' is already listed in modules\.toml"):
        new_module(ws(fake), "tenant")
    assert snapshot(fake) == before


def test_name_listed_with_another_package_is_refused(fake):
    fake.modules_toml(
        """\
        schema = 1
        app = "rustok-server"

        [modules.shop]
        package = "acme-shop"
        source = "index"
        version = "1.0.0"
        """
    )

    with pytest.raises(XtaskError, match="already listed"):
        new_module(ws(fake), "shop")
    assert not (fake.root / "packages/rustok-shop").exists()


def test_package_already_used_by_another_module_is_refused(fake):
    fake.modules_toml(
        """\
        schema = 1
        app = "rustok-server"

        [modules.legacy_shop]
        package = "rustok-demo-shop"
        source = "index"
        version = "1.0.0"
        """
    )
    before = snapshot(fake)

    with pytest.raises(XtaskError, match="rustok-demo-shop"):
        new_module(ws(fake), "demo_shop")
    assert snapshot(fake) == before
    assert Workspace(fake.root).modules.modules.keys() == {"legacy_shop"}


def test_existing_directory_is_refused(fake):
    (fake.root / "packages/rustok-demo-shop").mkdir()
    before = snapshot(fake)

    with pytest.raises(XtaskError, match="packages/rustok-demo-shop already exists"):
        new_module(ws(fake), "demo_shop")
    assert snapshot(fake) == before
    assert list((fake.root / "packages/rustok-demo-shop").iterdir()) == []


@pytest.mark.parametrize("description", ['Say "hi"', "back\\slash", "two\nlines"])
def test_description_that_would_break_the_files_is_refused(fake, description):
    before = snapshot(fake)

    with pytest.raises(XtaskError, match="description"):
        new_module(ws(fake), "demo_shop", description=description)
    assert snapshot(fake) == before


def test_invalid_modules_toml_is_reported_before_anything_is_written(fake):
    fake.write("modules.toml", "schema = 2\n")

    with pytest.raises(XtaskError, match="'schema' must be 1"):
        new_module(ws(fake), "demo_shop")
    assert not (fake.root / "packages/rustok-demo-shop").exists()


# --- the repository's own lint rules -------------------------------------------------------------

REPO_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.mark.parametrize("name", ["demo_shop", "abcdefghij_klmnopqrstu_vwxyz1234"])
def test_scaffolded_package_passes_the_repository_ruff_rules(fake, name):
    target, _ = scaffold(fake, name)
    ruff = [sys.executable, "-m", "ruff"]

    lint = subprocess.run(
        [*ruff, "check", "--no-cache", "--config", str(REPO_PYPROJECT), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    formatted = subprocess.run(
        [*ruff, "format", "--no-cache", "--check", "--config", str(REPO_PYPROJECT), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
