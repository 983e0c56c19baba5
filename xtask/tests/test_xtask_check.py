"""xtask check: names every way the workspace can be out of step with modules.toml."""

from __future__ import annotations

import pytest

from rustok_xtask import check as check_module
from rustok_xtask.check import check
from rustok_xtask.generate import generate
from rustok_xtask.workspace import Workspace, find_root


def ws(fake) -> Workspace:
    return Workspace(fake.root)


@pytest.fixture
def generated(fake):
    generate(ws(fake))
    return fake


def test_consistent_workspace_has_no_problems(generated):
    assert check(ws(generated), lock=False, installed=False) == []


def test_ungenerated_workspace_names_each_stale_file(fake):
    problems = check(ws(fake), lock=False, installed=False)

    assert problems == [
        "apps/server/pyproject.toml is out of date with modules.toml; run `uv run xtask generate`",
        "apps/server/src/rustok_server/_manifest.py is out of date with modules.toml; run `uv run xtask generate`",
        ".importlinter is out of date with modules.toml; run `uv run xtask generate`",
    ]


def test_hand_edited_manifest_is_reported(generated):
    generated.manifest.write_text("MODULES = ()\n", encoding="utf-8")

    problems = check(ws(generated), lock=False, installed=False)

    assert problems == [
        "apps/server/src/rustok_server/_manifest.py is out of date with modules.toml; run `uv run xtask generate`"
    ]


def test_path_package_with_a_different_name_is_reported(generated):
    generated.package(
        "packages/rustok-tenant", "rustok-tenants", entry_points={"tenant": "rustok_tenant.module:module"}
    )

    problems = check(ws(generated), lock=False, installed=False)

    assert problems == [
        "module 'tenant': packages/rustok-tenant holds package 'rustok-tenants', but modules.toml says 'rustok-tenant'"
    ]


def test_path_package_without_a_name_is_reported(generated):
    generated.write("packages/rustok-tenant/pyproject.toml", "[build-system]\nrequires = []\n")

    problems = check(ws(generated), lock=False, installed=False)

    # Without a name it is no workspace member either, so its uv source changes too.
    assert (
        problems[0]
        == "module 'tenant': packages/rustok-tenant holds package None, but modules.toml says 'rustok-tenant'"
    )


def test_path_package_without_entry_points_is_reported(generated):
    generated.package("packages/rustok-tenant", "rustok-tenant")

    problems = check(ws(generated), lock=False, installed=False)

    assert problems == [
        "module 'tenant': packages/rustok-tenant/pyproject.toml registers no "
        "[project.entry-points.\"rustok.modules\"] entry named 'tenant'"
    ]


def test_entry_point_named_other_than_the_slug_is_reported(generated):
    generated.package(
        "packages/rustok-tenant", "rustok-tenant", entry_points={"tenants": "rustok_tenant.module:module"}
    )

    problems = check(ws(generated), lock=False, installed=False)

    assert len(problems) == 1
    assert "registers no" in problems[0]
    assert "entry named 'tenant'" in problems[0]


def test_entry_point_in_another_group_does_not_count(generated):
    generated.write(
        "packages/rustok-tenant/pyproject.toml",
        '[project]\nname = "rustok-tenant"\n\n[project.entry-points.pytest11]\ntenant = "rustok_tenant.plugin"\n',
    )

    problems = check(ws(generated), lock=False, installed=False)

    assert len(problems) == 1
    assert "entry named 'tenant'" in problems[0]


def test_index_and_git_modules_are_not_checked_as_path_packages(generated):
    generated.modules_toml(
        """\
        schema = 1
        app = "rustok-server"

        [modules.pages]
        package = "rustok-pages"
        source = "index"
        version = "1.0.0"

        [modules.forum]
        package = "rustok-forum"
        source = "git"
        git = "https://example.com/forum.git"
        """
    )
    generate(ws(generated))

    assert check(ws(generated), lock=False, installed=False) == []


def test_every_problem_is_reported_at_once(fake):
    fake.package("packages/rustok-tenant", "rustok-tenant")

    problems = check(ws(fake), lock=False, installed=False)

    assert len(problems) == 4
    assert "entry named 'tenant'" in problems[0]
    assert all("out of date" in p for p in problems[1:])


def test_invalid_modules_toml_is_the_only_problem(fake):
    fake.write("modules.toml", "schema = 1\napp = [\n")

    problems = check(ws(fake), lock=False, installed=False)

    assert len(problems) == 1
    assert problems[0].startswith("modules.toml is not valid TOML")


def test_missing_markers_are_reported_not_raised(generated):
    generated.server_pyproject.write_text('[project]\nname = "rustok-server"\n', encoding="utf-8")

    problems = check(ws(generated), lock=False, installed=False)

    assert len(problems) == 1
    assert problems[0].startswith("apps/server/pyproject.toml: expected one pair of marker lines")


def test_installed_check_reports_a_listed_module_that_is_not_installed(generated):
    generated.module_package("nosuchmod")
    with (generated.root / "modules.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[modules.nosuchmod]\npackage = "rustok-nosuchmod"\npath = "packages/rustok-nosuchmod"\n')

    problems = check_module.installed_problems(ws(generated))

    assert "module 'nosuchmod' (rustok-nosuchmod) is not installed; run `uv run xtask rebuild`" in problems


def test_installed_check_reports_required_flag_mismatch(generated):
    text = (generated.root / "modules.toml").read_text(encoding="utf-8")
    (generated.root / "modules.toml").write_text(text.replace("required = true", "required = false"), encoding="utf-8")

    problems = check_module.installed_problems(ws(generated))

    assert any(
        p.startswith("module 'tenant': modules.toml says required = false but the module is core") for p in problems
    )


def test_lock_check_runs_uv_lock_check_in_the_workspace(generated, monkeypatch):
    calls = []

    class Result:
        returncode = 1
        stdout = ""
        stderr = "Resolved 3 packages\nerror: The lockfile at `uv.lock` needs to be updated\n"

    def fake_run(args, **kwargs):
        calls.append((args, kwargs["cwd"]))
        return Result()

    monkeypatch.setattr(check_module.subprocess, "run", fake_run)
    monkeypatch.setenv("UV", "/opt/uv")

    problems = check(ws(generated), lock=True, installed=False)

    assert calls == [(["/opt/uv", "lock", "--check"], generated.root)]
    assert problems == [
        "uv.lock is out of date (error: The lockfile at `uv.lock` needs to be updated); run `uv run xtask rebuild`"
    ]


def test_find_root_walks_up_to_modules_toml(fake):
    nested = fake.root / "packages/rustok-tenant/src"
    nested.mkdir(parents=True)

    assert find_root(nested) == fake.root.resolve()
