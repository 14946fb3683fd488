"""The database layer every package shares: one engine factory, one MetaData, migrations, paths, UTC time.

Import direction: ``loginhelp.db`` depends on nothing else in loginhelp except
``loginhelp.db.schema``, which gathers the domain packages' models for Alembic.
"""
