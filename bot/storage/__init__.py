"""Storage: conversations, transcripts, escalations, the outbox and events, in SQLite or PostgreSQL."""
