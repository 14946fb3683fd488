"""Alembic migrations for the ticket store (run via ``loginhelp db upgrade`` or ``loginhelp.tickets.db.upgrade``)."""
