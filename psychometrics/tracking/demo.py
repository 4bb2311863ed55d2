"""A simulated clinic for trying the tracking store, its tests and its benchmark.

Patients start at an intake severity, improve along ``log(session)`` with their own rate
(as the expected-recovery model assumes), and answer the OQ-45.2 each session and the
WAI-SR from session 2 on, with occasional alliance dips. Item responses are drawn from
binomial item models, so the banks score them as real data (reverse keys included).
No item text is involved.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from .instruments import instrument

__all__ = ["simulate_clinic"]


def _items(rng, inst_name: str, level: np.ndarray) -> pd.DataFrame:
    """Responses of ``len(level)`` administrations; ``level`` in (0, 1) is the share of the
    maximum on the scored (keyed) direction."""
    spec = instrument(inst_name)
    lo, hi = spec.response_scale.min, spec.response_scale.max
    rev = set()
    for sc in spec.scales.values():
        rev |= set(getattr(sc, "reverse", ()) or ())
    cols = {}
    for it in spec.items:
        p = np.clip(level + rng.normal(0, 0.05, len(level)), 0.02, 0.98)
        if it.id in rev:
            p = 1 - p
        cols[it.id] = lo + rng.binomial(int(hi - lo), p)
    return pd.DataFrame(cols)


def simulate_clinic(n_patients: int = 200, n_therapists: int = 10, max_sessions: int = 12,
                    seed: int = 1, start: _dt.date = _dt.date(2025, 1, 6),
                    alliance: str = "wai-sr") -> pd.DataFrame:
    """Assessments of a simulated clinic, in the layout :func:`ingest` reads.

    Parameters
    ----------
    n_patients, n_therapists, max_sessions : int
        Each patient has 2 to ``max_sessions`` weekly sessions (uniform).
    seed : int
    start : date
        Intake dates fall in the 26 weeks after ``start``.
    alliance : str
        The alliance bank answered from session 2 on (``"wai-sr"`` or ``"pear"``).

    Returns
    -------
    DataFrame
        ``id, therapist, instrument, session, date, note`` and the item columns of both banks.
    """
    rng = np.random.default_rng(seed)
    n_sess = rng.integers(2, max_sessions + 1, n_patients)
    pid = np.repeat(np.arange(n_patients), n_sess)
    session = np.concatenate([np.arange(1, k + 1) for k in n_sess])
    intake = np.clip(rng.normal(0.45, 0.12, n_patients), 0.1, 0.9)
    rate = rng.normal(0.06, 0.04, n_patients)
    t = np.log(session)
    level = np.clip(intake[pid] - rate[pid] * t + rng.normal(0, 0.03, len(pid)), 0.02, 0.98)
    day0 = rng.integers(0, 26 * 7, n_patients)
    dates = [start + _dt.timedelta(days=int(day0[p] + 7 * (s - 1))) for p, s in zip(pid, session)]
    codes = np.array([f"P{p:06d}" for p in range(n_patients)], dtype=object)
    thers = np.array([f"T{k:03d}" for k in rng.integers(0, n_therapists, n_patients)],
                     dtype=object)
    oq = pd.DataFrame({"id": codes[pid], "therapist": thers[pid], "instrument": "oq-45.2",
                       "session": session, "date": [d.isoformat() for d in dates], "note": ""})
    oq = pd.concat([oq, _items(rng, "oq-45.2", level)], axis=1)
    keep = session >= 2
    a_mean = np.clip(rng.normal(0.7, 0.1, n_patients), 0.3, 0.95)
    dip = rng.random(len(pid)) < 0.05
    a_level = np.clip(a_mean[pid] + rng.normal(0, 0.03, len(pid)) - 0.25 * dip, 0.02, 0.98)
    wai = pd.DataFrame({"id": codes[pid][keep], "therapist": thers[pid][keep],
                        "instrument": alliance, "session": session[keep],
                        "date": [d.isoformat() for d, k in zip(dates, keep) if k], "note": ""})
    wai = pd.concat([wai, _items(rng, alliance, a_level[keep]).reset_index(drop=True)], axis=1)
    out = pd.concat([oq, wai], ignore_index=True)
    return out.sort_values(["id", "session", "instrument"], kind="stable").reset_index(drop=True)
