"""Reliability: alpha and omega with confidence intervals, multilevel
(generalizability) reliability, item-total statistics."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import Column, Paragraph, Table
from ._common import label, ordered, section

KEY, TITLE = "reliability", "Reliability"

_ERR_PART = {"omega": "\u03c9 (Schmid\u2013Leiman)", "omega_cfa": "\u03c9 (CFA)",
             "multilevel": "multilevel reliability"}


def _defined(fit, name: str = "omega") -> dict:
    est = fit.estimates
    row = est[(est["op"] == ":=") & (est["lhs"] == name)].iloc[0]
    return {"est": float(row["est"]), "lower": float(row["ci_lower"]),
            "upper": float(row["ci_upper"])}


def internal_consistency_frame(results, res) -> pd.DataFrame:
    """One row per (instrument, scale) with the coefficients, taken from the results."""
    rows = []
    for k in ordered(results, res):
        b = res[k]
        inst = results.study.instrument(k)
        for _, r in b.internal.table.iterrows():
            sid = r["scale"]
            om = b.omega.get(sid)
            cfa = _defined(b.omega_cfa[sid]) if sid in b.omega_cfa else {}
            rows.append({
                "instrument": label(results, k), "scale": sid,
                "scale_name": inst.scales[sid].name, "n_items": r["n_items"], "n_obs": r["n_obs"],
                "alpha": r["raw_alpha"], "alpha_ci_lower": r["alpha_ci_lower"],
                "alpha_ci_upper": r["alpha_ci_upper"],
                "omega_total": om.omega_total if om is not None else np.nan,
                "omega_h": om.omega_h if om is not None and b.n_factors.get(sid, 1) > 1
                else np.nan,
                "omega_cfa": cfa.get("est", np.nan), "omega_cfa_lower": cfa.get("lower", np.nan),
                "omega_cfa_upper": cfa.get("upper", np.nan),
                "omega_cfa_n": (sum(b.omega_cfa[sid].n_obs) if sid in b.omega_cfa else np.nan),
                "average_r": r["average_r"], "note": r["note"]})
    return pd.DataFrame(rows)


def multilevel_frame(results, res) -> pd.DataFrame:
    rows = []
    for k in ordered(results, res):
        b = res[k]
        inst = results.study.instrument(k)
        for sid, m in b.multilevel.items():
            rows.append({"instrument": label(results, k), "scale": sid,
                         "scale_name": inst.scales[sid].name, "n_persons": m.n_persons,
                         "n_times": m.n_times, "n_items": m.n_items,
                         "RkF": m.RkF, "R1R": m.R1R, "RkR": m.RkR, "Rc": m.Rc,
                         "RkRn": np.nan if m.RkRn is None else m.RkRn,
                         "Rcn": np.nan if m.Rcn is None else m.Rcn,
                         "singular": m.singular, "converged": m.converged})
    return pd.DataFrame(rows)


def build(results):
    if results.get("reliability") is None:  # not requested
        return None
    from ...sem import factor_scales
    from ..context import occasion_text

    spec = results.study.analyses.reliability
    ci = f"{round(spec.ci * 100):d}%"

    def blocks(res):
        errors = []
        for k in ordered(results, res):
            grouped: dict[tuple[str, str], list[str]] = {}
            for part, msg in res[k].errors.items():
                what, sid = part.split(":", 1)
                grouped.setdefault((what, msg), []).append(sid)
            for (what, msg), sids in grouped.items():
                names = ", ".join(results.study.instrument(k).scales[s].name for s in sids)
                errors.append(Paragraph(f"{label(results, k)}: {_ERR_PART.get(what, what)} not "
                                        f"computed ({names}): {msg}", kind="warning"))
        ic = internal_consistency_frame(results, res)
        yield Table(
            "reliability", "Internal Consistency of the Scales", ic,
            (Column("scale_name", "Scale", "text"), Column("n_items", "k", "int", italic_label=True),
             Column("n_obs", "n", "int", italic_label=True),
             Column("alpha", "\u03b1", "bounded"),
             Column("alpha_ci", f"{ci} CI", "bounded", ci=("alpha_ci_lower", "alpha_ci_upper")),
             Column("omega_total", "\u03c9_{t}", "bounded"),
             Column("omega_h", "\u03c9_{h}", "bounded"),
             Column("omega_cfa", "\u03c9 (CFA)", "bounded"),
             Column("omega_cfa_ci", f"{ci} CI", "bounded",
                    ci=("omega_cfa_lower", "omega_cfa_upper")),
             Column("average_r", "Mean r", "bounded")),
            group_by="instrument",
            note=(f"Computed from {occasion_text(spec.occasion)}. *k* = number of items; "
                  f"*n* = patients with at least one answered item. \u03b1 = Cronbach's alpha with "
                  f"Feldt {ci} confidence interval (psych::alpha). \u03c9_{{t}} and \u03c9_{{h}} = "
                  "McDonald's omega total and hierarchical from a Schmid\u2013Leiman solution "
                  "(psych::omega; one factor for a subscale, one group factor per subscale for "
                  "a composite, so \u03c9_{h} is shown for composites only). \u03c9 (CFA) = "
                  "reliability of the keyed sum score from a congeneric confirmatory factor "
                  "model (maximum likelihood; each patient's first assessment with every item "
                  "answered) with a delta-method "
                  f"{ci} confidence interval. Mean r = mean inter-item correlation."))
        notes = [f"{r.instrument} {r.scale_name}: {r.note}." for r in ic.itertuples() if r.note]
        for n in notes:
            yield Paragraph(n, kind="warning")
        yield from errors
        ml = multilevel_frame(results, res)
        if len(ml):
            flags = [f"{r.instrument} {r.scale_name}" for r in ml.itertuples()
                     if r.singular or not r.converged]
            yield Table(
                "reliability_multilevel", "Multilevel (Generalizability) Reliability", ml,
                (Column("scale_name", "Scale", "text"),
                 Column("n_persons", "Patients", "int"), Column("n_times", "Occasions", "int"),
                 Column("n_items", "k", "int", italic_label=True),
                 Column("RkF", "RkF", "bounded"), Column("R1R", "R1R", "bounded"),
                 Column("RkR", "RkR", "bounded"), Column("Rc", "Rc", "bounded"),
                 Column("RkRn", "RkRn", "bounded"), Column("Rcn", "Rcn", "bounded")),
                group_by="instrument",
                note="Variance components of persons, occasions, items and their interactions "
                     "from all assessments (REML; psych::multilevel.reliability). RkF = "
                     "reliability of the average of k items across all fixed occasions "
                     "(between-person); R1R = of one item at a random occasion; RkR = of the "
                     "k-item average at a random occasion; Rc = of change within persons "
                     "(within-person reliability); RkRn and Rcn = the same from the nested "
                     "model (occasions within persons)."
                     + (f" Boundary (singular) or non-converged fits: {', '.join(flags)}."
                        if flags else ""))
        for k in ordered(results, res):
            b = res[k]
            keep = set(factor_scales(results.study.instrument(k)))
            it = b.internal.items
            it = it[it["scale"].isin(keep)].copy()
            if not len(it):
                continue
            inst = results.study.instrument(k)
            it["scale_name"] = [inst.scales[s].name for s in it["scale"]]
            item_col = "item" if "item" in it.columns else it.columns[1]
            it = it.rename(columns={item_col: "item"})
            yield Table(
                f"item_total_{k}", f"Item\u2013Total Statistics of the {label(results, k)}", it,
                (Column("item", "Item", "text"), Column("mean", "M", italic_label=True),
                 Column("sd", "SD", italic_label=True),
                 Column("r_drop", "Corrected item\u2013total r", "bounded"),
                 Column("alpha_if_dropped", "\u03b1 if item deleted", "bounded")),
                group_by="scale_name",
                note="Corrected item\u2013total correlation: correlation of the item with the sum "
                     "of the other items of its scale (psych::alpha r.drop); reverse-keyed "
                     "items reversed.")

    return section(results, "reliability", KEY, TITLE, blocks)
