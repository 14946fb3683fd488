"""The one MetaData (with the naming convention) and declarative base that every table is declared on.

Tickets (ORM classes on ``Base``), agents and the console's transcript tables
(Core ``Table`` objects on ``metadata``) all share it, so Alembic's
autogenerate compares the whole schema, not one package's share of it.
"""
from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import declarative_base

#: Deterministic constraint names so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

Base = declarative_base(metadata=metadata)
