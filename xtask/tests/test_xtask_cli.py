"""The ``xtask`` command line and ``rebuild``'s summary, on fake workspaces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rustok_xtask import rebuild as rebuild_module
from rustok_xtask.cli import cli, main
from rustok_xtask.generate import generate
from rustok_xtask.modules_file import XtaskError
from rustok_xtask.rebuild import RebuildSummary, rebuild
from rustok_xtask.uv import run_uv, uv_command
from rustok_xtask.workspace import Workspace


def invoke(fake, *args: str):
    return CliRunner().invoke(cli, ["--root", str(fake.root), *args])


def test_check_exits_non_zero_and_names_the_drift(fake):
    generate(Workspace(fake.root))
    fake.manifest.write_text("MODULES = ()\n", encoding="utf-8")

    result = invoke(fake, "check", "--no-lock", "--no-installed")

    assert result.exit_code == 1
    assert "xtask check: 1 problem(s):" in result.stderr
    assert "apps/server/src/rustok_server/_manifest.py is out of date with modules.toml" in result.stderr
    assert "ok" not in result.stdout


def test_check_names_a_package_without_its_entry_point(fake):
    generate(Workspace(fake.root))
    fake.package("packages/rustok-tenant", "rustok-tenant")

    result = invoke(fake, "check", "--no-lock", "--no-installed")

    assert result.exit_code == 1
    assert "registers no" in result.stderr
    assert "entry named 'tenant'" in result.stderr


def test_check_passes_on_a_consistent_workspace(fake):
    generate(Workspace(fake.root))

    result = invoke(fake, "check", "--no-lock", "--no-installed")

    assert result.exit_code == 0, result.output
    assert result.stdout == "xtask check: ok (1 modules)\n"


def test_generate_prints_each_file_it_wrote_then_that_all_is_up_to_date(fake):
    first = invoke(fake, "generate")

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        "wrote apps/server/pyproject.toml",
        "wrote apps/server/src/rustok_server/_manifest.py",
        "wrote .importlinter",
    ]
    assert fake.manifest.is_file()

    second = invoke(fake, "generate")
    assert second.exit_code == 0
    assert second.stdout == "generated files are up to date\n"


def test_generate_prints_only_the_file_that_changed(fake):
    generate(Workspace(fake.root))
    fake.importlinter.write_text("# edited\n", encoding="utf-8")

    result = invoke(fake, "generate")

    assert result.stdout == "wrote .importlinter\n"


def test_root_may_be_any_directory_inside_the_workspace(fake):
    inside = fake.root / "packages/rustok-tenant"

    result = CliRunner().invoke(cli, ["--root", str(inside), "generate"])

    assert result.exit_code == 0, result.output
    assert "wrote .importlinter" in result.stdout
    assert fake.importlinter.is_file()


def test_new_module_creates_the_package_and_says_what_to_run_next(fake):
    result = invoke(fake, "new-module", "demo_shop", "--description", "Sells demos.")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "created packages/rustok-demo-shop"
    assert "uv run xtask rebuild" in result.stdout
    assert (fake.root / "packages/rustok-demo-shop/pyproject.toml").is_file()
    assert "[modules.demo_shop]" in (fake.root / "modules.toml").read_text(encoding="utf-8")


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["xtask", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def test_main_reports_invalid_modules_toml_with_status_2(fake, monkeypatch, capsys):
    fake.write("modules.toml", "schema = [\n")

    code, _, err = run_main(monkeypatch, capsys, "--root", str(fake.root), "generate")

    assert code == 2
    assert err.startswith("xtask: modules.toml is not valid TOML")


def test_main_refuses_an_invalid_module_name_with_status_2(fake, monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "--root", str(fake.root), "new-module", "Demo-Shop")

    assert code == 2
    assert "invalid module name 'Demo-Shop'" in err
    assert not (fake.root / "packages/rustok-demo-shop").exists()


def test_main_outside_a_workspace_says_where_it_looked(tmp_path, monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "--root", str(tmp_path), "check")

    assert code == 2
    assert "no modules.toml found" in err


def test_main_check_exits_1_on_drift(fake, monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "--root", str(fake.root), "check", "--no-lock", "--no-installed")

    assert code == 1
    assert "3 problem(s)" in err


def test_main_unknown_command_is_a_usage_error(fake, monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "--root", str(fake.root), "frobnicate")

    assert code == 2
    assert "No such command" in err


def test_installed_console_script_runs_check(fake):
    script = Path(sys.executable).parent / "xtask"
    assert script.is_file(), f"the xtask console script is not installed next to {sys.executable}"

    result = subprocess.run(
        [str(script), "--root", str(fake.root), "check", "--no-lock", "--no-installed"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert ".importlinter is out of date with modules.toml" in result.stderr


# --- rebuild (uv replaced by a fake that edits uv.lock) ---------------------------------------------

LOCK_BEFORE = """\
version = 1

