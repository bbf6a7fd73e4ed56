"""The tables, in SQLAlchemy Core: what the migrations in bot/storage/migrations must build."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# BigInteger ids autoincrement on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
_Id = BigInteger().with_variant(Integer, "sqlite")

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("flow_id", String(100), nullable=False),
    Column("flow_version", String(50), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("thread_key", String(200)),
    Column("status", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("customer", JSON, nullable=False),
    Column("state", LargeBinary, nullable=False),  # Conversation.dump(): engine state as JSON bytes
    Column("awaiting", JSON),  # what the bot waits for now (the turn's `awaiting`)
    Column("agent", String(200)),
    Column("domain", String(255)),  # for filtering in the admin pages
    Column("lock_version", Integer, nullable=False, default=0),  # optimistic check: no lost turns
    Column("turns", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("channel", "thread_key", name="uq_conversation_thread"),
)
Index("ix_conversations_updated", conversations.c.updated_at)

messages = Table(
    "messages",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(40), nullable=False),
    Column("role", String(10), nullable=False),
    Column("type", String(10), nullable=False),
    Column("text", Text, nullable=False),
    Column("payload", JSON),  # probe result, choices, agent name
    Column("created_at", Float, nullable=False),
)
Index("ix_messages_conversation", messages.c.conversation_id, messages.c.id)

turns = Table(
    "turns",
    metadata,
    Column("conversation_id", String(40), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("response", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("packet", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ix_escalations_conversation", escalations.c.conversation_id)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("escalation_id", BigInteger, nullable=False),
    Column("sink", String(20), nullable=False),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("status", String(12), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("locked_until", Float, nullable=False, default=0.0),  # a worker's lease on the row
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.next_attempt_at)

# Extra ways into one conversation, besides its own token: single-use tickets (the link in an e-mail
# to a customer who left) and the session tokens they are exchanged for. Only hashes are stored.
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("conversation_id", String(40), nullable=False),
    Column("kind", String(10), nullable=False),  # ticket | session
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),  # a ticket is spent once
    Column("created_at", Float, nullable=False),
)
Index("ix_access_tokens_conversation", access_tokens.c.conversation_id)

processed_events = Table(
    "processed_events",
    metadata,
    Column("key", String(200), primary_key=True),  # e.g. a Slack event_id: unique, so two processes agree
    Column("created_at", Float, nullable=False),
)

# Slack messages the bot owes: stored before the first try, so a failed post (Slack's 500s, a
# timeout, a restart) is retried until Slack has it, and posted once (the key is unique).
slack_replies = Table(
    "slack_replies",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("conversation_id", String(40)),
    Column("channel", String(40), nullable=False),
    Column("thread_ts", String(40)),
    Column("body", JSON, nullable=False),  # text and blocks, as chat.postMessage takes them
    Column("status", String(12), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("locked_until", Float, nullable=False, default=0.0),  # a process's lease on the row
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
)
Index("ix_slack_replies_due", slack_replies.c.status, slack_replies.c.next_attempt_at)

# The Slack thread where an agent claimed a conversation: any process relays the customer's messages
# there, and it outlives the process that handled the claim.
slack_claims = Table(
    "slack_claims",
    metadata,
    Column("conversation_id", String(40), primary_key=True),
    Column("channel", String(40), nullable=False),
    Column("thread_ts", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(40), nullable=False),
    Column("flow_id", String(100), nullable=False),
    Column("flow_version", String(50), nullable=False),
    Column(
        "kind", String(20), nullable=False
    ),  # started|step|answer|missed|probe|escalated|ended|feedback|abandoned|resumed
    Column("step", String(100)),
    Column("data", JSON),
    Column("created_at", Float, nullable=False),
)
Index("ix_events_flow_time", events.c.flow_id, events.c.created_at)
Index("ix_events_conversation", events.c.conversation_id)
