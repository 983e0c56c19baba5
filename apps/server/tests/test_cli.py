"""The rustok command line against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from rustok_server.cli import cli


@pytest.fixture
def run(rustok_database_url: str, tmp_path: Any) -> Any:
    runner = CliRunner()
    env = {"DATABASE_URL": rustok_database_url, "RUSTOK_ENV": "test", "RUSTOK_CONFIG_DIR": str(tmp_path)}
    (tmp_path / "test.yaml").write_text("{}\n")

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=True)

    return invoke


def test_tenant_create_list_and_module_commands(run: Any) -> None:
    created = run("tenant", "create", "--slug", "cli-shop", "--name", "CLI Shop", "--locale", "de")
    assert created.exit_code == 0, created.output
    assert "created tenant 'cli-shop'" in created.output

    listed = run("tenant", "list")
    assert listed.exit_code == 0
    assert "cli-shop" in listed.output
    assert "CLI Shop" in listed.output

    modules = run("modules", "list", "--tenant", "cli-shop")
    assert modules.exit_code == 0
    assert "tenant" in modules.output
    assert "yes" in modules.output

    status = run("migrate", "status")
    assert status.exit_code == 0, status.output
    assert "pending: none" in status.output


def test_core_modules_cannot_be_disabled_from_the_cli(run: Any) -> None:
    assert run("tenant", "create", "--slug", "cli-core", "--name", "Core").exit_code == 0
    result = run("modules", "disable", "tenant", "--tenant", "cli-core")
    assert result.exit_code != 0
    assert "core module" in str(result.exception)


def test_deactivated_tenants_stay_listed_as_inactive(run: Any) -> None:
    assert run("tenant", "create", "--slug", "cli-gone", "--name", "Gone").exit_code == 0
    assert run("tenant", "deactivate", "cli-gone").exit_code == 0
    listed = run("tenant", "list").output
    line = next(line for line in listed.splitlines() if line.startswith("cli-gone"))
    assert " no " in line


def _rustok(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "from rustok_server.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_an_invalid_setting_stops_the_start_naming_key_and_allowed_values(rustok_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": rustok_database_url, "RUSTOK_EVENT_TRANSPORT": "kafka"}
    result = _rustok("serve", env=env)
    assert result.returncode == 2
    assert "rustok.events.transport = 'kafka'" in result.stderr
    assert "RUSTOK_EVENT_TRANSPORT" in result.stderr
    assert "'memory', 'outbox' or 'stream'" in result.stderr


def test_bad_tenant_input_exits_non_zero_with_the_error_code(rustok_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": rustok_database_url}
    result = _rustok("tenant", "create", "--slug", "admin", "--name", "Nope", env=env)
    assert result.returncode == 1
    assert "VALIDATION" in result.stderr
    assert "reserved" in result.stderr
