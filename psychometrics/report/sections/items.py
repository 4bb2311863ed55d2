"""Item distributions: per item mean, SD, skew, kurtosis, floor/ceiling, and a
stacked bar chart of the response options."""
from __future__ import annotations

from ..model import Column, Figure, Table
from ._common import label, ordered, section

KEY, TITLE = "items", "Item Distributions"


def _plot(r):
    def draw():
        import matplotlib.pyplot as plt
        import numpy as np

        freq = r.frequencies
        items = list(r.summary["item"])
        values = list(range(r.scale_min, r.scale_max + 1))
        fig, ax = plt.subplots(figsize=(6.0, 0.28 * len(items) + 1.2))
        cmap = plt.get_cmap("Blues")
        left = np.zeros(len(items))
        for j, v in enumerate(values):
            props = (freq[freq["value"] == v].set_index("item").reindex(items)["prop"]
                     .to_numpy(dtype=float))
            props = np.nan_to_num(props)
            ax.barh(items, props, left=left, color=cmap(0.25 + 0.7 * j / max(len(values) - 1, 1)),
                    edgecolor="white", linewidth=0.5, label=str(v))
            left += props
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("Proportion of responses")
        ax.legend(title="Response", ncols=len(values), loc="lower center",
                  bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7, title_fontsize=7)
        fig.tight_layout()
        return fig
    return draw


def build(results):
    if results.get("item_distributions") is None:  # not requested
        return None
    spec = results.study.analyses.item_distributions

    def blocks(res):
        for k in ordered(results, res):
            r = res[k]
            lab = label(results, k)
            yield Table(f"items_{k}", f"Item Response Distributions of the {lab}", r.summary,
                        (Column("item", "Item", "text"), Column("n", "n", "int", italic_label=True),
                         Column("mean", "M", italic_label=True),
                         Column("sd", "SD", italic_label=True), Column("skew", "Skew"),
                         Column("kurtosis", "Kurtosis"),
                         Column("prop_missing", "% missing", "percent"),
                         Column("prop_floor", f"% {r.scale_min}", "percent"),
                         Column("prop_ceiling", f"% {r.scale_max}", "percent")),
                        note=f"Responses {r.scale_min}\u2013{r.scale_max}. Kurtosis is excess "
                             f"kurtosis. % {r.scale_min} and % {r.scale_max}: responses at the "
                             "floor and ceiling of the response scale, of the answered items.")
            yield Figure(f"items_{k}", f"Response Distributions of the {lab} Items", _plot(r))

    from ..context import occasion_text
    return section(results, "item_distributions", KEY, TITLE, blocks,
                   intro=f"Item distributions use {occasion_text(spec.occasion)}.")
