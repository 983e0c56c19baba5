"""xtask generate: pins, sources, manifest and import contracts, written deterministically."""

from __future__ import annotations

import configparser
import tomllib
from pathlib import Path

import pytest

from rustok_server.manifest import ManifestEntry
from rustok_xtask.generate import (
    PINS,
    SOURCES,
    drift,
    generate,
    plan,
    render_importlinter,
    render_manifest,
    render_pins,
    render_sources,
    replace_block,
)
from rustok_xtask.modules_file import XtaskError
from rustok_xtask.workspace import Workspace

MIXED_MODULES_TOML = """\
# Every kind of source.
schema = 1
app = "rustok-server"

[modules.tenant]
package = "rustok-tenant"
path = "packages/rustok-tenant"
required = true

[modules.blog]  # a path package outside the workspace members
package = "rustok-blog"
path = "vendor/rustok-blog"
depends_on = ["tenant"]

[modules.shop]
package = "rustok-shop"
path = "packages/rustok-shop"
depends_on = ["blog"]

[modules.pages]
package = "rustok-pages"
source = "index"
version = "1.2.3"

[modules.forum]
package = "rustok-forum"
source = "git"
git = "https://example.com/rustok-forum.git"
tag = "v0.4.0"
"""


@pytest.fixture
def mixed(fake):
    fake.module_package("blog", directory="vendor/rustok-blog")
    fake.module_package("shop")
    fake.modules_toml(MIXED_MODULES_TOML)
    return fake


def ws(fake) -> Workspace:
    return Workspace(fake.root)


def sources_of(workspace: Workspace) -> dict:
    rendered = render_sources(workspace)
    return tomllib.loads(rendered)["tool"]["uv"]["sources"] if rendered else {}


def block(text: str, markers: tuple[str, str]) -> str:
    return text.split(markers[0] + "\n", 1)[1].split(markers[1], 1)[0]


def outside(text: str) -> list[str]:
    """The text before the first begin marker, between the blocks, and after the last end marker."""
    head, rest = text.split(PINS[0], 1)
    between = rest.split(PINS[1], 1)[1].split(SOURCES[0], 1)[0]
    tail = rest.split(SOURCES[1], 1)[1]
    return [head, between, tail]


# --- pins and sources ------------------------------------------------------------------------


def test_pins_are_sorted_and_exact_for_index_modules(mixed):
    rendered = render_pins(ws(mixed).modules)

    assert tomllib.loads(rendered)["modules"] == [
        "rustok-blog",
        "rustok-forum",
        "rustok-pages==1.2.3",
        "rustok-shop",
        "rustok-tenant",
    ]
    assert rendered.startswith("modules = [\n")


def test_path_module_inside_the_workspace_is_a_workspace_source(fake):
    assert render_sources(ws(fake)) == "[tool.uv.sources.rustok-tenant]\nworkspace = true\n"
    assert render_pins(ws(fake).modules) == 'modules = [\n    "rustok-tenant",\n]\n'


def test_path_module_outside_the_members_is_an_editable_path_relative_to_the_app(mixed):
    assert sources_of(ws(mixed))["rustok-blog"] == {"path": "../../vendor/rustok-blog", "editable": True}


def test_workspace_member_path_modules_use_workspace_sources(mixed):
    sources = sources_of(ws(mixed))

    assert sources["rustok-shop"] == {"workspace": True}
    assert sources["rustok-tenant"] == {"workspace": True}


def test_index_module_has_no_source_entry(mixed):
    assert "rustok-pages" not in sources_of(ws(mixed))


@pytest.mark.parametrize("ref", ["rev", "tag", "branch"])
def test_git_module_source_has_the_url_and_its_ref(fake, ref):
    fake.modules_toml(
        f"""\
        schema = 1
        app = "rustok-server"

        [modules.forum]
        package = "rustok-forum"
        source = "git"
        git = "https://example.com/rustok-forum.git"
        {ref} = "main-or-v1"
        """
    )

    assert sources_of(ws(fake)) == {"rustok-forum": {"git": "https://example.com/rustok-forum.git", ref: "main-or-v1"}}


def test_git_module_without_ref_has_only_the_url(fake):
    fake.modules_toml(
        """\
        schema = 1
        app = "rustok-server"

        [modules.forum]
        package = "rustok-forum"
        source = "git"
        git = "https://example.com/rustok-forum.git"
        """
    )

    assert sources_of(ws(fake)) == {"rustok-forum": {"git": "https://example.com/rustok-forum.git"}}


