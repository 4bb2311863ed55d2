"""Clinic tracking: a database of assessments, expected-recovery alerts, alliance-rupture
signals and a web page (``psychometrics track ...``).

Needs the ``tracking`` extra (``pip install psychometrics[tracking]``): SQLAlchemy 2,
Alembic, Starlette, Jinja2, itsdangerous, argon2-cffi and (for PostgreSQL) psycopg 3.
"""
from .store import StoreError, init_db, open_store

__all__ = ["open_store", "init_db", "StoreError"]
