"""Measurement invariance: configural, metric, scalar (strict) models compared."""
from __future__ import annotations

import pandas as pd

from .. import apa
from ..model import Column, Paragraph, Table
from ._common import label, section

KEY, TITLE = "invariance", "Measurement Invariance"


def _title(text: str) -> str:
    """APA title case for the grouping phrase (short function words stay lower case)."""
    small = {"and", "of", "or", "the", "a", "an", "in", "on", "by", "for", "to", "vs"}
    words = text.split()
    return " ".join(w if (w in small and k) else w[:1].upper() + w[1:]
                    for k, w in enumerate(words))


def is_ordinal(b) -> bool:
    return "cfi_scaled" in b.result.table.columns


def ordinal_estimator(b) -> str:
    """The estimator of an ordinal invariance sequence ("WLSMV" or "ULSMV", ...)."""
    fits = list(getattr(b.result, "fits", {}).values())
    return str(fits[0].options.get("estimator", "WLSMV")) if fits else "WLSMV"


def invariance_frame(b) -> pd.DataFrame:
    t = b.result.table.reset_index()        # both invariance tables are indexed by model
    if is_ordinal(b):
        # WLSMV / ULSMV: the scaled statistic and indices are the ones to report
        for k in ("cfi", "rmsea", "delta_cfi", "delta_rmsea"):
            t[k] = t[f"{k}_scaled"]
        t["chisq"] = t["chisq_scaled"]
        t["estimator"] = ordinal_estimator(b)
    t["model_label"] = [m.capitalize() for m in t["model"]]
    return t


_CONSTRAINED = {"metric": "metric (loadings)", "scalar": "scalar (intercepts)",
                "strict": "strict (residual variances)"}
INVARIANCE_NOTE = ("CFI = comparative fit index; RMSEA = root mean square error of "
                   "approximation; SRMR = standardised root mean square residual.")


def _levels(b) -> str:
    """The constrained levels that were fitted, in order (configural is the baseline)."""
    fitted = [_CONSTRAINED[m] for m in b.result.fits if m in _CONSTRAINED]
    return ", ".join(fitted or _CONSTRAINED.values())


def build(results):
    if results.get("invariance") is None:  # not requested
        return None
    def blocks(b):
        lab = label(results, b.instrument)
        ordinal = is_ordinal(b)
        if ordinal:
            longit = getattr(b, "longitudinal", False)
            if longit:
                n = b.n_per_group["patients"]
                where = (f"{b.grouping}, tested as one model on the {apa.integer(n)} patients' "
                         "responses at these occasions (a factor per occasion, factors "
                         "correlated across occasions and each item's residuals correlated "
                         "with its own residuals at the other occasions, so the same patients "
                         "are not treated as independent groups)")
            else:
                ns = ", ".join(f"{g}: *n* = {apa.integer(n)}" for g, n in b.n_per_group.items())
                where = f"{b.grouping} ({ns})"
            yield Paragraph(
                f"Invariance of the {lab} measurement model across {where}, with the items "
                f"treated as ordinal: each level was fitted by {ordinal_estimator(b)} with the "
                "identification of "
                "Wu and Estabrook (2016) and adds equality constraints to the previous one: "
                "thresholds, then loadings, then intercepts (then residual variances, theta "
                "parameterization).")
            if b.merged_categories:
                by_item: dict = {}
                for item, c, into in b.merged_categories:
                    by_item.setdefault(item, []).append(f"{c:g} into {into:g}")
                yield Paragraph(
                    "Categories not observed in every group or occasion were merged with their "
                    "neighbour before the analysis (ordinal models need the same categories "
                    "everywhere): "
                    + "; ".join(f"{i}: {', '.join(m)}" for i, m in by_item.items()) + ".")
        elif getattr(b, "longitudinal", False):
            n = b.n_per_group["patients"]
            yield Paragraph(
                f"Invariance of the {lab} measurement model across {b.grouping}, tested as one "
                f"model on the {apa.integer(n)} patients' responses at these occasions: a factor "
                "per occasion, factors correlated across occasions and each item's residuals "
                "correlated with its own residuals at the other occasions (so the same patients "
                "are not treated as independent groups). Each level adds equality constraints "
                f"across occasions to the previous one: {_levels(b)}.")
        else:
            ns = ", ".join(f"{g}: *n* = {apa.integer(n)}" for g, n in b.n_per_group.items())
            yield Paragraph(
                f"Invariance of the {lab} measurement model across {b.grouping} ({ns}). Each "
                f"level adds equality constraints to the previous one: {_levels(b)}.")
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
             Column("p_value_diff", "p", "p", italic_label=True),
             Column("delta_cfi", "\u0394CFI", "bounded", decimals=3),
             Column("delta_rmsea", "\u0394RMSEA", "bounded", decimals=3)),
            note=(INVARIANCE_NOTE + " \u03c7\u00b2, CFI and RMSEA are the scaled "
                  f"({ordinal_estimator(b)}) versions; "
                  "\u0394 = change against the previous model; p of the scaled-shifted "
                  "\u03c7\u00b2 difference test (Satorra, 2000; lavaan::lavTestLRT). A drop in CFI "
                  "of more than .010 (Cheung & Rensvold, 2002) suggests non-invariance.")
            if ordinal else
            INVARIANCE_NOTE + " \u0394 = change against the previous model; p of the "
                 "\u03c7\u00b2 difference test (lavaan::lavTestLRT). A drop in CFI of more than "
                 ".010 (Cheung & Rensvold, 2002) suggests non-invariance.")

    return section(results, "invariance", KEY, TITLE, blocks)
