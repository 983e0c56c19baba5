"""Alembic environment shared by every module's migration branch.

The :class:`rustok_core.migrations.MigrationRunner` builds the Alembic config in code
(script location here, one version location per module) and hands over an open
connection; offline mode (``--sql``) renders SQL from the configured URL instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from rustok_core.db.base import metadata

config = context.config


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = create_engine(str(config.get_main_option("sqlalchemy.url")), poolclass=pool.NullPool)
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
