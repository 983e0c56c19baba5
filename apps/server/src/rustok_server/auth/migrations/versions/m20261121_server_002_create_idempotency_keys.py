"""create sys_idempotency_keys

Revision ID: server_002
Revises: server_001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "server_002"
down_revision: str | Sequence[str] | None = "server_001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sys_idempotency_keys",
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("claim_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(100)),
        sa.Column("status_code", sa.SmallInteger()),
        sa.Column("response_headers", postgresql.JSONB()),
        sa.Column("response_body", sa.LargeBinary()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_sys_idempotency_keys"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_sys_idempotency_keys_tenant_id_tenants", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sys_idempotency_keys_expires_at", "sys_idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("sys_idempotency_keys")
