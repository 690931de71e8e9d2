"""Stories: secondary identity keys, story membership and signatures; one alert per story.

Existing articles become stories of their own, with link and text keys computed here so that an
upgrade does not make old entries look new; existing alerts take their article's story.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import monitor.store.schema
from monitor.core.model import Article
from monitor.core.stories import article_keys

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_backfill_at", monitor.store.schema.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("last_backfill_entries", sa.Integer(), nullable=True))
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url_key", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("text_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signature", sa.LargeBinary(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_articles_source_id_url_key"), ["source_id", "url_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_articles_source_id_text_key"), ["source_id", "text_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_articles_story_id"), ["story_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("watch", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("stage", sa.Integer(), server_default="0", nullable=False))
    _backfill()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outbox_match_id_channel"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_story_id_watch_channel_stage"),
            ["story_id", "watch", "channel", "stage"],
        )


def _backfill() -> None:
    conn = op.get_bind()
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("key", sa.Text),
        sa.column("url", sa.Text),
        sa.column("title", sa.Text),
        sa.column("summary", sa.Text),
        sa.column("url_key", sa.Text),
        sa.column("text_key", sa.String),
        sa.column("story_id", sa.Integer),
    )
    rows = conn.execute(
        sa.select(
            articles.c.id, articles.c.key, articles.c.url, articles.c.title, articles.c.summary
        )
    ).all()
    updates = []
    for row in rows:
        keys = article_keys(
            Article(source="", key=row.key, url=row.url, title=row.title, summary=row.summary)
        )
        updates.append({"b_id": row.id, "url_key": keys.url_key, "text_key": keys.text_key})
    if updates:
        conn.execute(
            articles.update()
            .where(articles.c.id == sa.bindparam("b_id"))
            .values(
                url_key=sa.bindparam("url_key"),
                text_key=sa.bindparam("text_key"),
                story_id=sa.bindparam("b_id"),
            ),
            updates,
        )
    conn.execute(
        sa.text(
            "UPDATE outbox SET"
            " story_id = (SELECT m.article_id FROM matches m WHERE m.id = outbox.match_id),"
            " watch = (SELECT m.watch FROM matches m WHERE m.id = outbox.match_id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_outbox_story_id_watch_channel_stage"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_match_id_channel"), ["match_id", "channel"]
        )
        batch_op.drop_column("stage")
        batch_op.drop_column("watch")
        batch_op.drop_column("story_id")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_story_id"))
        batch_op.drop_index(batch_op.f("ix_articles_source_id_text_key"))
        batch_op.drop_index(batch_op.f("ix_articles_source_id_url_key"))
        batch_op.drop_column("signature")
        batch_op.drop_column("story_id")
        batch_op.drop_column("content_hash")
        batch_op.drop_column("text_key")
        batch_op.drop_column("url_key")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("last_backfill_entries")
        batch_op.drop_column("last_backfill_at")
