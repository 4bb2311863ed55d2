"""Alembic migrations of the tracking store (run by ``psychometrics track init``)."""
