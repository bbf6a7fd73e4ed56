"""The schema as the releases before migrations created it.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# BigInteger ids autoincrement on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("flow_version", sa.String(50), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("thread_key", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("awaiting", sa.JSON()),
        sa.Column("agent", sa.String(200)),
        sa.Column("domain", sa.String(255)),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("channel", "thread_key", name="uq_conversation_thread"),
    )
    op.create_index("ix_conversations_updated", "conversations", ["updated_at"])
    op.create_table(
        "messages",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON()),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "id"])
    op.create_table(
        "turns",
        sa.Column("conversation_id", sa.String(40), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("packet", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_escalations_conversation", "escalations", ["conversation_id"])
    op.create_table(
        "outbox",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("escalation_id", sa.BigInteger(), nullable=False),
        sa.Column("sink", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False, unique=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("delivered_at", sa.Float()),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "processed_events",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("flow_id", sa.String(100), nullable=False),
        sa.Column("flow_version", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("step", sa.String(100)),
        sa.Column("data", sa.JSON()),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_events_flow_time", "events", ["flow_id", "created_at"])
    op.create_index("ix_events_conversation", "events", ["conversation_id"])
    op.create_table("schema_version", sa.Column("version", sa.Integer(), primary_key=True))


def downgrade() -> None:
    for table in (
        "schema_version",
        "events",
        "processed_events",
        "outbox",
        "escalations",
        "turns",
        "messages",
        "conversations",
    ):
        op.drop_table(table)
