"""Giving the data back: one tidy file a researcher can analyse with the rest of the package."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..exceptions import DataValidationError
from .instruments import instrument as _instrument
from .schema import assessments, patients, signals

__all__ = ["export", "export_frame", "export_signals"]


def export_frame(engine: Engine, instrument: str | None = None) -> pd.DataFrame:
    """The stored assessments, one row each.

    Columns: ``id`` (patient), ``cluster`` (therapist), ``instrument``, ``form``, ``time``
    (session), ``date``, ``revision``, the scale scores, then the item responses (wide, the
    layout :func:`psychometrics.score` and the reliability and multilevel functions read).
    """
    q = (select(patients.c.code, patients.c.therapist, assessments.c.instrument,
                assessments.c.form, assessments.c.session, assessments.c.date,
                assessments.c.revision, assessments.c.scores, assessments.c.responses)
         .join(patients, patients.c.id == assessments.c.patient_id)
         .order_by(assessments.c.instrument, patients.c.code, assessments.c.session))
    if instrument is not None:
        q = q.where(assessments.c.instrument == instrument)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    base = pd.DataFrame([r[:7] for r in rows], columns=["id", "cluster", "instrument", "form",
                                                        "time", "date", "revision"])
    parts = []
    for name, idx in base.groupby("instrument", sort=True).groups.items():
        spec = _instrument(name)
        sc = pd.DataFrame([json.loads(rows[i].scores) for i in idx], index=idx)
        it = pd.DataFrame([json.loads(rows[i].responses) for i in idx], index=idx,
                          columns=[x.id for x in spec.items])
        parts.append(pd.concat([base.loc[idx], sc, it], axis=1))
    if not parts:
        return base
    return pd.concat(parts).reset_index(drop=True)


def export_signals(engine: Engine) -> pd.DataFrame:
    """Every stored signal: ``id, cluster, instrument, time, kind, model_id, sentence`` and
    its numbers (JSON text)."""
    q = (select(patients.c.code, patients.c.therapist, assessments.c.instrument,
                assessments.c.session, signals.c.kind, signals.c.model_id, signals.c.sentence,
                signals.c.numbers, signals.c.acknowledged_by)
         .join(assessments, assessments.c.id == signals.c.assessment_id)
         .join(patients, patients.c.id == signals.c.patient_id)
         .order_by(patients.c.code, assessments.c.session, signals.c.kind))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return pd.DataFrame(rows, columns=["id", "cluster", "instrument", "time", "kind",
                                       "model_id", "sentence", "numbers", "acknowledged_by"])


def export(engine: Engine, path: str | os.PathLike, *, instrument: str | None = None,
           what: str = "assessments") -> Path:
    """Write the assessments (or ``what="signals"``) to ``.csv``, ``.parquet`` or ``.xlsx``."""
    path = Path(path)
    frame = export_signals(engine) if what == "signals" else export_frame(engine, instrument)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        raise DataValidationError(f"The export file {path} must end in .csv, .parquet or .xlsx.")
    return path
