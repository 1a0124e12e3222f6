"""Initial schema: documents, sentiment_minute, alerts, alert_deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 18:54:22.321073
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("deviation", sa.Float(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column(
            "document_ids",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status in ('firing', 'resolved')", name=op.f("ck_alerts_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_started_at", "alerts", ["started_at"], unique=False)
    op.create_index(
        "uq_alerts_episode", "alerts", ["rule", "dimension", "key", "started_at"], unique=True
    )
    op.create_index(
        "uq_alerts_one_firing",
        "alerts",
        ["rule", "dimension", "key"],
        unique=True,
        postgresql_where=sa.text("status = 'firing'"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("lang", sa.Text(), nullable=True),
        sa.Column(
            "tickers", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("topic_id", sa.SmallInteger(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("topic_confidence", sa.Float(), nullable=False),
        sa.Column("sentiment", sa.Text(), nullable=False),
        sa.Column("p_negative", sa.Float(), nullable=False),
        sa.Column("p_neutral", sa.Float(), nullable=False),
        sa.Column("p_positive", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=True),
        sa.Column("kafka_offset", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "sentiment in ('negative', 'neutral', 'positive')", name=op.f("ck_documents_sentiment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_published_at", "documents", ["published_at"], unique=False)
    op.create_index(
        "ix_documents_tickers", "documents", ["tickers"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_documents_topic_published_at", "documents", ["topic_id", "published_at"], unique=False
    )
    op.create_table(
        "sentiment_minute",
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_negative", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("n_neutral", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("n_positive", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("score_sum", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "dimension in ('all', 'topic', 'ticker')", name=op.f("ck_sentiment_minute_dimension")
        ),
        sa.PrimaryKeyConstraint("dimension", "key", "minute", name=op.f("pk_sentiment_minute")),
    )
    op.create_index(
        "ix_sentiment_minute_dimension_minute",
        "sentiment_minute",
        ["dimension", "minute"],
        unique=False,
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "event in ('firing', 'resolved')", name=op.f("ck_alert_deliveries_event")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_deliveries_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("webhook_id", name=op.f("uq_alert_deliveries_webhook_id")),
    )
    op.create_index(
        "ix_alert_deliveries_due",
        "alert_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("delivered_at is null and gave_up_at is null"),
    )
    op.create_index(
        "uq_alert_deliveries_event",
        "alert_deliveries",
        ["alert_id", "event", "endpoint"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_alert_deliveries_event", table_name="alert_deliveries")
    op.drop_index(
        "ix_alert_deliveries_due",
        table_name="alert_deliveries",
        postgresql_where=sa.text("delivered_at is null and gave_up_at is null"),
    )
    op.drop_table("alert_deliveries")
    op.drop_index("ix_sentiment_minute_dimension_minute", table_name="sentiment_minute")
    op.drop_table("sentiment_minute")
    op.drop_index("ix_documents_topic_published_at", table_name="documents")
    op.drop_index("ix_documents_tickers", table_name="documents", postgresql_using="gin")
    op.drop_index("ix_documents_published_at", table_name="documents")
    op.drop_table("documents")
    op.drop_index(
        "uq_alerts_one_firing", table_name="alerts", postgresql_where=sa.text("status = 'firing'")
    )
    op.drop_index("uq_alerts_episode", table_name="alerts")
    op.drop_index("ix_alerts_started_at", table_name="alerts")
    op.drop_table("alerts")
