"""Alembic migrations for every table (run via ``loginhelp db upgrade``; see loginhelp.db.migrate)."""