def test_sources_are_sorted_by_package(mixed):
    assert list(sources_of(ws(mixed))) == ["rustok-blog", "rustok-forum", "rustok-shop", "rustok-tenant"]


def test_no_modules_render_empty_pins_and_no_sources(fake):
    fake.modules_toml('schema = 1\napp = "rustok-server"\n')

    assert tomllib.loads(render_pins(ws(fake).modules)) == {"modules": []}
    assert render_sources(ws(fake)) == ""


def test_app_that_is_not_a_workspace_member_is_rejected(fake):
    fake.modules_toml('schema = 1\napp = "rustok-elsewhere"\n')

    with pytest.raises(XtaskError, match="app 'rustok-elsewhere' is not a member of the uv workspace"):
        plan(ws(fake))


# --- manifest ----------------------------------------------------------------------------


def run_manifest(text: str) -> tuple[ManifestEntry, ...]:
    namespace: dict = {}
    exec(compile(text, "_manifest.py", "exec"), namespace)
    return namespace["MODULES"]


def test_manifest_lists_modules_in_dependency_order(mixed):
    entries = run_manifest(render_manifest(ws(mixed).modules))

    slugs = [entry.slug for entry in entries]
    assert sorted(slugs) == ["blog", "forum", "pages", "shop", "tenant"]
    assert slugs.index("tenant") < slugs.index("blog") < slugs.index("shop")


def test_manifest_entries_carry_package_required_and_depends_on(mixed):
    entries = {entry.slug: entry for entry in run_manifest(render_manifest(ws(mixed).modules))}

    assert entries["tenant"] == ManifestEntry(slug="tenant", package="rustok-tenant", required=True, depends_on=())
    assert entries["shop"] == ManifestEntry(slug="shop", package="rustok-shop", required=False, depends_on=("blog",))
    assert entries["pages"].package == "rustok-pages"


def test_manifest_renders_multiple_dependencies_as_a_tuple(fake):
    fake.modules_toml(
        """\
        schema = 1
        app = "rustok-server"

        [modules.aa]
        package = "rustok-aa"
        source = "index"
        version = "1.0.0"

        [modules.bb]
        package = "rustok-bb"
        source = "index"
        version = "1.0.0"

        [modules.cc]
        package = "rustok-cc"
        source = "index"
        version = "1.0.0"
        depends_on = ["bb", "aa"]
        """
    )

    entries = {entry.slug: entry for entry in run_manifest(render_manifest(ws(fake).modules))}

    assert entries["cc"].depends_on == ("bb", "aa")


def test_manifest_is_marked_generated(fake):
    assert "Generated by `xtask generate`" in render_manifest(ws(fake).modules).splitlines()[0]


# --- import contracts ----------------------------------------------------------------------


def contracts(workspace: Workspace) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read_string(render_importlinter(workspace))
    return parser


def listed(parser: configparser.ConfigParser, section: str, key: str) -> list[str]:
    return parser[section][key].split()


def test_root_packages_are_core_app_modules_and_testing(mixed):
    parser = contracts(ws(mixed))

    assert listed(parser, "importlinter", "root_packages") == [
        "rustok_core",
        "rustok_server",
        "rustok_blog",
        "rustok_forum",
        "rustok_pages",
        "rustok_shop",
        "rustok_tenant",
        "rustok_testing",
    ]


def test_core_may_import_no_module_and_no_app(mixed):
    core = contracts(ws(mixed))["importlinter:contract:core"]

    assert core["type"] == "forbidden"
    assert core["source_modules"] == "rustok_core"
    assert set(core["forbidden_modules"].split()) == {
        "rustok_server",
        "rustok_testing",
        "rustok_blog",
        "rustok_forum",
        "rustok_pages",
        "rustok_shop",
        "rustok_tenant",
    }


def test_app_may_import_no_module(mixed):
    server = contracts(ws(mixed))["importlinter:contract:server"]

    assert server["source_modules"] == "rustok_server"
    assert server["forbidden_modules"].split() == [
        "rustok_blog",
        "rustok_forum",
        "rustok_pages",
        "rustok_shop",
        "rustok_tenant",
    ]


