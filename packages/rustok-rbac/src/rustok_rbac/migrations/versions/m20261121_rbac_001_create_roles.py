"""create roles, role_permissions, role_assignments

Revision ID: rbac_001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "rbac_001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("rbac",)
depends_on: str | Sequence[str] | None = ("tenant_001",)

UUID = postgresql.UUID(as_uuid=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        _tenant_fk("roles"),
        sa.UniqueConstraint("tenant_id", "slug", name="uq_roles_tenant_id_slug"),
    )
    op.create_index("ix_roles_tenant_id", "roles", ["tenant_id"])
    op.create_table(
        "role_permissions",
        sa.Column("id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("role_id", UUID, nullable=False),
        sa.Column("permission", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(8), server_default="all", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_role_permissions"),
        _tenant_fk("role_permissions"),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name="fk_role_permissions_role_id_roles", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("role_id", "permission", name="uq_role_permissions_role_id_permission"),
        sa.CheckConstraint("scope IN ('all', 'own')", name="ck_role_permissions_scope"),
    )
    op.create_index("ix_role_permissions_tenant_id", "role_permissions", ["tenant_id"])
    op.create_table(
        "role_assignments",
        sa.Column("id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("role_slug", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_role_assignments"),
        _tenant_fk("role_assignments"),
        sa.UniqueConstraint(
            "tenant_id", "user_id", "role_slug", name="uq_role_assignments_tenant_id_user_id_role_slug"
        ),
    )
    op.create_index("ix_role_assignments_tenant_id", "role_assignments", ["tenant_id"])
    op.create_index("ix_role_assignments_tenant_id_role_slug", "role_assignments", ["tenant_id", "role_slug"])


def downgrade() -> None:
    for table in ("role_assignments", "role_permissions", "roles"):
        op.drop_table(table)
