"""Item response theory: item parameters, the test information and standard error curve,
S-X2 item fit and ordinal logistic DIF, per instrument."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import apa
from ..model import Column, Figure, Paragraph, Table
from ._common import label, ordered, section

KEY, TITLE = "irt", "Item Response Theory"

_MODEL = {"graded": "graded response model (Samejima)",
          "gpcm": "generalized partial credit model (Muraki)"}


def params_frame(fit) -> pd.DataFrame:
    """One row per item: ``item, a, se_a, b1..`` (IRT form, delta-method SEs)."""
    tab = fit.to_frame("irt")
    est = tab.pivot(index="item", columns="param", values="est")
    se = tab.pivot(index="item", columns="param", values="se")
    bs = sorted([c for c in est.columns if c.startswith("b")], key=lambda c: int(c[1:]))
    out = pd.DataFrame({"item": list(fit.items)})
    out["a"] = est.loc[list(fit.items), "a"].to_numpy()
    out["se_a"] = se.loc[list(fit.items), "a"].to_numpy()
    for b in bs:
        out[b] = est.loc[list(fit.items), b].to_numpy()
    return out


def _info_figure(b):
    def draw():
        import matplotlib.pyplot as plt

        f = b.information.frame
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        ax.plot(f["theta"], f["test"], "-", color="#1f4e79", label="Test information")
        ax.set_xlabel("\u03b8 (trait level)")
        ax.set_ylabel("Information")
        ax2 = ax.twinx()
        ax2.plot(f["theta"], f["se"], "--", color="#7f7f7f", label="Standard error")
        ax2.set_ylabel("Standard error of \u03b8")
        ax2.spines["right"].set_visible(True)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, frameon=False, fontsize=7, loc="upper center",
                  bbox_to_anchor=(0.5, -0.18), ncol=2)
        fig.tight_layout()
        return fig
    return draw


def build(results):
    if results.get("irt") is None:  # not requested
        return None
    from ..run import _occasion_text

    def blocks(res):
        for k in ordered(results, res):
            b = res[k]
            lab = label(results, k)
            fit = b.fit
            peak = b.information.frame.loc[b.information.frame["test"].idxmax()]
            yield Paragraph(
                f"*{lab}.* A unidimensional {_MODEL.get(fit.model, fit.model)} was fitted by "
                f"full-information marginal maximum likelihood to {_occasion_text(b.occasion)} "
                f"(*n* = {apa.integer(b.n_obs)}; missing responses left out of the "
                f"likelihood). Log-likelihood = {apa.num(fit.loglik)}, AIC = "
                f"{apa.num(fit.aic)}, BIC = {apa.num(fit.bic)}. Test information peaked at "
                f"\u03b8 = {apa.num(peak['theta'])} ({apa.num(peak['test'])}); marginal "
                f"reliability = {apa.bounded(b.information.marginal_reliability)}.")
            if not fit.converged:
                yield Paragraph(f"{lab}: the model did not pass the optimality check "
                                f"({fit.message}); interpret with caution.", kind="warning")
            for part, msg in b.errors.items():
                yield Paragraph(f"{lab}: {part} not computed: {msg}", kind="warning")
            pf = params_frame(fit)
            bcols = [c for c in pf.columns if c.startswith("b")]
            yield Table(f"irt_params_{k}", f"Item Parameters of the {lab} Items", pf,
                        (Column("item", "Item", "text"),
                         Column("a", "a", "num", italic_label=True),
                         Column("se_a", "SE(a)", "num"),
                         *(Column(c, f"b_{{{c[1:]}}}", "num", italic_label=True)
                           for c in bcols)),
                        note="a = discrimination (slope); b_k = threshold of category k or "
                             "above (graded) or of step k (GPCM), on the \u03b8 scale, counting "
                             "each item's categories from its lowest observed response (an "
                             "end category nobody used is not modelled). Standard errors "
                             "from the observed information.")
            yield Figure(f"irt_information_{k}",
                         f"Test Information and Standard Error of the {lab}",
                         _info_figure(b),
                         note="Sum of the item information functions (solid) and the "
                              "standard error of \u03b8, 1/\u221ainformation (dashed).")
            if b.item_fit is not None:
                fr = b.item_fit.frame
                yield Table(f"irt_itemfit_{k}", f"Item Fit of the {lab} Items (S-X\u00b2)", fr,
                            (Column("item", "Item", "text"),
                             Column("chisq", "S-X\u00b2", "num"),
                             Column("df", "df", "int", italic_label=True),
                             Column("p_value", "p", "p", italic_label=True),
                             Column("rmsea", "RMSEA", "bounded")),
                            note="Orlando and Thissen's S-X\u00b2 (observed and expected "
                                 "category proportions by summed score); "
                                 f"*n* = {apa.integer(int(fr['n_obs'].iloc[0]))} respondents "
                                 "with every item answered.")
            if b.dif is not None:
                fr = b.dif.frame.assign(flagged=np.where(b.dif.frame["flagged"], "yes", "no"))
                yield Table(f"irt_dif_{k}",
                            f"Differential Item Functioning of the {lab} Items by "
                            f"{b.dif_group}", fr,
                            (Column("item", "Item", "text"),
                             Column("chisq_12", "\u03c7\u00b2 uniform", "num"),
                             Column("p_12", "p", "p", italic_label=True),
                             Column("chisq_23", "\u03c7\u00b2 non-uniform", "num"),
                             Column("p_23", "p", "p", italic_label=True),
                             Column("r2_mcfadden_13", "\u0394R\u00b2", "bounded", decimals=3),
                             Column("beta_change", "\u0394\u03b2", "num", decimals=3),
                             Column("flagged", "Flagged", "text")),
                            note="Ordinal logistic regression DIF (lordif): uniform = group "
                                 "effect given \u03b8 (1 df), non-uniform = group by \u03b8 "
                                 "interaction (1 df); \u0394R\u00b2 = change in McFadden's "
                                 "pseudo-R\u00b2 from model 1 to 3; \u0394\u03b2 = relative "
                                 "change of the \u03b8 coefficient. "
                                 + " ".join(b.dif.notes[1:]))

    return section(results, "irt", KEY, TITLE, blocks)
