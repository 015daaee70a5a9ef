"""Alembic migrations: the only source of the database schema (see README, "Schema changes")."""
