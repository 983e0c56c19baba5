"""Alembic integration: one branch per module, upgraded to ``heads`` under a lock."""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import psycopg
import pytest

from rustok_core import ModuleInfo, hookimpl
from rustok_core.errors import BootError
from rustok_core.migrations import MigrationError, MigrationRunner, MigrationStatus
from rustok_core.registry import ModuleRegistry
from rustok_testing import postgres


def write_revision(
    directory: Path,
    revision: str,
    *,
    down_revision: str | None = None,
    branch_labels: tuple[str, ...] | None = None,
    depends_on: str | None = None,
    table: str,
    extra_sql: str | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"m20260101_{revision}_create_{table}.py"
    path.write_text(
        dedent(
            f'''\
            """create {table}"""

            import sqlalchemy as sa
            from alembic import op

            revision = {revision!r}
            down_revision = {down_revision!r}
            branch_labels = {branch_labels!r}
            depends_on = {depends_on!r}


            def upgrade():
                {f"op.execute({extra_sql!r})" if extra_sql else "pass"}
                op.create_table({table!r}, sa.Column("id", sa.Integer, primary_key=True))


            def downgrade():
                op.drop_table({table!r})
            '''
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def modules(tmp_path: Path) -> dict[str, Path]:
    """Two throwaway modules: alpha (two revisions) and beta (needs alpha_001)."""
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    write_revision(alpha, "alpha_001", branch_labels=("alpha",), table="alpha_items")
    write_revision(alpha, "alpha_002", down_revision="alpha_001", table="alpha_tags")
    write_revision(beta, "beta_001", branch_labels=("beta",), depends_on="alpha_001", table="beta_items")
    return {"alpha": alpha, "beta": beta}


@pytest.fixture
def database_url(rustok_pg_url: str) -> Iterator[str]:
    """A fresh, empty database (no migrations at all)."""
    name = postgres.create_database(rustok_pg_url, prefix="rustok_core_mig")
    yield postgres.with_database(rustok_pg_url, name)
    postgres.drop_database(rustok_pg_url, name)


def tables(url: str) -> set[str]:
    with psycopg.connect(postgres.libpq(url)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {name for (name,) in rows}


def applied_versions(url: str) -> list[str]:
    with psycopg.connect(postgres.libpq(url)) as conn:
        return sorted(v for (v,) in conn.execute("SELECT version_num FROM alembic_version").fetchall())


# --- status and upgrade ------------------------------------------------------------------------------------


def test_status_of_an_empty_database_shows_everything_pending(database_url: str, modules: dict[str, Path]) -> None:
    status = MigrationRunner(database_url, modules).status()
    assert status.heads == {"alpha_002", "beta_001"}
    assert status.current == frozenset()
    assert status.pending == ("alpha_001", "alpha_002", "beta_001")
    assert status.ancestry["beta_001"] == {"beta_001", "alpha_001"}
    assert not status.up_to_date
    assert tables(database_url) == set()


def test_upgrade_applies_every_branch_to_its_head(database_url: str, modules: dict[str, Path]) -> None:
    status = MigrationRunner(database_url, modules).upgrade()
    assert status.up_to_date
    assert status.pending == ()
    assert status.current == status.heads == frozenset({"alpha_002", "beta_001"})
    assert tables(database_url) == {"alembic_version", "alpha_items", "alpha_tags", "beta_items"}
    assert applied_versions(database_url) == ["alpha_002", "beta_001"]


def test_upgrade_twice_is_a_no_op(database_url: str, modules: dict[str, Path]) -> None:
    runner = MigrationRunner(database_url, modules)
    runner.upgrade()
    assert runner.upgrade().up_to_date
    assert applied_versions(database_url) == ["alpha_002", "beta_001"]


def test_upgrade_to_a_revision_leaves_the_rest_pending(database_url: str, modules: dict[str, Path]) -> None:
    status = MigrationRunner(database_url, modules).upgrade("alpha_001")
    assert status.current == frozenset({"alpha_001"})
    assert status.pending == ("alpha_002", "beta_001")
    assert tables(database_url) == {"alembic_version", "alpha_items"}


def test_a_branch_upgrade_brings_its_cross_module_dependency(database_url: str, modules: dict[str, Path]) -> None:
    status = MigrationRunner(database_url, modules).upgrade("beta@head")
    assert status.pending == ("alpha_002",)
    assert tables(database_url) == {"alembic_version", "alpha_items", "beta_items"}


def test_a_new_revision_on_disk_shows_up_as_pending(database_url: str, modules: dict[str, Path]) -> None:
    MigrationRunner(database_url, modules).upgrade()
    write_revision(modules["beta"], "beta_002", down_revision="beta_001", table="beta_tags")
    status = MigrationRunner(database_url, modules).status()
    assert status.pending == ("beta_002",)
    assert not status.up_to_date


def test_runner_for_registry_collects_module_directories(database_url: str, modules: dict[str, Path]) -> None:
    class Module:
        def __init__(self, slug: str, *dependencies: str) -> None:
            self.info = ModuleInfo(slug=slug, name=slug, version="1", dependencies=dependencies)

        @hookimpl
        def rustok_module(self) -> ModuleInfo:
            return self.info

        @hookimpl
        def rustok_migrations(self) -> Path:
            return modules[self.info.slug]

    class NoMigrations:
        @hookimpl
        def rustok_module(self) -> ModuleInfo:
            return ModuleInfo(slug="gamma", name="gamma", version="1")

    registry = ModuleRegistry.from_plugins([Module("beta", "alpha"), Module("alpha"), NoMigrations()])
    runner = MigrationRunner.for_registry(database_url, registry)
    assert runner.locations == {"alpha": modules["alpha"].resolve(), "beta": modules["beta"].resolve()}
    assert runner.url.startswith("postgresql+psycopg://")


# --- refused layouts -----------------------------------------------------------------------------------------


def test_a_base_revision_without_the_module_branch_label_is_refused(database_url: str, tmp_path: Path) -> None:
    write_revision(tmp_path / "alpha", "alpha_001", table="alpha_items")
    with pytest.raises(MigrationError) as caught:
        MigrationRunner(database_url, {"alpha": tmp_path / "alpha"}).status()
    message = str(caught.value)
    assert message.startswith("module 'alpha'")
    assert "branch_labels = ('alpha',)" in message


def test_a_base_revision_labelled_with_another_slug_is_refused(database_url: str, tmp_path: Path) -> None:
    write_revision(tmp_path / "alpha", "alpha_001", branch_labels=("beta",), table="alpha_items")
    with pytest.raises(MigrationError, match="module 'alpha': base revision alpha_001 must set branch_labels"):
        MigrationRunner(database_url, {"alpha": tmp_path / "alpha"}).upgrade()
    assert tables(database_url) == set()


@pytest.mark.parametrize("revision", ["first", "alpha_1", "alpha_01", "beta_001"])
def test_a_revision_id_not_shaped_slug_nnn_is_refused(database_url: str, tmp_path: Path, revision: str) -> None:
    write_revision(tmp_path / "alpha", revision, branch_labels=("alpha",), table="alpha_items")
    with pytest.raises(MigrationError) as caught:
        MigrationRunner(database_url, {"alpha": tmp_path / "alpha"}).status()
    message = str(caught.value)
    assert message.startswith("module 'alpha'")
    assert repr(revision) in message
    assert "'alpha_001'" in message


def test_a_missing_migrations_directory_is_refused(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(MigrationError) as caught:
        MigrationRunner(database_url, {"alpha": missing})
    assert "module 'alpha'" in str(caught.value)
    assert str(missing) in str(caught.value)


def test_migration_errors_are_boot_errors() -> None:
    assert issubclass(MigrationError, BootError)


# --- new revisions -----------------------------------------------------------------------------------------------


def test_new_revision_creates_the_next_revision_of_the_branch(database_url: str, modules: dict[str, Path]) -> None:
    runner = MigrationRunner(database_url, modules)
    path = runner.new_revision("alpha", "Add alpha notes")

    assert path.parent == modules["alpha"].resolve()
    match = re.fullmatch(r"m(\d{8})_alpha_003_add_alpha_notes\.py", path.name)
    assert match, path.name
    assert match.group(1) == datetime.date.today().strftime("%Y%m%d")

    revision = runner.script().get_revision("alpha_003")
    assert revision is not None
    assert revision.down_revision == "alpha_002"
    assert revision.module.branch_labels is None  # only the base revision carries the label
    assert revision.module.depends_on is None
    assert runner.status().heads == frozenset({"alpha_003", "beta_001"})


def test_new_revision_of_an_empty_branch_creates_its_labelled_base(database_url: str, modules: dict[str, Path]) -> None:
    gamma = modules["alpha"].parent / "gamma"
    gamma.mkdir()
    runner = MigrationRunner(database_url, {**modules, "gamma": gamma})
    path = runner.new_revision("gamma", "create gamma")

    assert re.fullmatch(r"m\d{8}_gamma_001_create_gamma\.py", path.name), path.name
    revision = runner.script().get_revision("gamma_001")
    assert revision is not None
    assert revision.down_revision is None
    assert revision.module.branch_labels == ("gamma",)
    status = runner.upgrade()
    assert status.up_to_date
    assert "gamma_001" in status.current


def test_new_revision_for_an_unknown_module_is_refused(database_url: str, modules: dict[str, Path]) -> None:
    with pytest.raises(MigrationError, match="unknown module 'delta'"):
        MigrationRunner(database_url, modules).new_revision("delta", "anything")


# --- concurrency ----------------------------------------------------------------------------------------------------


def test_concurrent_upgrades_apply_the_schema_once(database_url: str, tmp_path: Path) -> None:
    slow = tmp_path / "slow"
    # pg_sleep keeps the first upgrade busy while the second one starts.
    write_revision(slow, "slow_001", branch_labels=("slow",), table="slow_items", extra_sql="SELECT pg_sleep(0.3)")
    write_revision(slow, "slow_002", down_revision="slow_001", table="slow_tags")
    barrier = threading.Barrier(2)
    results: list[MigrationStatus | BaseException] = []

    def upgrade() -> None:
        runner = MigrationRunner(database_url, {"slow": slow})
        barrier.wait()
        try:
            results.append(runner.upgrade())
        except BaseException as exc:
            results.append(exc)

    # Daemon threads joined with a timeout: without the lock the two upgrades can
    # deadlock each other, which must fail this test rather than hang the run.
    threads = [threading.Thread(target=upgrade, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "concurrent upgrades did not finish"

    assert len(results) == 2
    for status in results:
        assert isinstance(status, MigrationStatus), status
        assert status.up_to_date
    assert applied_versions(database_url) == ["slow_002"]
    assert tables(database_url) == {"alembic_version", "slow_items", "slow_tags"}


def test_rows_of_branch_heads_imply_the_revisions_they_depend_on(database_url: str, modules: dict[str, Path]) -> None:
    # beta_001 depends on alpha_001: with alpha upgraded only to alpha_001 and beta to
    # its head, Alembic keeps the single row beta_001 for both branches.
    runner = MigrationRunner(database_url, modules)
    runner.upgrade("beta@head")
    status = runner.status()
    assert status.current == {"beta_001"}
    assert status.pending == ("alpha_002",)
    assert status.missing(["beta_001"]) == ["alpha_002"]
    assert status.missing(["beta_001", "alpha_002"]) == []
    assert status.missing(["unknown_999", "alpha_002", "beta_001"]) == []
