"""access_tokens: single-use tickets (the resume link in an e-mail) and the sessions they open.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made by a release just before migrations may have the table already (create_all
    # made every table of its models): adopted at 0001, it must not fail here.
    if sa.inspect(op.get_bind()).has_table("access_tokens"):
        return
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float()),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_access_tokens_conversation", "access_tokens", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("access_tokens")
