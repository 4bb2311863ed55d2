"""Measurement invariance: configural, metric, scalar (strict) models compared."""
from __future__ import annotations

import pandas as pd

from .. import apa
from ..model import Column, Paragraph, Table
from ._common import label, section
from .cfa import FIT_NOTE

KEY, TITLE = "invariance", "Measurement Invariance"


def _title(text: str) -> str:
    """APA title case for the grouping phrase (short function words stay lower case)."""
    small = {"and", "of", "or", "the", "a", "an", "in", "on", "by", "for", "to", "vs"}
    words = text.split()
    return " ".join(w if (w in small and k) else w[:1].upper() + w[1:]
                    for k, w in enumerate(words))


def is_ordinal(b) -> bool:
    return "cfi_scaled" in b.result.table.columns


def invariance_frame(b) -> pd.DataFrame:
    t = b.result.table.reset_index()
    if "model" not in t.columns:            # longitudinal results are indexed by level
        t = t.rename(columns={t.columns[0]: "model"})
    if is_ordinal(b):
        # WLSMV: the scaled statistic and indices are the ones to report
        for k in ("cfi", "rmsea", "delta_cfi", "delta_rmsea"):
            t[k] = t[f"{k}_scaled"]
        t["chisq"] = t["chisq_scaled"]
        t["estimator"] = "WLSMV"
    t["model_label"] = [m.capitalize() for m in t["model"]]
    return t


def build(results):
    if results.get("invariance") is None:  # not requested
        return None
    def blocks(b):
        lab = label(results, b.instrument)
        ordinal = is_ordinal(b)
        ns = ", ".join(f"{g}: *n* = {apa.integer(n)}" for g, n in b.n_per_group.items())
        if ordinal:
            longit = not hasattr(b.result, "fits") or "occasions" in b.grouping
            yield Paragraph(
                f"Invariance of the {lab} measurement model across {b.grouping} ({ns}), with "
                "the items treated as ordinal: each level was fitted by WLSMV with the "
                "identification of Wu and Estabrook (2016) and adds equality constraints to "
                "the previous one: thresholds, then loadings, then intercepts (then residual "
                "variances, theta parameterization)."
                + (" The occasions were modelled jointly: a factor per occasion and the "
                   "residuals of each item correlated across occasions." if longit else ""))
        else:
            yield Paragraph(
                f"Invariance of the {lab} measurement model across {b.grouping} ({ns}). Each "
                "level adds equality constraints to the previous one: metric (loadings), "
                "scalar (intercepts), strict (residual variances).")
        if ordinal and b.merged_categories:
            by_item: dict = {}
            for item, c, into in b.merged_categories:
                by_item.setdefault(item, []).append(f"{c:g} into {into:g}")
            yield Paragraph(
                "Categories not observed in every group or occasion were merged with their "
                "neighbour before the analysis (ordinal models need the same categories "
                "everywhere): " + "; ".join(f"{i}: {', '.join(m)}" for i, m in by_item.items())
                + ".")
        if not ordinal and ("time" in b.grouping or "occasion" in b.grouping):
            yield Paragraph("The same patients contribute to several occasions, so the groups "
                            "are not independent; the tests treat them as if they were.",
                            kind="warning")
        t = invariance_frame(b)
        for r in t.itertuples():
            f = b.result.fits[r.model]
            if not f.converged:
                yield Paragraph(f"The {r.model} model did not converge.", kind="warning")
        yield Table(
            "invariance", f"Measurement Invariance of the {lab} Across "
                          f"{_title(b.grouping)}", t,
            (Column("model_label", "Model", "text"), Column("chisq", "\u03c7\u00b2"),
             Column("df", "df", "int", italic_label=True), Column("cfi", "CFI", "bounded"),
             Column("rmsea", "RMSEA", "bounded"), Column("srmr", "SRMR", "bounded"),
             Column("chisq_diff", "\u0394\u03c7\u00b2"),
             Column("df_diff", "\u0394df", "int"),
             Column("p_value", "p", "p", italic_label=True),
             Column("delta_cfi", "\u0394CFI", "bounded", decimals=3),
             Column("delta_rmsea", "\u0394RMSEA", "bounded", decimals=3)),
            note=(FIT_NOTE + " \u03c7\u00b2, CFI and RMSEA are the scaled (WLSMV) versions; "
                  "\u0394 = change against the previous model; p of the scaled-shifted "
                  "\u03c7\u00b2 difference test (Satorra, 2000; lavaan::lavTestLRT). A drop in CFI "
                  "of more than .010 (Cheung & Rensvold, 2002) suggests non-invariance.")
            if ordinal else
            FIT_NOTE + " \u0394 = change against the previous model; p of the "
                 "\u03c7\u00b2 difference test (lavaan::lavTestLRT). A drop in CFI of more than "
                 ".010 (Cheung & Rensvold, 2002) suggests non-invariance.")

    return section(results, "invariance", KEY, TITLE, blocks)
