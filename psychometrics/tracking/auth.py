"""Accounts of the web page: argon2id password hashes, roles therapist and supervisor.

A *therapist* account is linked to one therapist code (the ``therapist`` column of the
ingested files) and sees only those patients; a *supervisor* sees the whole clinic.
Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set); the plain password is never stored or logged.
"""
from __future__ import annotations

import datetime as _dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from ..exceptions import DataValidationError
from .schema import users

__all__ = ["add_user", "verify_user", "ROLES", "MIN_PASSWORD"]

ROLES = ("therapist", "supervisor")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a real password, used to keep timing even")


def add_user(engine: Engine, username: str, password: str, role: str,
             therapist: str | None = None, *, replace: bool = False) -> int:
    """Create an account (or, with ``replace=True``, set a new password and role).

    Raises
    ------
    DataValidationError
        Unknown role, a therapist account without a therapist code, a password shorter than
        ``MIN_PASSWORD`` characters, or an existing username without ``replace``.
    """
    if role not in ROLES:
        raise DataValidationError(f"The role {role!r} is not one of {list(ROLES)}.")
    if role == "therapist" and not therapist:
        raise DataValidationError("A therapist account needs the therapist code it belongs to "
                                  "(the 'therapist' column of the ingested files).")
    if not username or len(username) > 64:
        raise DataValidationError("The username must have 1 to 64 characters.")
    if len(password) < MIN_PASSWORD:
        raise DataValidationError(f"The password must have at least {MIN_PASSWORD} characters.")
    digest = _hasher.hash(password)
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        old = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        if old is not None:
            if not replace:
                raise DataValidationError(f"The user {username!r} exists already; pass "
                                          "replace=True (--replace) to reset it.")
            conn.execute(update(users).where(users.c.id == old).values(
                password_hash=digest, role=role, therapist=therapist))
            return int(old)
        return int(conn.execute(insert(users).values(
            username=username, password_hash=digest, role=role, therapist=therapist,
            created_at=now)).inserted_primary_key[0])


def verify_user(engine: Engine, username: str, password: str) -> dict | None:
    """The account as a dict when the password is right, else None (same work either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return {"id": row.id, "username": row.username, "role": row.role,
            "therapist": row.therapist}
