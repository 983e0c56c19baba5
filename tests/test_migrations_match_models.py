"""The migrations build exactly the schema the models describe (no drift either way).

Every installed module's models are imported; Alembic compares them with a database
migrated to ``heads``. A column, index, constraint or type that exists on one side
only fails the test, naming it.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from rustok_core.db import metadata, normalize_url
from rustok_core.registry import ModuleRegistry

# Tables made by migrations of the platform itself rather than by models.
UNMODELLED = frozenset({"alembic_version"})


def _import_models(registry: ModuleRegistry) -> None:
    """Import every ``models`` module of the installed modules and of the server."""
    packages = {type(module.plugin).__module__.split(".", 1)[0] for module in registry} | {"rustok_server"}
    for package in sorted(packages):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if info.name.rsplit(".", 1)[-1] == "models":
                importlib.import_module(info.name)


def _include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    return not (kind == "table" and name in UNMODELLED)


def test_models_and_migrations_describe_the_same_schema(rustok_database_url: str) -> None:
    registry = ModuleRegistry.from_entry_points()
    _import_models(registry)
    engine = create_engine(normalize_url(rustok_database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False, "include_object": _include}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert not differences, "models and migrations disagree:\n" + "\n".join(str(d) for d in differences)
