"""create sys_events, sys_events_dlq, event_receipts

Revision ID: events_001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "events_001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("events",)
depends_on: str | Sequence[str] | None = ("tenant_001",)

UUID = postgresql.UUID(as_uuid=True)


def _event_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("actor_id", UUID),
        sa.Column("correlation_id", UUID),
        sa.Column("causation_id", UUID),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text()),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "sys_events",
        *_event_columns(),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True)),
        sa.Column("dispatched_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_sys_events"),
        _tenant_fk("sys_events"),
    )
    op.create_index("ix_sys_events_tenant_id", "sys_events", ["tenant_id"])
    op.create_index(
        "ix_sys_events_pending",
        "sys_events",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_index(
        "ix_sys_events_dispatched_at",
        "sys_events",
        ["dispatched_at"],
        postgresql_where=sa.text("dispatched_at IS NOT NULL"),
    )
    op.create_table(
        "sys_events_dlq",
        *_event_columns(),
        sa.Column("failed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("failed_handlers", postgresql.ARRAY(sa.String(100)), server_default="{}", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sys_events_dlq"),
        _tenant_fk("sys_events_dlq"),
    )
    op.create_index("ix_sys_events_dlq_tenant_id", "sys_events_dlq", ["tenant_id"])
    op.create_table(
        "event_receipts",
        sa.Column("handler", sa.String(100), nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("handler", "event_id", name="pk_event_receipts"),
        _tenant_fk("event_receipts"),
    )
    op.create_index("ix_event_receipts_tenant_id", "event_receipts", ["tenant_id"])
    op.create_index("ix_event_receipts_processed_at", "event_receipts", ["processed_at"])


def downgrade() -> None:
    for table in ("event_receipts", "sys_events_dlq", "sys_events"):
        op.drop_table(table)
