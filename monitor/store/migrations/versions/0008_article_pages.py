"""Article pages: entries waiting for their page, and each source's page outcomes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_waits",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("quiet", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_page_waits_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name="pk_page_waits"),
    )
    op.create_index("ix_page_waits_due_at", "page_waits", ["due_at"])
    op.create_table(
        "page_outcomes",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_url", sa.Text()),
        sa.Column("last_message", sa.Text()),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name="fk_page_outcomes_source_id_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source_id", "outcome", name="pk_page_outcomes"),
    )


def downgrade() -> None:
    op.drop_table("page_outcomes")
    op.drop_index("ix_page_waits_due_at", table_name="page_waits")
    op.drop_table("page_waits")
