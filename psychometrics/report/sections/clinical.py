"""Clinical significance: reliable change and clinically significant change
(Jacobson & Truax, 1991) from each patient's first to last score."""
from __future__ import annotations

import pandas as pd

from .. import apa
from ..model import Column, Figure, Paragraph, Table
from ._common import section

KEY, TITLE = "clinical", "Clinical Significance"

_CLASS = {"recovered": "Recovered", "improved": "Improved", "unchanged": "Unchanged",
          "deteriorated": "Deteriorated"}


def _value(x) -> str:
    """A norm value as published: whole numbers without decimals."""
    return apa.num(x, 0) if float(x).is_integer() else apa.num(x)


def classes_frame(b) -> pd.DataFrame:
    s = b.result.class_counts()
    s["class_label"] = [_CLASS.get(c, c) for c in s["class"]]
    return s


def _plot(b):
    def draw():
        import matplotlib.pyplot as plt
        import numpy as np

        r = b.result
        t = r.table[r.table["status"] == "assessed"]
        fig, ax = plt.subplots(figsize=(4.6, 4.4))
        colors = {"recovered": "#2e7d32", "improved": "#81c784", "unchanged": "#9e9e9e",
                  "deteriorated": "#c62828"}
        for cls, g in t.groupby("class", observed=True):
            ax.scatter(g["pre"], g["post"], s=14, color=colors.get(str(cls), "black"),
                       label=_CLASS.get(str(cls), str(cls)), alpha=0.8, linewidths=0)
        lo = float(np.nanmin([t["pre"].min(), t["post"].min()]))
        hi = float(np.nanmax([t["pre"].max(), t["post"].max()]))
        ax.plot([lo - hi, 2 * hi], [lo - hi, 2 * hi], color="black", lw=0.8)
        if r.method == "rci":
            for sign in (-1, 1):
                ax.plot([lo - hi, 2 * hi], [lo - hi + sign * r.threshold,
                                            2 * hi + sign * r.threshold], "--",
                        color="grey", lw=0.8)
        if r.cutoff is not None:
            ax.axhline(r.cutoff, color="#1f4e79", lw=0.8, ls=":")
            ax.axvline(r.cutoff, color="#1f4e79", lw=0.8, ls=":")
        pad = 0.04 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_xlabel(f"{b.label}, first assessment")
        ax.set_ylabel(f"{b.label}, last assessment")
        ax.legend(frameon=False, fontsize=7)
        fig.tight_layout()
        return fig
    return draw


def build(results):
    if results.get("clinical_significance") is None:  # not requested
        return None
    def blocks(b):
        r = b.result
        t = r.table
        n_all = len(t)
        n_ass = int((t["status"] == "assessed").sum())
        rule = (f"a change of at least {_value(r.threshold)} points, the reliable change index "
                f"of the {b.norms}" if r.method == "rci" else
                f"a Jacobson\u2013Truax reliable change index beyond \u00b1{apa.num(r.threshold)}"
                + (f" (*S*diff = {apa.num(r.s_diff)})" if r.s_diff is not None else ""))
        cut = (f"the cut-off of {_value(r.cutoff)} of the {b.norms}" if r.cutoff is not None
               else "no cut-off (so no patient can be classed as recovered)")
        yield Paragraph(
            f"Change in {b.label} from each patient's first to last scored assessment: "
            f"{apa.integer(n_ass)} of {apa.integer(n_all)} patients had two scores. Reliable "
            f"change is {rule}; clinically significant change crosses {cut}. Recovered = "
            "reliably improved and moved from the dysfunctional to the functional range; "
            "improved = other reliable improvement; deteriorated = reliable worsening.")
        cf = classes_frame(b)
        yield Table("clinical_classes", f"Reliable and Clinically Significant Change in "
                                        f"{b.label}", cf,
                    (Column("class_label", "Class", "text"),
                     Column("n", "n", "int", italic_label=True),
                     Column("share", "%", "percent")),
                    note=f"Percentages of the {apa.integer(n_ass)} patients with a first and a "
                         "last score (Jacobson & Truax, 1991).")
        yield Figure("clinical_change", f"First and Last {b.label} of Each Patient", _plot(b),
                     note=("Points below the diagonal improved (higher scores are worse)"
                           if r.higher_is_worse else "Points above the diagonal improved")
                     + ("; dashed lines: reliable change; dotted lines: cut-off." if r.method ==
                        "rci" else "; dotted lines: cut-off."))

    return section(results, "clinical_significance", KEY, TITLE, blocks)
