"""Signals for new assessments, each with a plain sentence and the numbers behind it.

Outcome instruments (OQ-45.2), against the patient's intake:

* ``not_on_track``: the score lies on the worse side of the expected-recovery band
  (:mod:`.expected`); ``ahead_of_expected`` on the better side;
* ``reliable_deterioration`` / ``reliable_improvement``: the bank's reliable-change rule
  (norm set ``rci`` or Jacobson-Truax), through :func:`psychometrics.scoring.clinical_significance`;
* ``clinically_significant_change``: reliable improvement that crosses the bank's cut-off
  from the dysfunctional into the functional range (class "recovered").

Alliance instruments (WAI-SR, WAI-S, PEAR):

* ``alliance_rupture``: the score lies below the patient's own running mean of the earlier
  sessions (at least ``MIN_PREVIOUS``) by more than the reliable-change threshold of the
  model record (Jacobson-Truax from the clinic's alpha and SD), judged by the same
  ``clinical_significance`` with that reliability and SD.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from ..results import Summary
from ..scoring import clinical_significance
from .expected import ExpectedModel, load_model
from .instruments import DEFAULT_NORMS, instrument, role_of
from .schema import assessments, patients, signals

__all__ = ["update_signals", "compute_signals", "SignalsResult", "KINDS", "MIN_PREVIOUS"]

KINDS = ("not_on_track", "ahead_of_expected", "reliable_deterioration", "reliable_improvement",
         "clinically_significant_change", "alliance_rupture")
#: Earlier alliance assessments needed before a running mean is compared.
MIN_PREVIOUS = 2


@dataclass(frozen=True)
class SignalsResult:
    """Signals computed for a set of assessments.

    Attributes
    ----------
    table : DataFrame
        One row per signal: ``assessment_id, patient_id, id (patient code), instrument,
        session, kind, model_id, sentence, numbers`` (``numbers`` a dict).
    n_assessments : int
        Assessments examined (each may have none, one or several signals).
    model_id : int or None
        The expected-recovery model used (None when no model was fitted yet).
    """

    table: pd.DataFrame = field(repr=False)
    n_assessments: int = 0
    model_id: int | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> Summary:
        counts = self.table["kind"].value_counts().reindex(list(KINDS), fill_value=0)
        return Summary("Tracking signals",
                       (f"Assessments examined: {self.n_assessments}; model "
                        f"{self.model_id if self.model_id is not None else 'none fitted'}",),
                       (("Signals by kind", counts.rename_axis("kind").reset_index(name="n")),))


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if abs(x - round(x)) > 1e-9 else f"{int(round(x))}"


def _load(engine: Engine, ids: list[int], later_of_patients: Iterable[int]):
    """Target assessments and the history of their patients."""
    cols = (assessments.c.id, assessments.c.patient_id, assessments.c.instrument,
            assessments.c.session, assessments.c.score)
    with engine.connect() as conn:
        tgt = []
        for k in range(0, len(ids), 900):
            tgt += conn.execute(select(*cols).where(assessments.c.id.in_(ids[k:k + 900]))).all()
        pids = sorted({r.patient_id for r in tgt} | set(later_of_patients))
        hist, codes = [], {}
        for k in range(0, len(pids), 900):
            chunk = pids[k:k + 900]
            hist += conn.execute(select(*cols).where(assessments.c.patient_id.in_(chunk))).all()
            codes.update(dict(conn.execute(select(patients.c.id, patients.c.code)
                                           .where(patients.c.id.in_(chunk))).all()))
    names = ["assessment_id", "patient_id", "instrument", "session", "score"]
    hist = pd.DataFrame(hist, columns=names)
    target = set(ids)
    if later_of_patients:
        lp = set(later_of_patients)
        target |= set(hist.loc[hist["patient_id"].isin(lp), "assessment_id"])
    hist = hist.sort_values(["patient_id", "instrument", "session"], kind="stable")
    hist["target"] = hist["assessment_id"].isin(target)
    hist["id"] = hist["patient_id"].map(codes)
    return hist.reset_index(drop=True)


def compute_signals(hist: pd.DataFrame, model: ExpectedModel | None,
                    norms: dict | None = None) -> pd.DataFrame:
    """Signals of the rows of ``hist`` marked ``target`` (pure computation, no database).

    ``hist`` has ``assessment_id, patient_id, id, instrument, session, score, target``,
    sorted by patient, instrument and session, and holds every assessment of each target's
    patient and instrument (the intake and the earlier sessions are needed).
    """
    out: list[dict] = []
    norms = {**DEFAULT_NORMS, **(norms or {})}
    if model is not None and model.norms:
        norms[model.instrument] = model.norms
    mid = None if model is None else model.model_id
    h = hist[hist["score"].notna()]
    for name, d in h.groupby("instrument", sort=True):
        role = role_of(name)
        if not d["target"].any():
            continue
        if role.kind == "outcome":
            out += _outcome(d, name, role, model, norms.get(name), mid)
        elif role.kind == "alliance" and model is not None and name in model.alliance:
            out += _alliance(d, name, role, model.alliance[name], mid)
    cols = ["assessment_id", "patient_id", "id", "instrument", "session", "kind", "model_id",
            "sentence", "numbers"]
    return pd.DataFrame(out, columns=cols)


def _outcome(d: pd.DataFrame, name: str, role, model, norms, mid) -> list[dict]:
    out = []
    label = f"{name.upper()} {role.scale}"
    first = d.groupby("patient_id", sort=False).head(1).set_index("patient_id")
    t = d[d["target"]].copy()
    t["intake"] = t["patient_id"].map(first["score"]).to_numpy()
    t["intake_session"] = t["patient_id"].map(first["session"]).to_numpy()
    t = t[t["session"] > t["intake_session"]]
    if t.empty:
        return out
    if norms is not None:
        aid = t["assessment_id"].to_numpy()
        frame = pd.DataFrame({"a": np.repeat(aid, 2), "time": np.tile([0, 1], len(t)),
                              role.scale: np.column_stack([t["intake"], t["score"]]).ravel()})
        cs = clinical_significance(frame, instrument(name), scale=role.scale, id="a", time="time",
                                   norms=norms)
        tab = cs.table.set_index("a").loc[aid]
        rule = (f"the reliable change of {_fmt(cs.threshold)} points (norms {norms})"
                if cs.method == "rci" else
                f"the reliable change of {_fmt(cs.threshold * cs.s_diff)} points")
        for row, cls, rel in zip(t.itertuples(index=False), tab["class"], tab["reliable"]):
            ch = row.score - row.intake
            nums = {"intake": row.intake, "score": row.score, "change": ch,
                    "threshold": cs.threshold if cs.method == "rci"
                    else cs.threshold * cs.s_diff, "method": cs.method, "norms": norms,
                    "cutoff": cs.cutoff, "session": int(row.session)}
            base = dict(assessment_id=int(row.assessment_id), patient_id=int(row.patient_id),
                        id=row.id, instrument=name, session=int(row.session), model_id=None,
                        numbers=nums)
            move = "rose" if ch > 0 else "fell"
            what = (f"{label} {move} from {_fmt(row.intake)} at intake to {_fmt(row.score)} at "
                    f"session {int(row.session)} ({ch:+.0f}), ")
            if cls == "deteriorated":
                out.append({**base, "kind": "reliable_deterioration",
                            "sentence": what + f"more than {rule}: reliable deterioration."})
            elif cls in ("improved", "recovered"):
                out.append({**base, "kind": "reliable_improvement",
                            "sentence": what + f"more than {rule}: reliable improvement."})
                if cls == "recovered":
                    out.append({**base, "kind": "clinically_significant_change", "sentence":
                                what + f"a reliable improvement from the dysfunctional range "
                                f"into the functional range (cut-off {_fmt(cs.cutoff)}, norms "
                                f"{norms}): clinically significant change."})
    if model is not None and name == model.instrument:
        pred = model.predict(t["intake"], t["intake_session"], t["session"])
        for row, p in zip(t.itertuples(index=False), pred.itertuples(index=False)):
            worse = row.score > p.upper if role.higher_is_worse else row.score < p.lower
            better = row.score < p.lower if role.higher_is_worse else row.score > p.upper
            if not (worse or better):
                continue
            nums = {"intake": row.intake, "score": row.score, "expected": p.expected,
                    "lower": p.lower, "upper": p.upper, "level": model.level, "band": int(p.band),
                    "model_id": mid, "session": int(row.session)}
            side = ("above" if row.score > p.upper else "below")
            text = (f"{label} at session {int(row.session)} is {_fmt(row.score)}, {side} the "
                    f"expected range for a patient with intake {_fmt(row.intake)} (expected "
                    f"{p.expected:.1f}, {model.level:.0%} band {p.lower:.1f} to {p.upper:.1f}; "
                    f"intake band {int(p.band)} of model #{mid}): ")
            text += "not on track." if worse else "better than expected."
            out.append(dict(assessment_id=int(row.assessment_id), patient_id=int(row.patient_id),
                            id=row.id, instrument=name, session=int(row.session),
                            kind="not_on_track" if worse else "ahead_of_expected",
                            model_id=mid, sentence=text, numbers=nums))
    return out


def _alliance(d: pd.DataFrame, name: str, role, rule: dict, mid) -> list[dict]:
    out = []
    g = d.groupby("patient_id", sort=False)["score"]
    prev_n = g.cumcount().to_numpy()
    prev_sum = (g.cumsum() - d["score"]).to_numpy()
    d = d.assign(prev_n=prev_n, prev_mean=np.where(prev_n > 0, prev_sum / np.maximum(prev_n, 1),
                                                   np.nan))
    t = d[d["target"] & (d["prev_n"] >= MIN_PREVIOUS)]
    if t.empty:
        return out
    aid = t["assessment_id"].to_numpy()
    frame = pd.DataFrame({"a": np.repeat(aid, 2), "time": np.tile([0, 1], len(t)),
                          role.scale: np.column_stack([t["prev_mean"], t["score"]]).ravel()})
    cs = clinical_significance(frame, instrument(name), scale=role.scale, id="a", time="time",
                               reliability=rule["reliability"], sd=rule["sd"])
    tab = cs.table.set_index("a").loc[aid]
    thr = cs.threshold * cs.s_diff
    label = f"{name.upper()} {role.scale}"
    for row, cls in zip(t.itertuples(index=False), tab["class"]):
        if cls != "deteriorated":
            continue
        gap = row.prev_mean - row.score
        out.append(dict(
            assessment_id=int(row.assessment_id), patient_id=int(row.patient_id), id=row.id,
            instrument=name, session=int(row.session), kind="alliance_rupture", model_id=mid,
            sentence=(f"{label} at session {int(row.session)} is {_fmt(row.score)}, "
                      f"{abs(gap):.1f} points {'below' if gap > 0 else 'above'} this patient's "
                      f"own mean of {row.prev_mean:.1f} over {int(row.prev_n)} earlier sessions; "
                      f"the reliable-change threshold is {thr:.1f} points (reliability "
                      f"{rule['reliability']:.2f}, SD {rule['sd']:.1f}, model #{mid}): possible "
                      "alliance rupture."),
            numbers={"score": row.score, "own_mean": row.prev_mean, "n_previous":
                     int(row.prev_n), "difference": -gap, "threshold": thr,
                     "reliability": rule["reliability"], "sd": rule["sd"], "model_id": mid,
                     "session": int(row.session)}))
    return out


def update_signals(engine: Engine, assessment_ids: Iterable[int], *,
                   later_of_patients: Iterable[int] = (), model: ExpectedModel | None = None,
                   norms: dict | None = None) -> SignalsResult:
    """Compute and store the signals of these assessments (replacing their old signals).

    Parameters
    ----------
    engine : Engine
    assessment_ids : iterable of int
    later_of_patients : iterable of int
        Patients (``patients.id``) all of whose assessments are recomputed too (after a
        correction, later running means and intake comparisons change).
    model : ExpectedModel, optional
        Default: the newest model of the outcome instrument.
    norms : dict, optional
        Instrument -> norm set, overriding the model's and the defaults.

    Returns
    -------
    SignalsResult
    """
    ids = sorted({int(a) for a in assessment_ids})
    model = model if model is not None else load_model(engine)
    hist = _load(engine, ids, set(later_of_patients))
    table = compute_signals(hist, model, norms)
    targets = hist.loc[hist["target"], "assessment_id"].astype(int).tolist()
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        for k in range(0, len(targets), 900):
            conn.execute(delete(signals).where(signals.c.assessment_id.in_(targets[k:k + 900])))
        if len(table):
            conn.execute(insert(signals), [
                {"assessment_id": r.assessment_id, "patient_id": r.patient_id, "kind": r.kind,
                 "model_id": r.model_id, "sentence": r.sentence,
                 "numbers": json.dumps(r.numbers, default=float), "created_at": now}
                for r in table.itertuples(index=False)])
    return SignalsResult(table, len(targets), None if model is None else model.model_id)


def pending_assessments(engine: Engine) -> list[int]:
    """Every stored assessment (for ``track signals --all``)."""
    with engine.connect() as conn:
        return [int(a) for a in conn.execute(select(assessments.c.id)).scalars()]
