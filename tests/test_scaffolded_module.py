"""End to end: a module scaffolded with `xtask new-module` appears in GraphQL after `xtask rebuild`.

Everything that mutates a workspace happens in a copy of the repository under
``tmp_path``: its own ``.venv``, its own ``uv.lock``. Only the test PostgreSQL server
is shared (a fresh database for the server, dropped afterwards).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rustok_testing import postgres
from rustok_testing.server import environment_without_rustok, running_server
from rustok_xtask.modules_file import load_modules_file

REPO_ROOT = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(
    ".venv", "var", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.egg-info"
)
SLUG = "demo_shop"
PACKAGE_DIR = "packages/rustok-demo-shop"
QUERY = "{ moduleRegistry { slug } demoShopHello }"
READY_TIMEOUT = 30.0
UV = os.environ.get("UV") or shutil.which("uv") or "uv"


def clean_env(**extra: str) -> dict[str, str]:
    return environment_without_rustok(RUSTOK_ENV="development", **extra)


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit status {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def ok(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = run(args, cwd, env, timeout)
    assert result.returncode == 0, f"`{' '.join(args)}` failed: {output(result)}"
    return result


@pytest.fixture
def workspace_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "rustok"
    shutil.copytree(REPO_ROOT, copy, ignore=IGNORED)
    assert (copy / "modules.toml").is_file()
    assert not (copy / ".venv").exists()
    return copy


@pytest.fixture
def server_database(rustok_pg_url: str) -> Iterator[str]:
    name = postgres.create_database(rustok_pg_url, prefix="rustok_e2e")
    try:
        yield postgres.with_database(rustok_pg_url, name)
    finally:
        postgres.drop_database(rustok_pg_url, name)


@pytest.mark.slow
def test_scaffolded_module_appears_in_graphql_after_rebuild(
    workspace_copy: Path, rustok_pg_url: str, server_database: str, tmp_path: Path
) -> None:
    copy = workspace_copy
    env = clean_env()

    ok([UV, "sync", "--locked"], copy, env, timeout=900)

    created = ok([UV, "run", "xtask", "new-module", SLUG], copy, env)
    assert f"created {PACKAGE_DIR}" in created.stdout, output(created)
    assert (copy / PACKAGE_DIR / "pyproject.toml").is_file()
    listed = set(load_modules_file(copy / "modules.toml").modules)
    assert SLUG in listed

    stale = run([UV, "run", "xtask", "check"], copy, env)
    assert stale.returncode == 1, f"check must fail before the rebuild: {output(stale)}"
    assert "_manifest.py is out of date with modules.toml" in stale.stderr, output(stale)

    rebuilt = ok([UV, "run", "xtask", "rebuild"], copy, env, timeout=900)
    assert f"modules added: {SLUG}" in rebuilt.stdout, output(rebuilt)
    assert "apps/server/src/rustok_server/_manifest.py" in rebuilt.stdout, output(rebuilt)

    checked = ok([UV, "run", "xtask", "check"], copy, env)
    assert f"xtask check: ok ({len(listed)} modules)" in checked.stdout, output(checked)

    module_tests = ok(
        [UV, "run", "pytest", PACKAGE_DIR, "-q", "-p", "no:cacheprovider"],
        copy,
        clean_env(RUSTOK_TEST_DATABASE_URL=rustok_pg_url),
        timeout=600,
    )
    assert "5 passed" in module_tests.stdout, output(module_tests)

    server_env = clean_env(DATABASE_URL=server_database)
    command = [UV, "run", "rustok", "serve"]
    with running_server(command, cwd=copy, env=server_env, log=tmp_path / "server.log") as server:
        # Liveness first so that the GraphQL claim is checked even if readiness is broken;
        # readiness is asserted below all the same.
        server.wait_for("/health", timeout=READY_TIMEOUT)

        tenant = ok([UV, "run", "rustok", "tenant", "create", "--slug", "shop", "--name", "Shop"], copy, server_env)
        assert "created tenant 'shop'" in tenant.stdout, output(tenant)
        assert SLUG in tenant.stdout, f"the new module should be enabled for the tenant: {output(tenant)}"

        response = httpx.post(
            f"{server.base_url}/graphql", json={"query": QUERY}, headers={"X-Tenant-ID": "shop"}, timeout=30
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body
        slugs = {module["slug"] for module in body["data"]["moduleRegistry"]}
        assert slugs == listed, body
        assert body["data"]["demoShopHello"] == "Hello from demo_shop, Shop!", body

        server.wait_for("/health/ready", timeout=READY_TIMEOUT)
