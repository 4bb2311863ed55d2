"""The tracking store's tables (SQLAlchemy 2 Core), one definition for SQLite and PostgreSQL.

The Alembic migrations in ``migrations/versions`` create exactly these tables; a test checks
that the migrated schema and this metadata agree (``alembic check``-style comparison).
"""
from __future__ import annotations

from sqlalchemy import (Boolean, Column, Date, DateTime, Float, ForeignKey, Integer,
                        MetaData, String, Table, Text, UniqueConstraint)

__all__ = ["metadata", "users", "patients", "assessments", "assessment_history", "batches",
           "rejections", "models", "signals", "audit_log", "settings"]

metadata = MetaData()

#: Accounts of the web page. ``role`` is "therapist" (sees the patients whose ``therapist``
#: equals the account's ``therapist``) or "supervisor" (sees the clinic).
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("therapist", String(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
)

patients = Table(
    "patients", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("therapist", String(64), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
)

#: One row per (patient, instrument, session): the current version of an assessment.
assessments = Table(
    "assessments", metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False),
    Column("instrument", String(32), nullable=False),
    Column("form", String(32), nullable=False),
    Column("session", Integer, nullable=False),
    Column("date", Date, nullable=True),
    Column("responses", Text, nullable=False),       # JSON list, item order of the bank
    Column("scores", Text, nullable=False),          # JSON object scale -> score
    Column("score", Float, nullable=True),           # the instrument's tracked scale
    Column("note", Text, nullable=True),
    Column("content_hash", String(40), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("patient_id", "instrument", "session", name="uq_assessment_occasion"),
)

#: Superseded versions of corrected assessments (never deleted).
assessment_history = Table(
    "assessment_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", Integer, ForeignKey("assessments.id"), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("date", Date, nullable=True),
    Column("responses", Text, nullable=False),
    Column("scores", Text, nullable=False),
    Column("score", Float, nullable=True),
    Column("note", Text, nullable=True),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=True),
    Column("replaced_by_batch", Integer, ForeignKey("batches.id"), nullable=True),
    Column("replaced_at", DateTime, nullable=False),
)

batches = Table(
    "batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("mode", String(16), nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("n_new", Integer, nullable=False),
    Column("n_unchanged", Integer, nullable=False),
    Column("n_corrected", Integer, nullable=False),
    Column("n_rejected", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

rejections = Table(
    "rejections", metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, ForeignKey("batches.id"), nullable=False, index=True),
    Column("row", Integer, nullable=False),
    Column("column", String(64), nullable=True),
    Column("value", Text, nullable=True),
    Column("reason", Text, nullable=False),
)

#: Versioned expected-recovery models (and the alliance reliable-change rule fitted with them).
models = Table(
    "models", metadata,
    Column("id", Integer, primary_key=True),
    Column("instrument", String(32), nullable=False),
    Column("scale", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("n_patients", Integer, nullable=False),
    Column("n_obs", Integer, nullable=False),
    Column("spec", Text, nullable=False),            # JSON: bands, estimates, settings
)

signals = Table(
    "signals", metadata,
    Column("id", Integer, primary_key=True),
    Column("assessment_id", Integer, ForeignKey("assessments.id"), nullable=False),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("model_id", Integer, ForeignKey("models.id"), nullable=True),
    Column("sentence", Text, nullable=False),
    Column("numbers", Text, nullable=False),         # JSON
    Column("created_at", DateTime, nullable=False),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", DateTime, nullable=True),
    UniqueConstraint("assessment_id", "kind", name="uq_signal_kind"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=True),
    Column("allowed", Boolean, nullable=False),
)

settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
