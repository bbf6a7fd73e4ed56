"""Alembic migrations of the schema in bot/storage/schema.py, one file per revision in versions/."""