def test_each_module_may_import_only_its_transitive_dependencies(mixed):
    parser = contracts(ws(mixed))

    def forbidden(slug: str) -> set[str]:
        section = parser[f"importlinter:contract:module-{slug}"]
        assert section["source_modules"] == f"rustok_{slug}"
        return set(section["forbidden_modules"].split())

    upper = {"rustok_server", "rustok_testing"}
    # shop -> blog -> tenant: both allowed to shop, transitively.
    assert forbidden("shop") == upper | {"rustok_forum", "rustok_pages"}
    assert forbidden("blog") == upper | {"rustok_forum", "rustok_pages", "rustok_shop"}
    assert forbidden("tenant") == upper | {"rustok_blog", "rustok_forum", "rustok_pages", "rustok_shop"}
    assert forbidden("pages") == upper | {"rustok_blog", "rustok_forum", "rustok_shop", "rustok_tenant"}


def test_every_module_has_exactly_one_contract(mixed):
    sections = [s for s in contracts(ws(mixed)).sections() if s.startswith("importlinter:contract:module-")]

    assert sorted(sections) == [
        f"importlinter:contract:module-{s}" for s in ("blog", "forum", "pages", "shop", "tenant")
    ]


def test_testing_package_is_left_out_when_it_is_not_a_member(fake):
    (fake.root / "packages/rustok-testing/pyproject.toml").unlink()

    parser = contracts(ws(fake))

    assert "rustok_testing" not in parser["importlinter"]["root_packages"]
    assert listed(parser, "importlinter:contract:module-tenant", "forbidden_modules") == ["rustok_server"]


def test_import_override_is_used_in_contracts(fake):
    fake.modules_toml(
        """\
        schema = 1
        app = "rustok-server"

        [modules.blog]
        package = "rustok-blog"
        source = "index"
        version = "1.0.0"
        import = "blogpkg"
        """
    )

    parser = contracts(ws(fake))

    assert parser["importlinter:contract:module-blog"]["source_modules"] == "blogpkg"
    assert "blogpkg" in listed(parser, "importlinter:contract:core", "forbidden_modules")


# --- generate, drift -----------------------------------------------------------------------


def test_generate_writes_the_three_files_then_changes_nothing(mixed):
    first = generate(ws(mixed))

    assert sorted(first) == sorted([mixed.server_pyproject, mixed.manifest, mixed.importlinter])
    snapshot = {path: path.read_bytes() for path in first}

    assert generate(ws(mixed)) == []
    assert {path: path.read_bytes() for path in first} == snapshot


def test_generated_server_pyproject_is_valid_toml_with_the_pins_and_sources(mixed):
    generate(ws(mixed))

    data = tomllib.loads(mixed.server_pyproject.read_text(encoding="utf-8"))

    assert (
        data["project"]["optional-dependencies"]["modules"] == tomllib.loads(render_pins(ws(mixed).modules))["modules"]
    )
    sources = data["tool"]["uv"]["sources"]
    assert sources["rustok-core"] == {"workspace": True}, "hand-written sources must survive"
    assert sources["rustok-blog"] == {"path": "../../vendor/rustok-blog", "editable": True}
    assert "rustok-pages" not in sources


def test_generate_preserves_text_outside_the_markers_byte_for_byte(mixed):
    before = mixed.server_pyproject.read_bytes()

    generate(ws(mixed))

    after = mixed.server_pyproject.read_bytes()
    assert after != before
    assert outside(after.decode()) == outside(before.decode())
    assert after.endswith(b"# trailing comment without a final newline")
    assert b"keep me.   \n" in after


def test_generate_replaces_only_the_block_contents(mixed):
    generate(ws(mixed))
    text = mixed.server_pyproject.read_text(encoding="utf-8")

    assert block(text, PINS) == render_pins(ws(mixed).modules)
    assert block(text, SOURCES) == render_sources(ws(mixed))
    assert "stale-package" not in text


def test_generate_is_stable_across_module_table_order(mixed):
    generate(ws(mixed))
    snapshot = {p: p.read_bytes() for p in (mixed.server_pyproject, mixed.manifest, mixed.importlinter)}
    tables = MIXED_MODULES_TOML.split("\n[modules.")
    reordered = "\n[modules.".join([tables[0], *reversed(tables[1:])])
    mixed.modules_toml(reordered if reordered.endswith("\n") else reordered + "\n")

    assert generate(ws(mixed)) == []
    assert {p: p.read_bytes() for p in snapshot} == snapshot


