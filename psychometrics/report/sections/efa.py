"""Exploratory factor analysis: sampling adequacy, scree plot with parallel
analysis, pattern loadings, factor correlations and fit."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import apa
from ..model import Column, Figure, Paragraph, Table
from ._common import label, ordered, section

KEY, TITLE = "efa", "Exploratory Factor Analysis"

_METHOD = {"minres": "minimum residual", "ml": "maximum likelihood", "pa": "principal axis"}


def _scree(b, lab):
    def draw():
        import matplotlib.pyplot as plt

        t = b.parallel.table
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        x = t["position"].to_numpy()
        ax.plot(x, t["observed_fa"], "o-", color="#1f4e79", label="Observed (factors)")
        ax.plot(x, t["observed_pc"], "s-", color="#7f7f7f", ms=4, label="Observed (components)")
        q = int(round(b.parallel.quantile * 100))
        if t["sim_fa_quantile"].notna().any():
            ax.plot(x, t["sim_fa_quantile"], "--", color="#1f4e79",
                    label=f"Simulated, {q}th percentile (factors)")
        if t["sim_pc_quantile"].notna().any():
            ax.plot(x, t["sim_pc_quantile"], ":", color="#7f7f7f",
                    label=f"Simulated, {q}th percentile (components)")
        ax.axhline(0, color="black", lw=0.5)
        ax.set_xticks(x)
        ax.set_xlabel("Factor / component")
        ax.set_ylabel("Eigenvalue")
        ax.legend(frameon=False, fontsize=7)
        fig.tight_layout()
        return fig
    return draw


def loadings_frame(fit) -> pd.DataFrame:
    df = fit.loadings.copy()
    df.insert(0, "item", [str(i) for i in df.index])
    df["h2"] = fit.communalities.reindex(fit.loadings.index).to_numpy()
    df["u2"] = fit.uniquenesses.reindex(fit.loadings.index).to_numpy()
    return df.reset_index(drop=True)


def build(results):
    if results.get("efa") is None:  # not requested
        return None
    from ..context import occasion_text

    spec = results.study.analyses.efa

    def blocks(res):
        for k in ordered(results, res):
            b = res[k]
            lab = label(results, k)
            fit = b.fit
            parts = [f"*{lab}.* The analysis used {occasion_text(b.occasion)} "
                     f"(*n* = {apa.integer(b.n_obs)})."]
            if b.kmo is not None:
                parts.append(f"Sampling adequacy was KMO = {apa.bounded(b.kmo.msa)}.")
            if b.bartlett is not None:
                bt = b.bartlett
                p = apa.pval(bt.p_value)
                parts.append(f"Bartlett's test: \u03c7\u00b2({apa.num(bt.df, 0)}) = "
                             f"{apa.num(bt.chisq)}, *p* {p if p.startswith('<') else '= ' + p}.")
            pa_n = b.parallel.n_factors
            parts.append(
                f"Parallel analysis ({b.parallel.n_iter} simulated data sets, "
                f"{int(round(b.parallel.quantile * 100))}th percentile) suggested "
                f"{'no definite number of' if pa_n is None else apa.integer(pa_n)} factor"
                f"{'' if pa_n == 1 else 's'}; {apa.integer(b.n_factors)} factor"
                f"{' was' if b.n_factors == 1 else 's were'} extracted (number from "
                f"{b.n_factors_rule}) "
                f"by {_METHOD.get(fit.method, fit.method)}"
                + (f" with {fit.rotation} rotation." if b.n_factors > 1 else "."))
            fs = fit.fit_stats
            if np.isfinite(fs.rmsea):
                parts.append(f"Fit: TLI = {apa.num(fs.tli)}, RMSEA = {apa.bounded(fs.rmsea)} "
                             f"{apa.ci(fs.rmsea_ci_lower, fs.rmsea_ci_upper, is_bounded=True)}, "
                             f"RMSR = {apa.bounded(fs.rms)}.")
            yield Paragraph(" ".join(parts))
            for part, msg in b.errors.items():
                yield Paragraph(f"{lab}: {part} not computed: {msg}", kind="warning")
            if fit.heywood:
                yield Paragraph(f"{lab}: Heywood case (communality at or above 1) for "
                                f"{', '.join(fit.heywood_items)}; the solution is improper.",
                                kind="warning")
            if not fit.converged or not fit.rotation_converged:
                yield Paragraph(f"{lab}: the {'extraction' if not fit.converged else 'rotation'} "
                                "did not converge.", kind="warning")
            yield Figure(f"scree_{k}", f"Scree Plot With Parallel Analysis for the {lab}",
                         _scree(b, lab),
                         note="Observed eigenvalues of the correlation matrix (components) and of "
                              "the reduced matrix (factors) against those of simulated random "
                              "data of the same size.")
            ld = loadings_frame(fit)
            factors = list(fit.loadings.columns)
            yield Table(f"efa_loadings_{k}", f"Factor Loadings of the {lab} Items", ld,
                        (Column("item", "Item", "text"),
                         *(Column(f, f, "bounded") for f in factors),
                         Column("h2", "h\u00b2", "bounded", italic_label=True),
                         Column("u2", "u\u00b2", "bounded", italic_label=True)),
                        note=(f"{'Pattern' if fit.phi is not None else ''} loadings from "
                              f"{_METHOD.get(fit.method, fit.method)} extraction"
                              + (f", {fit.rotation} rotation" if b.n_factors > 1 else "")
                              + " (psych::fa). h\u00b2 = communality; u\u00b2 = uniqueness.")
                        .strip().capitalize())
            if fit.phi is not None and b.n_factors > 1:
                phi = fit.phi.copy()
                phi.insert(0, "factor", [str(i) for i in phi.index])
                phi = phi.reset_index(drop=True)
                yield Table(f"efa_phi_{k}", f"Factor Correlations of the {lab}", phi,
                            (Column("factor", "Factor", "text"),
                             *(Column(f, f, "bounded") for f in factors)))

    return section(results, "efa", KEY, TITLE, blocks)
