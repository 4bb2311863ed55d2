"""Random SEM / two-level SEM designs for the differential corpus against lavaan 0.6-14.

Each design is a small JSON record (``id``, ``kind``, ``seed`` and the generating
parameters, plus the lavaan model syntax and the options of the fit); its data are
regenerated here, deterministically, from the seed by numpy's PCG64 generator.
``write_corpus.py`` writes the designs to ``tests/data/r_results/sem_corpus/designs.json``
and the data, for the R script only, to CSV files that are not committed;
``tests/data/r_scripts/sem_corpus/sem_corpus.R`` fits every design with lavaan and writes
``sem_corpus.json``; ``test_sem_corpus.py`` refits every design with ours.

Kinds (numbers of designs in :func:`make_designs`):

* ``cfa1`` (30): one factor, 3-6 indicators, loadings U(0.3, 0.9), n from 30 to 500;
* ``cfa2`` (20): two correlated factors with 3-4 indicators each;
* ``sem`` (10): two factors, the second regressed on the first and an observed covariate;
* ``heywood`` (16): one factor with a loading of 0.93-0.995 on 3 indicators, or two factors
  correlated 0.93-0.99, with n 30-60: negative variances / correlations above 1 likely;
* ``fiml`` (16): ``cfa1``/``cfa2`` with 5-25% values missing completely at random,
  ``missing = "ml"``;
* ``mg`` (8): two groups, one factor, configural or equal loadings;
* ``twolevel`` (12): one factor at each level, 30-80 clusters of 2-6 rows.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
RESULTS = HERE.parent / "data" / "r_results" / "sem_corpus"

_N_CHOICES = (30, 40, 50, 60, 100, 200, 500)


def _one_factor(rng, p):
    lam = rng.uniform(0.3, 0.9, p)
    sd = rng.uniform(0.5, 2.0, p)
    return lam, sd


def _cfa_syntax(sizes, start=1, names=("f1", "f2", "f3")):
    lines, k = [], start
    for f, s in zip(names, sizes):
        lines.append(f"{f} =~ " + " + ".join(f"y{k + i}" for i in range(s)))
        k += s
    return "\n".join(lines)


def make_designs(master_seed: int = 20261202) -> list[dict]:
    """The corpus designs (plain JSON-able dicts), reproducible from ``master_seed``."""
    rng = np.random.default_rng(master_seed)
    out = []

    def add(kind, **kw):
        d = dict(id=f"{kind}_{sum(x['kind'] == kind for x in out) + 1:02d}", kind=kind,
                 seed=int(rng.integers(1, 2**31 - 1)), **kw)
        out.append(d)

    for _ in range(30):
        p = int(rng.integers(3, 7))
        lam, sd = _one_factor(rng, p)
        add("cfa1", n=int(rng.choice(_N_CHOICES)), sizes=[p], loadings=lam.tolist(),
            sd=sd.tolist(), phi=0.0, model=_cfa_syntax([p]))
    for _ in range(20):
        sizes = [int(rng.integers(3, 5)), int(rng.integers(3, 5))]
        lam, sd = _one_factor(rng, sum(sizes))
        add("cfa2", n=int(rng.choice(_N_CHOICES)), sizes=sizes, loadings=lam.tolist(),
            sd=sd.tolist(), phi=float(rng.uniform(-0.2, 0.7)), model=_cfa_syntax(sizes))
    for _ in range(10):
        sizes = [3, 3]
        lam, sd = _one_factor(rng, 6)
        add("sem", n=int(rng.choice(_N_CHOICES[1:])), sizes=sizes, loadings=lam.tolist(),
            sd=sd.tolist(), beta=float(rng.uniform(0.0, 0.7)), gamma=float(rng.uniform(-0.4, 0.4)),
            model=_cfa_syntax(sizes) + "\nf2 ~ f1 + x1")
    for i in range(16):
        if i % 2 == 0:
            lam, sd = _one_factor(rng, 3)
            lam[0] = rng.uniform(0.93, 0.995)
            add("heywood", n=int(rng.integers(30, 61)), sizes=[3], loadings=lam.tolist(),
                sd=sd.tolist(), phi=0.0, model=_cfa_syntax([3]))
        else:
            lam, sd = _one_factor(rng, 6)
            add("heywood", n=int(rng.integers(30, 61)), sizes=[3, 3], loadings=lam.tolist(),
                sd=sd.tolist(), phi=float(rng.uniform(0.93, 0.99)), model=_cfa_syntax([3, 3]))
    for i in range(16):
        sizes = [int(rng.integers(3, 6))] if i % 2 == 0 else [3, int(rng.integers(3, 5))]
        lam, sd = _one_factor(rng, sum(sizes))
        add("fiml", n=int(rng.choice(_N_CHOICES)), sizes=sizes, loadings=lam.tolist(),
            sd=sd.tolist(), phi=float(rng.uniform(0.0, 0.6)) if len(sizes) == 2 else 0.0,
            pmiss=float(rng.uniform(0.05, 0.25)), model=_cfa_syntax(sizes), missing="ml")
    for i in range(8):
        p = int(rng.integers(3, 6))
        lam, sd = _one_factor(rng, p)
        add("mg", n=[int(rng.integers(40, 201)), int(rng.integers(40, 201))], sizes=[p],
            loadings=lam.tolist(), sd=sd.tolist(), phi=0.0,
            shift=float(rng.uniform(0.0, 0.5)), model=_cfa_syntax([p]),
            group_equal=["loadings"] if i % 2 else [])
    for _ in range(12):
        p = int(rng.integers(3, 6))
        lw, sd = _one_factor(rng, p)
        lb = rng.uniform(0.3, 0.9, p)
        ys = " + ".join(f"y{k + 1}" for k in range(p))
        add("twolevel", n_clusters=int(rng.integers(30, 81)), size_min=2, size_max=6,
            sizes=[p], loadings=lw.tolist(), sd=sd.tolist(), loadings_b=lb.tolist(),
            between_scale=float(rng.uniform(0.2, 0.8)),
            model=f"level: 1\nfw =~ {ys}\nlevel: 2\nfb =~ {ys}")
    return out


def _cfa_data(rng, n, d, mean_shift=0.0):
    lam = np.asarray(d["loadings"])
    sd = np.asarray(d["sd"])
    sizes = d["sizes"]
    nf = len(sizes)
    phi = d.get("phi", 0.0)
    P = np.eye(nf)
    if nf == 2:
        P[0, 1] = P[1, 0] = phi
    eta = rng.standard_normal((n, nf)) @ np.linalg.cholesky(P).T + mean_shift
    fac = np.repeat(np.arange(nf), sizes)
    uniq = np.sqrt(np.clip(1.0 - lam ** 2, 1e-4, None))
    y = eta[:, fac] * lam + rng.standard_normal((n, len(lam))) * uniq
    return y * sd + np.arange(len(lam)) * 0.1       # intercepts 0, 0.1, 0.2, ...


def make_data(d: dict) -> pd.DataFrame:
    """The data of design ``d`` (deterministic in ``d['seed']``)."""
    rng = np.random.default_rng(d["seed"])
    kind = d["kind"]
    if kind in ("cfa1", "cfa2", "heywood", "fiml"):
        y = _cfa_data(rng, d["n"], d)
        df = pd.DataFrame(y, columns=[f"y{k + 1}" for k in range(y.shape[1])])
        if kind == "fiml":
            miss = rng.random(y.shape) < d["pmiss"]
            keep = rng.integers(0, y.shape[1], y.shape[0])  # every row keeps one value
            miss[np.arange(y.shape[0]), keep] = False
            df = df.mask(miss)
        return df
    if kind == "sem":
        n = d["n"]
        lam, sd = np.asarray(d["loadings"]), np.asarray(d["sd"])
        x1 = rng.standard_normal(n)
        f1 = rng.standard_normal(n)
        b, g = d["beta"], d["gamma"]
        f2 = b * f1 + g * x1 + rng.standard_normal(n) * np.sqrt(max(1 - b * b - g * g, 0.2))
        eta = np.column_stack([f1, f2])[:, [0, 0, 0, 1, 1, 1]]
        y = (eta * lam + rng.standard_normal((n, 6)) * np.sqrt(1 - lam ** 2)) * sd
        df = pd.DataFrame(y, columns=[f"y{k + 1}" for k in range(6)])
        df["x1"] = x1
        return df
    if kind == "mg":
        parts = []
        for gi, n in enumerate(d["n"]):
            y = _cfa_data(rng, n, d, mean_shift=gi * d["shift"])
            part = pd.DataFrame(y, columns=[f"y{k + 1}" for k in range(y.shape[1])])
            part["group"] = f"g{gi + 1}"
            parts.append(part)
        return pd.concat(parts, ignore_index=True)
    if kind == "twolevel":
        lw, sd = np.asarray(d["loadings"]), np.asarray(d["sd"])
        lb = np.asarray(d["loadings_b"])
        nc = d["n_clusters"]
        sizes = rng.integers(d["size_min"], d["size_max"] + 1, nc)
        cl = np.repeat(np.arange(1, nc + 1), sizes)
        n, p = len(cl), len(lw)
        fb = rng.standard_normal(nc)
        ub = rng.standard_normal((nc, p)) * np.sqrt(1 - lb ** 2)
        yb = (fb[:, None] * lb + ub) * d["between_scale"]
        fw = rng.standard_normal(n)
        yw = fw[:, None] * lw + rng.standard_normal((n, p)) * np.sqrt(1 - lw ** 2)
        y = (yw + yb[cl - 1]) * sd
        df = pd.DataFrame(y, columns=[f"y{k + 1}" for k in range(p)])
        df["cluster"] = cl
        return df
    raise ValueError(kind)


def load_designs() -> list[dict]:
    with open(RESULTS / "designs.json", encoding="utf-8") as fh:
        return json.load(fh)


def load_reference() -> dict:
    with open(RESULTS / "sem_corpus.json", encoding="utf-8") as fh:
        return json.load(fh)
