"""Alert feedback: an analyst's relevant / not relevant on a match, for precision per watch;
and the outbox indexes the web console reads by (a match's channels, alerts per day).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("watch", sa.String(200), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name="fk_feedback_match_id_matches",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("match_id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_watch_marked_at", "feedback", ["watch", "marked_at"])
    op.create_index("ix_outbox_match_id", "outbox", ["match_id"])
    op.create_index(
        "ix_outbox_created_at_stage_watch_match_id",
        "outbox",
        ["created_at", "stage", "watch", "match_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_created_at_stage_watch_match_id", table_name="outbox")
    op.drop_index("ix_outbox_match_id", table_name="outbox")
    op.drop_index("ix_feedback_watch_marked_at", table_name="feedback")
    op.drop_table("feedback")
