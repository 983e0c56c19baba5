"""commerce_price_lists.window_checked_at: up to when a list's window bounds are announced

Revision ID: commerce_002
Revises: commerce_001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "commerce_002"
down_revision: str | Sequence[str] | None = "commerce_001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing lists count as announced up to now: nothing computed from them before this revision.
    op.add_column(
        "commerce_price_lists",
        sa.Column("window_checked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("commerce_price_lists", "window_checked_at")
