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
from functools import lru_cache
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
class ChangeRule:
    """The reliable-change and cut-off facts of one scale, as
    :func:`psychometrics.scoring.clinical_significance` resolves them from the bank.

    ``classify(pre, post)`` applies them to many (pre, post) pairs at once with the
    semantics of ``clinical_significance`` (reliable when ``|post - pre| >= threshold``
    for a norm-set ``rci``, ``|RC| > z`` for Jacobson-Truax; dysfunctional at or beyond
    the cut-off; "recovered" = reliable improvement out of the dysfunctional range). It
    exists because ``clinical_significance`` spends ~10-40 ms of pandas work per call,
    too much for a signal that must be ready in 50 ms; the tests check that both give the
    same class on a grid of pairs.
    """

    method: str
    threshold: float
    s_diff: float | None
    cutoff: float | None
    higher_is_worse: bool
    norms: str | None

    @property
    def points(self) -> float:
        """The smallest reliable change in raw points."""
        return self.threshold if self.method == "rci" else self.threshold * self.s_diff

    def classify(self, pre, post) -> np.ndarray:
        pre, post = np.asarray(pre, float), np.asarray(post, float)
        change = post - pre
        reliable = (np.abs(change) >= self.threshold if self.method == "rci"
                    else np.abs(change / self.s_diff) > self.threshold)
        improving = change < 0 if self.higher_is_worse else change > 0
        worsening = change > 0 if self.higher_is_worse else change < 0
        if self.cutoff is not None:
            dys = (lambda x: x >= self.cutoff) if self.higher_is_worse else \
                (lambda x: x <= self.cutoff)
            crossed = dys(pre) & ~dys(post)
        else:
            crossed = np.zeros(pre.shape, dtype=bool)
        return np.where(reliable & improving & crossed, "recovered",
                        np.where(reliable & improving, "improved",
                                 np.where(reliable & worsening, "deteriorated", "unchanged")))


@lru_cache(maxsize=64)
def change_rule(name: str, scale: str, norms: str | None = None,
                reliability: float | None = None, sd: float | None = None) -> ChangeRule:
    """The rule ``clinical_significance`` uses for this bank scale (norm set, or
    Jacobson-Truax from ``reliability`` and ``sd``)."""
    frame = pd.DataFrame({"a": [0, 0], "time": [0, 1], scale: [0.0, 0.0]})
    cs = clinical_significance(frame, instrument(name), scale=scale, id="a", time="time",
                               norms=norms, reliability=reliability, sd=sd)
    return ChangeRule(cs.method, float(cs.threshold), cs.s_diff, cs.cutoff,
                      bool(cs.higher_is_worse), norms)


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
    """Target assessments and the history of their patients (two queries)."""
    a = assessments.c
    with engine.connect() as conn:
        pids = set(later_of_patients)
        for k in range(0, len(ids), 900):
            pids.update(conn.execute(select(a.patient_id).where(a.id.in_(ids[k:k + 900])))
                        .scalars())
        pids = sorted(pids)
        hist = []
        for k in range(0, len(pids), 900):
            hist += conn.execute(
                select(a.id, a.patient_id, patients.c.code, a.instrument, a.session, a.score)
                .join(patients, patients.c.id == a.patient_id)
                .where(a.patient_id.in_(pids[k:k + 900]))).all()
    hist = pd.DataFrame(hist, columns=["assessment_id", "patient_id", "id", "instrument",
                                       "session", "score"])
    target = set(ids)
    if later_of_patients:
        target |= set(hist.loc[hist["patient_id"].isin(set(later_of_patients)),
                               "assessment_id"])
    hist = hist.sort_values(["patient_id", "instrument", "session"], kind="stable")
    hist["target"] = hist["assessment_id"].isin(target)
    hist["score"] = hist["score"].astype(float)
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


