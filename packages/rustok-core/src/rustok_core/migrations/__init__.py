"""Alembic integration: one branch per module, all upgraded to ``heads``.

Each module returns its versions directory from ``rustok_migrations``; its base
revision carries ``branch_labels = ("<slug>",)``. Revision ids are
``<slug>_<nnn>`` and files are named ``mYYYYMMDD_<slug>_<nnn>_<description>.py``.
All branches share one ``alembic_version`` table. Upgrades hold a PostgreSQL advisory
lock so that several processes booting at once migrate one after another.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, pool, text

from rustok_core.db.database import normalize_url
from rustok_core.errors import BootError

ENV_DIR = Path(__file__).parent
# Fixed key for pg_advisory_lock: "rustok.migrations" as a stable 63-bit integer.
ADVISORY_LOCK_KEY = 0x5275_5374_6F4B_4D47
FILE_TEMPLATE = "m%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
REVISION_ID_RE = re.compile(r"^(?P<slug>[a-z][a-z0-9_]*)_(?P<n>\d{3,})\Z")


class MigrationError(BootError):
    """Migrations cannot be applied or are inconsistent (names the module)."""


@dataclass(frozen=True)
class MigrationStatus:
    heads: frozenset[str]
    current: frozenset[str]
    pending: tuple[str, ...]
    ancestry: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Each known revision with everything it implies (ancestors and dependencies)."""

    @property
    def up_to_date(self) -> bool:
        return not self.pending

    def missing(self, version_rows: Iterable[str]) -> list[str]:
        """Known revisions not applied, given the rows of ``alembic_version``.

        Alembic stores only the heads of the applied graph: a revision that another
        branch depends on has no row of its own, so rows are expanded through
        ``ancestry``. Rows this code does not know (a newer release migrated) are ignored.
        """
        applied: set[str] = set()
        for row in version_rows:
            applied |= self.ancestry.get(row, frozenset())
        return sorted(set(self.ancestry) - applied)


class MigrationRunner:
    """Runs Alembic over the version directories of the installed modules."""

    def __init__(self, url: str, locations: Mapping[str, Path | str]) -> None:
        self.url = normalize_url(url)
        self.locations = {slug: Path(path).resolve() for slug, path in sorted(locations.items())}
        for slug, path in self.locations.items():
            if not path.is_dir():
                raise MigrationError(f"module '{slug}': migrations directory {path} does not exist")

    @classmethod
    def for_registry(cls, url: str, registry: object) -> MigrationRunner:
        """Gather ``rustok_migrations`` from every module of a registry."""
        from rustok_core.registry import ModuleRegistry

        assert isinstance(registry, ModuleRegistry)
        return cls(url, {m.slug: Path(str(p)) for m, p in registry.call("rustok_migrations")})

    # -- configuration ---------------------------------------------------------------

    def config(self, connection: Connection | None = None) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(ENV_DIR))
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in self.locations.values()))
        cfg.set_main_option("file_template", FILE_TEMPLATE)
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        if connection is not None:
            cfg.attributes["connection"] = connection
        return cfg

    def script(self) -> ScriptDirectory:
        script = ScriptDirectory.from_config(self.config())
        self._check_branches(script)
        return script

    def _check_branches(self, script: ScriptDirectory) -> None:
        by_dir = {path: slug for slug, path in self.locations.items()}
        bases: dict[str, list[Script]] = {slug: [] for slug in self.locations}
        for rev in script.walk_revisions():
            owner = by_dir.get(Path(rev.path).resolve().parent)
            if owner is None:
                continue
            match = REVISION_ID_RE.match(rev.revision)
            if match is None or match.group("slug") != owner:
                raise MigrationError(f"module '{owner}': revision id {rev.revision!r} must look like '{owner}_001'")
            if rev.down_revision is None:
                bases[owner].append(rev)
        for slug, revs in bases.items():
            if not revs and any(self.locations[slug].glob("*.py")):
                raise MigrationError(f"module '{slug}': no base revision in {self.locations[slug]}")
            for rev in revs:
                if slug not in rev.branch_labels:
                    raise MigrationError(
                        f"module '{slug}': base revision {rev.revision} must set branch_labels = ('{slug}',)"
                    )

    # -- operations -------------------------------------------------------------------

    def _engine(self) -> Engine:
        return create_engine(self.url, poolclass=pool.NullPool)

    def status(self) -> MigrationStatus:
        script = self.script()
        heads = frozenset(script.get_heads())
        engine = self._engine()
        try:
            with engine.connect() as conn:
                current = frozenset(MigrationContext.configure(conn).get_current_heads())
        finally:
            engine.dispose()
        ancestry = {
            r.revision: frozenset(a.revision for a in script.iterate_revisions(r.revision, "base"))
            for r in script.walk_revisions()
        }
        status = MigrationStatus(heads=heads, current=current, pending=(), ancestry=ancestry)
        return replace(status, pending=tuple(status.missing(current)))

    def upgrade(self, target: str = "heads") -> MigrationStatus:
        """Apply pending migrations (under an advisory lock) and return the new status."""
        self.script()
        engine = self._engine()
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
                try:
                    self._refuse_unknown_revisions(conn)
                    command.upgrade(self.config(conn), target)
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    conn.commit()
        finally:
            engine.dispose()
        return self.status()

    def _refuse_unknown_revisions(self, conn: Connection) -> None:
        known = {r.revision for r in self.script().walk_revisions()}
        unknown = sorted(set(MigrationContext.configure(conn).get_current_heads()) - known)
        if unknown:
            raise MigrationError(
                "the database holds migrations of modules that are not installed "
                f"({', '.join(unknown)}); install those modules again (modules.toml + "
                "`uv run xtask rebuild`) or use a database made for this module set"
            )

    def new_revision(self, slug: str, message: str, *, autogenerate: bool = False) -> Path:
        """Create the next revision of ``slug``'s branch, named by the project convention."""
        if slug not in self.locations:
            raise MigrationError(f"unknown module '{slug}' or it has no migrations directory")
        script = self.script()
        numbers = [
            int(m.group("n"))
            for rev in script.walk_revisions()
            if (m := REVISION_ID_RE.match(rev.revision)) and m.group("slug") == slug
        ]
        rev_id = f"{slug}_{(max(numbers) + 1) if numbers else 1:03d}"
        head = f"{slug}@head" if numbers else "base"
        engine = self._engine()
        try:
            with engine.connect() as conn:
                created = command.revision(
                    self.config(conn),
                    message=message,
                    autogenerate=autogenerate,
                    head=head,
                    rev_id=rev_id,
                    version_path=str(self.locations[slug]),
                    branch_label=slug if not numbers else None,
                )
        finally:
            engine.dispose()
        scripts = created if isinstance(created, list) else [created]
        if not scripts or scripts[0] is None:
            raise MigrationError(f"alembic did not create a revision for '{slug}'")
        return Path(scripts[0].path)
