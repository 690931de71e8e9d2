"""Daemons: one row per running daemon, written by its heartbeat, read by `health`.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemons",
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_daemons")),
    )
    op.create_index(op.f("ix_daemons_host"), "daemons", ["host"])


def downgrade() -> None:
    op.drop_index(op.f("ix_daemons_host"), table_name="daemons")
    op.drop_table("daemons")
