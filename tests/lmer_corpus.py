"""The differential corpus of linear mixed models against lme4 (issue 19).

Each design is a seed plus parameters in ``tests/data/r_scripts/multilevel/lmer_corpus_designs.json``;
its data are regenerated here, deterministically, by numpy's PCG64 generator, so the committed
corpus stays small however large the designs are. The reference results were made by::

    python tests/lmer_corpus.py write /tmp/lmer_corpus          # the CSV files
    Rscript tests/data/r_scripts/multilevel/lmer_corpus.R /tmp/lmer_corpus
        # -> tests/data/r_results/multilevel/lmer_corpus.json

The issue's own case (the study's model on 5,000 simulated patients, ``simulated_study``)::

    python tests/lmer_corpus.py write-study /tmp/lmer_study
    Rscript tests/data/r_scripts/multilevel/lmer_study_sim5000.R /tmp/lmer_study
        # -> tests/data/r_results/multilevel/lmer_study_sim5000.json

The incomplete-rating ICC designs (``icc_data``, REML of ``icc(..., missing="reml")``)::

    python tests/lmer_corpus.py write-icc /tmp/lmer_icc
    Rscript tests/data/r_scripts/reliability/icc_incomplete_corpus.R /tmp/lmer_icc
        # -> tests/data/r_results/reliability/icc_incomplete_corpus.json

The crossed REML of multilevel reliability (``crossed_data``)::

    python tests/lmer_corpus.py write-crossed /tmp/lmer_crossed
    Rscript tests/data/r_scripts/mlrel/crossed_corpus.R /tmp/lmer_crossed
        # -> tests/data/r_results/mlrel/crossed_corpus.json

``python tests/lmer_corpus.py designs`` redraws the design list itself (master seed 19).

Data of a design (``make_data``): ``G`` groups, group sizes from ``sizes`` (tiny 1-4,
small 1-8, medium 2-30 or balanced), a within-and-between predictor ``x`` (scale ``x_scale``),
a group-level predictor ``w``, a column of ones ``one``, random intercept SD from ``icc``
(residual SD 1), random slope SD ``slope_sd`` (in units of 1/x_scale) and, with
``missing > 0``, that share of ``y`` and half of it of ``x`` set missing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DESIGNS = HERE / "data" / "r_scripts" / "multilevel" / "lmer_corpus_designs.json"
RESULTS = HERE / "data" / "r_results" / "multilevel" / "lmer_corpus.json"

#: model type -> lme4 formula (the same text is given to ``mixed()``)
FORMULAS = {
    "ri": "y ~ x + w + (1 | id)",
    "ri_one": "y ~ 0 + x + (0 + one | id)",
    "rs": "y ~ x + w + (1 + x | id)",
    "rs_uncorr": "y ~ x + w + (1 + x || id)",
    "slope_only": "y ~ x + w + (0 + x | id)",
}
SIZES = {"tiny": (1, 4), "small": (1, 8), "medium": (2, 30)}


def make_data(des: dict) -> pd.DataFrame:
    """The data of one design (deterministic in ``des``)."""
    rng = np.random.default_rng(des["seed"])
    G = des["G"]
    if des["sizes"] == "balanced":
        n_i = np.full(G, des["balanced_n"])
    else:
        lo, hi = SIZES[des["sizes"]]
        n_i = rng.integers(lo, hi + 1, size=G)
    gid = np.repeat(np.arange(G), n_i)
    n = gid.size
    sx = des["x_scale"]
    x = sx * (0.5 * rng.normal(size=G)[gid] + rng.normal(size=n))
    w = rng.normal(size=G)[gid]
    sd_int = np.sqrt(des["icc"] / (1.0 - des["icc"]))
    b0 = rng.normal(0.0, sd_int, size=G)[gid]
    b1 = rng.normal(0.0, des["slope_sd"] / sx, size=G)[gid]
    intercept = 0.0 if des["model"] == "ri_one" else 1.0
    y = intercept + 0.5 * x / sx + 0.3 * w + b0 + b1 * x + rng.normal(size=n)
    if des["missing"] > 0:
        y[rng.random(n) < des["missing"]] = np.nan
        x[rng.random(n) < des["missing"] / 2] = np.nan
    return pd.DataFrame({"id": gid + 1, "x": x, "w": w, "one": 1.0, "y": y})


def draw_designs(master_seed: int = 19, n: int = 210) -> list[dict]:
    """Draw the design list: mostly small and awkward designs, a few large ones."""
    rng = np.random.default_rng(master_seed)
    models = ["ri"] * 4 + ["ri_one"] * 2 + ["rs"] * 3 + ["rs_uncorr", "slope_only"]
    out = []
    for k in range(n):
        model = models[rng.integers(len(models))]
        if k % 21 == 20:                    # about 10 large designs
            G = int(rng.choice([1000, 2000, 5000]))
            sizes = str(rng.choice(["tiny", "small", "medium", "balanced"], p=[.4, .3, .1, .2]))
        else:
            G = int(np.round(np.exp(rng.uniform(np.log(20), np.log(400)))))
            sizes = str(rng.choice(["tiny", "small", "medium", "balanced"], p=[.35, .25, .25, .15]))
        icc = float(rng.choice([0.0, 0.0005, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8]))
        slope_sd = float(rng.choice([0.0, 0.02, 0.1, 0.3, 0.6])) if model in (
            "rs", "rs_uncorr", "slope_only") else 0.0
        out.append({
            "design": k, "seed": int(rng.integers(2 ** 31)), "model": model,
            "formula": FORMULAS[model], "G": G, "sizes": sizes,
            "balanced_n": int(rng.integers(1, 13)) if sizes == "balanced" else None,
            "icc": icc, "slope_sd": slope_sd,
            "x_scale": float(rng.choice([1.0, 1.0, 0.05, 30.0])),
            "missing": float(rng.choice([0.0, 0.0, 0.1])),
        })
        if sizes == "balanced" and out[-1]["balanced_n"] == 1 and model != "ri_one":
            out[-1]["balanced_n"] = 2        # one row per group: no random effect to estimate
    return out


#: the study's model on the issue-19 data (``simulated_study``)
STUDY_FORMULA = "oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)"
STUDY_CASES = ("sim5000_raw", "sim5000_raw_first1000", "sim5000_scored")


def simulated_study(case: str) -> pd.DataFrame:
    """Issue 19's data: ``psychometrics.simulate`` with 5,000 patients x 12 months, seed 5000.

    ``wai`` is the mean of the 12 WAI items, ``oq_total`` the sum of the 45 OQ item columns,
    as written (``*_raw``, the issue's derivation, which reproduces its numbers) or after
    reverse keying the 9 reverse-keyed items (``*_scored``); then the person-mean split of
    ``wai`` (``decompose``) and next month's ``oq_total`` (``lead``). ``*_first1000`` keeps
    patients 1-1000.
    """
    from psychometrics.instruments import load_instrument
    from psychometrics.multilevel import decompose, lead
    from psychometrics.simulate import simulate

    d = simulate(n_patients=5000, sessions_min=12, sessions_max=12, seed=5000).data
    if case.endswith("first1000"):
        d = d[d["patient_id"].isin(sorted(d["patient_id"].unique())[:1000])]
    oq = d[[f"oq_{i}" for i in range(1, 46)]].astype(float)
    if "scored" in case:
        rev = list(load_instrument("oq-45.2").item_table().query("reverse")["item_id"])
        oq[rev] = 4 - oq[rev]
    d = pd.DataFrame({"patient_id": d["patient_id"], "month": d["month"],
                      "wai": d[[f"wai_{i}" for i in range(1, 13)]].mean(axis=1),
                      "oq_total": oq.sum(axis=1)})
    d = decompose(d, "patient_id", "month", "wai")
    d = lead(d, "patient_id", "month", "oq_total").data
    return d.rename(columns={"oq_total_lead": "oq_next"})[
        ["patient_id", "month", "oq_total", "oq_next", "wai_within", "wai_between"]]


#: seeds of the incomplete-rating ICC designs (``icc_data``); 7, 109, 170, 176, 177 and 203
#: made the previous optimiser wander to theta ~ 1e10 and fail with a LinAlgError
ICC_SEEDS = tuple(range(60)) + (109, 170, 176, 177, 203)


def icc_data(seed: int) -> np.ndarray:
    """Subjects x raters ratings with missing cells (for ``icc(..., missing="reml")``):
    5-59 subjects, 2-7 raters, subject and rater SDs from {0, 0.05, 0.3, 1} (residual 1),
    5%, 20% or 40% of the cells missing; rows and columns left empty are dropped."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    k = int(rng.integers(2, 8))
    ss, sr = rng.choice([0, 0.05, 0.3, 1.0]), rng.choice([0, 0.05, 0.3, 1.0])
    x = rng.normal(size=(n, 1)) * ss + rng.normal(size=(1, k)) * sr + rng.normal(size=(n, k))
    x[rng.random((n, k)) < rng.choice([0.05, 0.2, 0.4])] = np.nan
    x = x[(~np.isnan(x)).sum(axis=1) >= 1]
    return x[:, (~np.isnan(x)).sum(axis=0) >= 1]


#: seeds of the crossed id x time x items designs (``crossed_data``)
CROSSED_SEEDS = tuple(range(16))


def crossed_data(seed: int) -> pd.DataFrame:
    """Long data ``id, time, items, values`` of the crossed model of multilevel reliability:
    6-30 persons x 2-5 times x 3-6 items, each of the six random terms with SD 0, 0.05, 0.3 or
    1 (residual 1), 0%, 5% or 20% of the cells missing."""
    rng = np.random.default_rng(seed)
    P, T, J = int(rng.integers(6, 31)), int(rng.integers(2, 6)), int(rng.integers(3, 7))
    sd = rng.choice([0.0, 0.05, 0.3, 1.0], size=6)
    p, t, j = (a.ravel() for a in np.meshgrid(np.arange(P), np.arange(T), np.arange(J),
                                               indexing="ij"))
    y = (sd[0] * rng.normal(size=P)[p] + sd[1] * rng.normal(size=T)[t]
         + sd[2] * rng.normal(size=J)[j] + sd[3] * rng.normal(size=(P, T))[p, t]
         + sd[4] * rng.normal(size=(P, J))[p, j] + sd[5] * rng.normal(size=(T, J))[t, j]
         + rng.normal(size=p.size))
    keep = rng.random(p.size) >= rng.choice([0.0, 0.05, 0.2])
    return pd.DataFrame({"id": p[keep] + 1, "time": t[keep] + 1, "items": j[keep] + 1,
                         "values": y[keep]})


def designs() -> list[dict]:
    return json.loads(DESIGNS.read_text())["designs"]


def main(argv: list[str]) -> None:
    if argv[:1] == ["designs"]:
        DESIGNS.write_text(json.dumps({"master_seed": 19, "generator": "numpy PCG64 "
                                       "(numpy.random.default_rng)", "designs": draw_designs()},
                                      indent=1) + "\n")
    elif argv[:1] == ["write"] and len(argv) == 2:
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        for des in designs():
            make_data(des).to_csv(out / f"design_{des['design']:03d}.csv", index=False,
                                  float_format="%.17g", na_rep="NA")
    elif argv[:1] == ["write-study"] and len(argv) == 2:
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        for case in STUDY_CASES:
            simulated_study(case).to_csv(out / f"{case}.csv", index=False, float_format="%.17g",
                                         na_rep="NA")
    elif argv[:1] == ["write-icc"] and len(argv) == 2:
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        for seed in ICC_SEEDS:
            x = icc_data(seed)
            sub, rat = np.nonzero(~np.isnan(x))
            pd.DataFrame({"subject": sub + 1, "rater": rat + 1, "value": x[sub, rat]}).to_csv(
                out / f"icc_{seed:03d}.csv", index=False, float_format="%.17g")
    elif argv[:1] == ["write-crossed"] and len(argv) == 2:
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        for seed in CROSSED_SEEDS:
            crossed_data(seed).to_csv(out / f"crossed_{seed:03d}.csv", index=False,
                                      float_format="%.17g")
    else:
        raise SystemExit("usage: python tests/lmer_corpus.py designs | write DIR | write-study DIR"
                         " | write-icc DIR | write-crossed DIR")


if __name__ == "__main__":
    main(sys.argv[1:])
