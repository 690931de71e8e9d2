"""Outlets, languages and resolved feeds: the outlet an aggregator's item names, an article's
language, and the feed a page led to.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: older articles name no outlet or language, older sources were never
    # resolved.
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("outlet", sa.Text(), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(35), nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("resolved_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("resolved_url")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("lang")
        batch.drop_column("outlet")
