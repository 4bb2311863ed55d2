"""Clinic tracking: a database of assessments, expected-recovery alerts, alliance-rupture
signals and a web page (``psychometrics track ...``; see docs/tracking.md).

Needs the ``tracking`` extra (``pip install psychometrics[tracking]``): SQLAlchemy 2,
Alembic, Starlette, Jinja2, itsdangerous, argon2-cffi and (for PostgreSQL) psycopg 3.
Names are imported lazily, so ``psychometrics --help`` works without the extra.

>>> from psychometrics import tracking as tr                      # doctest: +SKIP
>>> engine = tr.init_db("clinic.db")                              # doctest: +SKIP
>>> res = tr.ingest(engine, "assessments.csv")                    # doctest: +SKIP
>>> model = tr.fit_expected(engine)                               # doctest: +SKIP
>>> tr.update_signals(engine, res.assessment_ids).summary()       # doctest: +SKIP
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "open_store": "store", "init_db": "store", "StoreError": "store",
    "ingest": "ingestion", "IngestResult": "ingestion",
    "fit_expected": "expected", "load_model": "expected", "ExpectedModel": "expected",
    "update_signals": "signals", "compute_signals": "signals", "SignalsResult": "signals",
    "add_user": "auth", "verify_user": "auth",
    "create_app": "web", "serve": "web",
    "export": "exporting", "simulate_clinic": "demo",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
