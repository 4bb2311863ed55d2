"""What the web page shows, as plain data (queries and computations, no HTML).

``caseload(engine, user)`` and ``patient_view(engine, patient_id)`` are used by the web
page and the benchmark; access control is the caller's (``can_see``).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from .expected import load_model
from .instruments import role_of
from .schema import assessments, patients, signals

__all__ = ["caseload", "patient_view", "can_see", "PAGE_SIZE"]

PAGE_SIZE = 100


def can_see(user: dict, patient_therapist: str) -> bool:
    """A supervisor sees every patient; a therapist only their own."""
    return user["role"] == "supervisor" or (user["role"] == "therapist"
                                            and user.get("therapist") == patient_therapist)


def caseload(engine: Engine, user: dict, page: int = 0) -> dict:
    """The patients the user may see with their latest scores and open signals."""
    q = select(patients.c.id, patients.c.code, patients.c.therapist)
    count = select(func.count()).select_from(patients)
    if user["role"] != "supervisor":
        q = q.where(patients.c.therapist == user.get("therapist"))
        count = count.where(patients.c.therapist == user.get("therapist"))
    q = q.order_by(patients.c.therapist, patients.c.code).limit(PAGE_SIZE).offset(
        PAGE_SIZE * page)
    with engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
        pats = conn.execute(q).all()
        ids = [p.id for p in pats]
        latest = {}
        open_sig = {}
        if ids:
            last = (select(assessments.c.patient_id, assessments.c.instrument,
                           func.max(assessments.c.session).label("session"))
                    .where(assessments.c.patient_id.in_(ids))
                    .group_by(assessments.c.patient_id, assessments.c.instrument).subquery())
            rows = conn.execute(
                select(assessments.c.id, assessments.c.patient_id, assessments.c.instrument,
                       assessments.c.session, assessments.c.score, assessments.c.date)
                .join(last, and_(assessments.c.patient_id == last.c.patient_id,
                                 assessments.c.instrument == last.c.instrument,
                                 assessments.c.session == last.c.session))).all()
            for r in rows:
                latest.setdefault(r.patient_id, []).append(r)
            last_ids = [r.id for r in rows]
            for s in conn.execute(select(signals.c.patient_id, signals.c.kind)
                                  .where(signals.c.assessment_id.in_(last_ids),
                                         signals.c.acknowledged_at.is_(None))):
                open_sig.setdefault(s.patient_id, []).append(s.kind)
    out = []
    for p in pats:
        lat = sorted(latest.get(p.id, []), key=lambda r: r.instrument)
        out.append({"id": p.id, "code": p.code, "therapist": p.therapist,
                    "latest": [{"instrument": r.instrument, "session": r.session,
                                "score": r.score, "date": r.date} for r in lat],
                    "signals": sorted(set(open_sig.get(p.id, [])))})
    return {"patients": out, "total": total, "page": page,
            "pages": max(1, -(-total // PAGE_SIZE))}


def patient_view(engine: Engine, patient_id: int) -> dict | None:
    """Everything the patient page shows (None when there is no such patient)."""
    with engine.connect() as conn:
        p = conn.execute(select(patients).where(patients.c.id == patient_id)).first()
        if p is None:
            return None
        rows = conn.execute(select(assessments.c.id, assessments.c.instrument,
                                   assessments.c.session, assessments.c.date,
                                   assessments.c.score, assessments.c.note,
                                   assessments.c.revision)
                            .where(assessments.c.patient_id == patient_id)
                            .order_by(assessments.c.instrument, assessments.c.session)).all()
        sigs = conn.execute(select(signals, assessments.c.instrument, assessments.c.session)
                            .join(assessments, assessments.c.id == signals.c.assessment_id)
                            .where(signals.c.patient_id == patient_id)
                            .order_by(assessments.c.session.desc(), signals.c.id)).all()
    df = pd.DataFrame(rows, columns=["id", "instrument", "session", "date", "score", "note",
                                     "revision"])
    model = load_model(engine)
    charts = []
    for name, d in df.groupby("instrument", sort=True):
        d = d[d["score"].notna()]
        if d.empty:
            continue
        role = role_of(name)
        flagged = {int(s.session) for s in sigs if s.instrument == name
                   and s.kind in ("not_on_track", "reliable_deterioration", "alliance_rupture")}
        chart = {"instrument": name, "kind": role.kind, "scale": role.scale,
                 "sessions": d["session"].to_numpy(int), "scores": d["score"].to_numpy(float),
                 "flagged": flagged, "band": None, "own_mean": None, "threshold": None,
                 "model_id": None}
        if role.kind == "outcome" and model is not None and model.instrument == name:
            s_max = int(d["session"].max()) + 2
            grid = np.arange(int(d["session"].iloc[0]), s_max + 1)
            pred = model.predict(d["score"].iloc[0], d["session"].iloc[0], grid)
            pred.insert(0, "session", grid)
            chart["band"], chart["model_id"] = pred, model.model_id
        if role.kind == "alliance":
            sc = chart["scores"]
            n_prev = np.arange(len(sc))
            csum = np.concatenate([[np.nan], np.cumsum(sc)[:-1]])
            chart["own_mean"] = np.where(n_prev > 0, csum / np.maximum(n_prev, 1), np.nan)
            if model is not None and name in model.alliance:
                chart["threshold"] = model.alliance[name]["threshold"]
                chart["model_id"] = model.model_id
        charts.append(chart)
    sig_rows = [{"id": s.id, "kind": s.kind, "instrument": s.instrument, "session": s.session,
                 "sentence": s.sentence, "numbers": json.loads(s.numbers),
                 "model_id": s.model_id, "acknowledged_by": s.acknowledged_by,
                 "acknowledged_at": s.acknowledged_at} for s in sigs]
    notes = [{"instrument": r.instrument, "session": r.session, "note": r.note}
             for r in df.itertuples() if r.note]
    return {"id": p.id, "code": p.code, "therapist": p.therapist, "assessments": df,
            "charts": charts, "signals": sig_rows, "notes": notes, "model": model}