def test_generate_after_adding_a_module_rewrites_what_depends_on_it(fake):
    generate(ws(fake))
    fake.module_package("blog")
    with (fake.root / "modules.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[modules.blog]\npackage = "rustok-blog"\npath = "packages/rustok-blog"\n')

    assert sorted(drift(ws(fake))) == sorted([fake.server_pyproject, fake.manifest, fake.importlinter])
    assert sorted(generate(ws(fake))) == sorted([fake.server_pyproject, fake.manifest, fake.importlinter])
    assert '"rustok-blog"' in fake.server_pyproject.read_text(encoding="utf-8")
    assert drift(ws(fake)) == []


@pytest.mark.parametrize("markers", [PINS, SOURCES], ids=["pins", "sources"])
@pytest.mark.parametrize("which", [0, 1], ids=["begin", "end"])
def test_missing_marker_names_the_file(fake, markers, which):
    text = fake.server_pyproject.read_text(encoding="utf-8")
    fake.server_pyproject.write_text(text.replace(markers[which] + "\n", ""), encoding="utf-8")

    with pytest.raises(XtaskError, match=r"apps/server/pyproject\.toml: expected one pair of marker lines") as err:
        generate(ws(fake))
    assert markers[0] in str(err.value)
    assert not fake.manifest.exists(), "a refused generate writes nothing"


def test_duplicated_markers_name_the_file(fake):
    text = fake.server_pyproject.read_text(encoding="utf-8")
    fake.server_pyproject.write_text(text + f"\n{PINS[0]}\n{PINS[1]}\n", encoding="utf-8")
    before = fake.server_pyproject.read_bytes()

    with pytest.raises(XtaskError, match=r"apps/server/pyproject\.toml: expected one pair"):
        generate(ws(fake))
    assert fake.server_pyproject.read_bytes() == before, "a refused generate writes nothing"
    assert not fake.manifest.exists()


def test_markers_in_the_wrong_order_are_rejected():
    text = f"{PINS[1]}\n{PINS[0]}\n"

    with pytest.raises(XtaskError, match=r"^some/file\.toml: expected one pair"):
        replace_block(text, PINS, "x = 1\n", file="some/file.toml")


def test_generated_content_that_breaks_toml_is_reported(fake):
    # A block placed inside an array makes the generated table invalid TOML.
    fake.write(
        "apps/server/pyproject.toml",
        f'[project]\nname = "rustok-server"\nversion = "0"\ndeps = [\n{PINS[0]}\n{PINS[1]}\n]\n'
        f"{SOURCES[0]}\n{SOURCES[1]}\n",
    )

    with pytest.raises(XtaskError, match=r"apps/server/pyproject\.toml: generated content is not valid TOML"):
        generate(ws(fake))


def test_drift_is_empty_right_after_generate(mixed):
    generate(ws(mixed))

    assert drift(ws(mixed)) == []


def test_drift_lists_exactly_the_files_edited_by_hand(mixed):
    generate(ws(mixed))

    mixed.manifest.write_text(mixed.manifest.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert drift(ws(mixed)) == [mixed.manifest]

    mixed.importlinter.write_text(
        mixed.importlinter.read_text(encoding="utf-8").replace("rustok_pages\n", "", 1), encoding="utf-8"
    )
    assert sorted(drift(ws(mixed))) == sorted([mixed.manifest, mixed.importlinter])


def test_drift_ignores_edits_outside_the_markers(mixed):
    generate(ws(mixed))
    text = mixed.server_pyproject.read_text(encoding="utf-8")
    mixed.server_pyproject.write_text("# a new hand-written comment\n" + text, encoding="utf-8")

    assert drift(ws(mixed)) == []


def test_drift_catches_a_hand_edited_pin(mixed):
    generate(ws(mixed))
    text = mixed.server_pyproject.read_text(encoding="utf-8")
    mixed.server_pyproject.write_text(text.replace('"rustok-pages==1.2.3"', '"rustok-pages==1.2.4"'), encoding="utf-8")

    assert drift(ws(mixed)) == [mixed.server_pyproject]


def test_drift_lists_a_deleted_generated_file(mixed):
    generate(ws(mixed))
    mixed.importlinter.unlink()

    assert drift(ws(mixed)) == [mixed.importlinter]
    assert generate(ws(mixed)) == [mixed.importlinter]


def test_drift_does_not_write(mixed):
    before = mixed.server_pyproject.read_bytes()

    assert drift(ws(mixed))
    assert mixed.server_pyproject.read_bytes() == before
    assert not mixed.manifest.exists()
    assert not mixed.importlinter.exists()


def test_plan_targets_the_app_files(mixed):
    assert set(plan(ws(mixed))) == {mixed.server_pyproject, mixed.manifest, mixed.importlinter}
    assert Path(ws(mixed).manifest_module) == mixed.manifest
