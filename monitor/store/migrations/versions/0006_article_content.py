"""Article content: the full text a feed carries besides the summary, reduced to plain text.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: older articles read as having no content.
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("content", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("content")
