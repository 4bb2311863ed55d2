"""Confirmatory factor analysis: fit of each instrument's measurement model and
its standardised loadings."""
from __future__ import annotations

import pandas as pd

from ..model import Column, Paragraph, Table
from ._common import label, ordered, section

KEY, TITLE = "cfa", "Confirmatory Factor Analysis"

FIT_COLUMNS = (
    Column("chisq", "\u03c7\u00b2"), Column("df", "df", "int", italic_label=True),
    Column("pvalue", "p", "p", italic_label=True), Column("cfi", "CFI", "bounded"),
    Column("tli", "TLI"), Column("rmsea", "RMSEA", "bounded"),
    Column("rmsea_ci", "90% CI", "bounded", ci=("rmsea_ci_lower", "rmsea_ci_upper")),
    Column("srmr", "SRMR", "bounded"))
FIT_NOTE = ("CFI = comparative fit index; TLI = Tucker\u2013Lewis index; RMSEA = root mean "
            "square error of approximation with 90% confidence interval; SRMR = standardised "
            "root mean square residual.")
_FIT_KEYS = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
             "srmr", "aic", "bic"]


def fit_frame(results, res) -> pd.DataFrame:
    rows = []
    for k in ordered(results, res):
        b = res[k]
        fm = b.fit.fit_measures
        rows.append({"instrument": label(results, k), "n": b.n_obs,
                     "factors": b.model.count("=~"), **{c: fm[c] for c in _FIT_KEYS},
                     "converged": b.fit.converged})
    return pd.DataFrame(rows)


def loadings_frame(fit) -> pd.DataFrame:
    est = fit.estimates
    ld = est[est["op"] == "=~"].copy()
    return pd.DataFrame({"factor": ld["lhs"].astype(str).to_numpy(),
                         "item": ld["rhs"].astype(str).to_numpy(),
                         "est": ld["est"].to_numpy(), "se": ld["se"].to_numpy(),
                         "std_all": ld["std_all"].to_numpy(), "p_value": ld["p_value"].to_numpy()})


def factor_corr_frame(fit) -> pd.DataFrame:
    """Factor correlations with the delta-method SE and p of the correlation itself
    (lavaan ``standardizedSolution``), not of the marker-scaled covariance, whose Wald test
    depends on which item is the marker."""
    est = fit.estimates
    lvs = list(dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]))
    mask = ((est["op"] == "~~") & est["lhs"].isin(lvs) & est["rhs"].isin(lvs)
            & (est["lhs"] != est["rhs"])).to_numpy()
    cov = est[mask]
    se, p = cov["se"].to_numpy(), cov["p_value"].to_numpy()
    if getattr(fit, "vcov", None) is not None and hasattr(fit, "standardized_solution"):
        std = fit.standardized_solution()
        if len(std) == len(est):
            se, p = std["se"].to_numpy()[mask], std["p_value"].to_numpy()[mask]
    return pd.DataFrame({"lhs": cov["lhs"].astype(str).to_numpy(),
                         "rhs": cov["rhs"].astype(str).to_numpy(),
                         "std_all": cov["std_all"].to_numpy(), "se": se, "p_value": p})


def build(results):
    if results.get("cfa") is None:  # not requested
        return None
    from ..context import occasion_text

    spec = results.study.analyses.cfa

    def blocks(res):
        ff = fit_frame(results, res)
        yield Paragraph(
            "Each instrument's measurement model has one factor per non-overlapping scale of its "
            "bank (composites and totals are sums of these), correlated factors, items loading "
            "only on their scale's factor, maximum likelihood estimation on "
            f"{occasion_text(spec.occasion)}"
            + (" (full-information ML for missing responses)." if spec.missing == "ml"
               else " (complete cases)."))
        for r in ff.itertuples():
            if not r.converged:
                yield Paragraph(f"{r.instrument}: the model did not converge; its fit is not "
                                "interpretable.", kind="warning")
        yield Table("cfa_fit", "Fit of the Confirmatory Factor Models", ff,
                    (Column("instrument", "Instrument", "text"),
                     Column("n", "n", "int", italic_label=True),
                     Column("factors", "Factors", "int"), *FIT_COLUMNS),
                    note=FIT_NOTE)
        for k in ordered(results, res):
            b = res[k]
            inst = results.study.instrument(k)
            ld = loadings_frame(b.fit)
            ld["factor_name"] = [inst.scales[f].name if f in inst.scales else f
                                 for f in ld["factor"]]
            yield Table(f"cfa_loadings_{k}",
                        f"Standardised Factor Loadings of the {label(results, k)}", ld,
                        (Column("item", "Item", "text"), Column("est", "B"),
                         Column("se", "SE", italic_label=True),
                         Column("std_all", "\u03b2", "bounded"),
                         Column("p_value", "p", "p", italic_label=True)),
                        group_by="factor_name",
                        note="B = unstandardised loading (first item of each factor fixed to 1, "
                             "hence no SE); \u03b2 = completely standardised loading.")
            fc = factor_corr_frame(b.fit)
            if len(fc):
                fc["pair"] = [f"{inst.scales[a].name if a in inst.scales else a} \u2013 "
                              f"{inst.scales[c].name if c in inst.scales else c}"
                              for a, c in zip(fc["lhs"], fc["rhs"])]
                yield Table(f"cfa_phi_{k}", f"Factor Correlations of the {label(results, k)}",
                            fc, (Column("pair", "Factors", "text"),
                                 Column("std_all", "r", "bounded", italic_label=True),
                                 Column("p_value", "p", "p", italic_label=True)),
                            note="p of the standardised correlation (delta method; "
                                 "lavaan::standardizedSolution).")

    return section(results, "cfa", KEY, TITLE, blocks)
