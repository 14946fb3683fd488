"""Production mode: replicas on PostgreSQL and Redis behind nginx (issue 6)."""