def _columns(d: pd.DataFrame) -> dict:
    """Plain arrays of one instrument's rows (sorted by patient, then session) and, per row,
    the position of its patient's first row."""
    pid = d["patient_id"].to_numpy()
    n = len(pid)
    first = np.ones(n, dtype=bool)
    first[1:] = pid[1:] != pid[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return {"aid": d["assessment_id"].to_numpy(), "pid": pid, "code": d["id"].to_numpy(object),
            "session": d["session"].to_numpy(), "score": d["score"].to_numpy(float),
            "target": d["target"].to_numpy(bool), "start": start}


def _outcome(d: pd.DataFrame, name: str, role, model, norms, mid) -> list[dict]:
    out = []
    label = f"{name.upper()} {role.scale}"
    c = _columns(d)
    intake, intake_session = c["score"][c["start"]], c["session"][c["start"]]
    sel = np.flatnonzero(c["target"] & (c["session"] > intake_session))
    if not len(sel):
        return out
    rows = [(int(c["aid"][i]), int(c["pid"][i]), c["code"][i], int(c["session"][i]),
             float(c["score"][i]), float(intake[i]), int(intake_session[i])) for i in sel]
    if norms is not None:
        cs = change_rule(name, role.scale, norms)
        classes = cs.classify(intake[sel], c["score"][sel])
        rule = (f"the reliable change of {_fmt(cs.points)} points (norms {norms})")
        for (aid, pid, code, sess, score, y0, _), cls in zip(rows, classes):
            ch = score - y0
            nums = {"intake": y0, "score": score, "change": ch, "threshold": cs.points,
                    "method": cs.method, "norms": norms, "cutoff": cs.cutoff, "session": sess}
            base = dict(assessment_id=aid, patient_id=pid, id=code, instrument=name,
                        session=sess, model_id=None, numbers=nums)
            move = "rose" if ch > 0 else "fell"
            what = (f"{label} {move} from {_fmt(y0)} at intake to {_fmt(score)} at "
                    f"session {sess} ({ch:+.0f}), ")
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
        pred = model.predict(intake[sel], intake_session[sel], c["session"][sel])
        cols = [pred[k].to_numpy().tolist() for k in ("expected", "lower", "upper", "band")]
        for (aid, pid, code, sess, score, y0, _), exp, lo, up, band in zip(rows, *cols):
            worse = score > up if role.higher_is_worse else score < lo
            better = score < lo if role.higher_is_worse else score > up
            if not (worse or better):
                continue
            nums = {"intake": y0, "score": score, "expected": exp, "lower": lo, "upper": up,
                    "level": model.level, "band": int(band), "model_id": mid, "session": sess}
            side = "above" if score > up else "below"
            text = (f"{label} at session {sess} is {_fmt(score)}, {side} the expected range "
                    f"for a patient with intake {_fmt(y0)} (expected {exp:.1f}, "
                    f"{model.level:.0%} band {lo:.1f} to {up:.1f}; intake band {int(band)} of "
                    f"model #{mid}): ")
            text += "not on track." if worse else "better than expected."
            out.append(dict(assessment_id=aid, patient_id=pid, id=code, instrument=name,
                            session=sess, kind="not_on_track" if worse else "ahead_of_expected",
                            model_id=mid, sentence=text, numbers=nums))
    return out


def _alliance(d: pd.DataFrame, name: str, role, rule: dict, mid) -> list[dict]:
    out = []
    c = _columns(d)
    score, start = c["score"], c["start"]
    csum = np.cumsum(score)
    prev_n = np.arange(len(score)) - start
    prev_sum = (csum - score) - (csum[start] - score[start])
    sel = np.flatnonzero(c["target"] & (prev_n >= MIN_PREVIOUS))
    if not len(sel):
        return out
    prev_mean = prev_sum[sel] / prev_n[sel]
    cs = change_rule(name, role.scale, None, float(rule["reliability"]), float(rule["sd"]))
    classes = cs.classify(prev_mean, score[sel])
    thr = cs.points
    label = f"{name.upper()} {role.scale}"
    for i, mean, cls in zip(sel.tolist(), prev_mean.tolist(), classes):
        if cls != "deteriorated":
            continue
        now, sess, k = float(score[i]), int(c["session"][i]), int(prev_n[i])
        gap = mean - now
        out.append(dict(
            assessment_id=int(c["aid"][i]), patient_id=int(c["pid"][i]), id=c["code"][i],
            instrument=name, session=sess, kind="alliance_rupture", model_id=mid,
            sentence=(f"{label} at session {sess} is {_fmt(now)}, "
                      f"{abs(gap):.1f} points {'below' if gap > 0 else 'above'} this patient's "
                      f"own mean of {mean:.1f} over {k} earlier sessions; "
                      f"the reliable-change threshold is {thr:.1f} points (reliability "
                      f"{rule['reliability']:.2f}, SD {rule['sd']:.1f}, model #{mid}): possible "
                      "alliance rupture."),
            numbers={"score": now, "own_mean": mean, "n_previous": k, "difference": -gap,
                     "threshold": thr, "reliability": rule["reliability"], "sd": rule["sd"],
                     "model_id": mid, "session": sess}))
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