[[package]]
name = "rustok-tenant"
version = "0.1.0"

[[package]]
name = "httpx"
version = "0.27.0"

[[package]]
name = "leftover"
version = "1.0"
"""

LOCK_AFTER = """\
version = 1

[[package]]
name = "rustok-tenant"
version = "0.1.0"

[[package]]
name = "rustok-blog"
version = "0.2.0"

[[package]]
name = "httpx"
version = "0.28.1"
"""


@pytest.fixture
def fake_uv(monkeypatch, fake):
    calls: list[tuple[list[str], Path]] = []

    def run_uv(args: list[str], cwd: Path) -> str:
        calls.append((args, cwd))
        if args == ["lock"]:
            (cwd / "uv.lock").write_text(LOCK_AFTER, encoding="utf-8")
        return ""

    monkeypatch.setattr(rebuild_module, "run_uv", run_uv)
    return calls


def add_blog(fake) -> None:
    fake.module_package("blog")
    with (fake.root / "modules.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[modules.blog]\npackage = "rustok-blog"\npath = "packages/rustok-blog"\n')


def test_rebuild_generates_locks_syncs_and_summarises(fake, fake_uv):
    generate(Workspace(fake.root))
    (fake.root / "uv.lock").write_text(LOCK_BEFORE, encoding="utf-8")
    add_blog(fake)

    summary = rebuild(Workspace(fake.root))

    assert fake_uv == [(["lock"], fake.root), (["sync"], fake.root)]
    assert summary.lines() == [
        "generated files changed: "
        "apps/server/pyproject.toml, apps/server/src/rustok_server/_manifest.py, .importlinter",
        "modules added: blog",
        "packages added: rustok-blog 0.2.0",
        "packages removed: leftover",
        "packages changed: httpx 0.27.0 -> 0.28.1",
    ]


def test_rebuild_no_sync_only_locks(fake, fake_uv):
    rebuild(Workspace(fake.root), sync=False)

    assert fake_uv == [(["lock"], fake.root)]


def test_rebuild_reports_a_removed_module(fake, fake_uv):
    add_blog(fake)
    generate(Workspace(fake.root))
    text = (fake.root / "modules.toml").read_text(encoding="utf-8")
    (fake.root / "modules.toml").write_text(text.split("\n[modules.blog]")[0] + "\n", encoding="utf-8")

    summary = rebuild(Workspace(fake.root))

    assert summary.modules_removed == ["blog"]
    assert summary.modules_added == []


def test_rebuild_cli_prints_the_summary(fake, fake_uv):
    result = invoke(fake, "rebuild", "--no-sync")

    assert result.exit_code == 0, result.output
    assert "modules added: tenant" in result.stdout
    assert fake_uv == [(["lock"], fake.root)]


def test_empty_summary_says_nothing_changed():
    assert RebuildSummary().lines() == ["nothing changed"]


# --- running uv ------------------------------------------------------------------------------------


def test_failing_uv_command_is_an_error_with_its_output(tmp_path, monkeypatch):
    fake_uv = tmp_path / "uv"
    fake_uv.write_text('#!/bin/sh\necho "error: resolution failed for $*" >&2\nexit 3\n', encoding="utf-8")
    fake_uv.chmod(0o755)
    monkeypatch.setenv("UV", str(fake_uv))

    with pytest.raises(XtaskError, match=r"`uv lock` failed:\nerror: resolution failed for lock"):
        run_uv(["lock"], tmp_path)


def test_missing_uv_is_an_error_saying_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(XtaskError, match="uv is not installed"):
        uv_command()
