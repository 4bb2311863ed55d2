"""Opening a tracking store: an SQLite file (default) or a PostgreSQL database.

``open_store("clinic.db")`` or ``open_store("postgresql+psycopg://user@host/clinic")`` returns
an SQLAlchemy :class:`~sqlalchemy.engine.Engine`; :func:`init_db` brings its schema to the
newest Alembic revision (creating it on an empty database). Every other function of
``psychometrics.tracking`` takes that engine.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Engine

from ..exceptions import PsychometricsError
from .schema import settings

__all__ = ["open_store", "init_db", "database_url", "head_revision", "current_revision",
           "get_setting", "secret_key", "table_names", "StoreError"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(PsychometricsError, RuntimeError):
    """The tracking store cannot be used as asked (not initialised, out of date)."""


def database_url(db: str | os.PathLike) -> str:
    """An SQLAlchemy URL for ``db``: a URL is returned as is, a path becomes ``sqlite:///path``."""
    text = os.fspath(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def open_store(db: str | os.PathLike, *, check: bool = True) -> Engine:
    """Engine for an SQLite file path or an SQLAlchemy URL.

    Parameters
    ----------
    db : str or path
        ``clinic.db`` (SQLite file) or ``postgresql+psycopg://user:pw@host:port/name``.
    check : bool, default True
        Raise :class:`StoreError` unless the schema is at the newest migration
        (run ``psychometrics track init`` first).
    """
    url = database_url(db)
    if check and url.startswith("sqlite:///") and "://" not in os.fspath(db) \
            and not Path(os.fspath(db)).expanduser().exists():
        raise StoreError(f"There is no tracking store {os.fspath(db)}; create it with "
                         f"'psychometrics track init --db {os.fspath(db)}'.")
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if check:
        cur = current_revision(engine)
        if cur != head_revision():
            engine.dispose()
            raise StoreError(
                f"The tracking store {_safe(url)} is at schema revision {cur or 'none'}, not at "
                f"{head_revision()}; run 'psychometrics track init --db {os.fspath(db)}' to "
                "create or upgrade it.")
    return engine


def _safe(url: str) -> str:
    """The URL without its password (never print credentials)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url",
                        engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def init_db(db: str | os.PathLike | Engine) -> Engine:
    """Create the schema, or upgrade it to the newest revision (idempotent).

    Returns the engine. R has no equivalent; this is Alembic's ``upgrade head``.
    """
    from alembic import command

    engine = db if isinstance(db, Engine) else open_store(db, check=False)
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.begin() as conn:
        if conn.execute(select(settings.c.value).where(settings.c.key == "secret_key")
                        ).scalar_one_or_none() is None:
            conn.execute(settings.insert().values(key="secret_key",
                                                  value=secrets.token_urlsafe(48)))
    return engine


def get_setting(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(settings.c.value).where(settings.c.key == key)
                            ).scalar_one_or_none()


def secret_key(engine: Engine) -> str:
    """The store's random key that signs session cookies (made by :func:`init_db`)."""
    key = os.environ.get("PSYCHOMETRICS_TRACK_SECRET") or get_setting(engine, "secret_key")
    if not key:
        raise StoreError("The store has no secret key; run 'psychometrics track init'.")
    return key


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
