"""Scenario: the README's quickstart on a machine with no database configured.

`rustok serve` starts the embedded PostgreSQL, migrates, and serves; a tenant made
with `rustok tenant create` is then served over GraphQL; stopping the server stops
its PostgreSQL. Runs in an empty directory, exactly as a new user would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from rustok_testing.server import environment_without_rustok, running_server

RUSTOK = str(Path(sys.executable).parent / "rustok")


@pytest.mark.slow
def test_serve_on_the_embedded_database_then_create_a_tenant_and_query_it(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "development.yaml").write_text("database:\n  embedded_dir: var/pg\n")
    env = environment_without_rustok(RUSTOK_CONFIG_DIR=str(tmp_path / "config"))

    with running_server([RUSTOK, "serve"], cwd=tmp_path, env=env, log=tmp_path / "server.log") as server:
        server.wait_for("/health/ready")
        assert (tmp_path / "var" / "pg" / "PG_VERSION").is_file()

        created = subprocess.run(
            [RUSTOK, "tenant", "create", "--slug", "acme", "--name", "Acme"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        response = httpx.post(
            f"{server.base_url}/graphql",
            json={"query": "{ moduleRegistry { slug } currentTenant { name } }"},
            headers={"X-Tenant-ID": "acme"},
            timeout=10,
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert {"slug": "tenant"} in data["moduleRegistry"]
        assert data["currentTenant"] == {"name": "Acme"}

    assert "booted in" in server.output()
    # The last process using the embedded server stopped it.
    assert not (tmp_path / "var" / "pg" / "postmaster.pid").exists()
