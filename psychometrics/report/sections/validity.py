"""Convergent and discriminant validity: correlations among the declared scales and the
heterotrait-monotrait ratio among the instruments' factors."""
from __future__ import annotations

import pandas as pd

from .. import apa
from ..model import Column, Paragraph, Table
from ._common import label, section

KEY, TITLE = "validity", "Convergent and Discriminant Validity"


def correlations_frame(b) -> pd.DataFrame:
    t = b.correlations.table.copy()
    t["label1"] = [b.labels.get(v, v) for v in t["var1"]]
    t["label2"] = [b.labels.get(v, v) for v in t["var2"]]
    return t


def htmt_frame(b, results=None) -> pd.DataFrame:
    """The HTMT pairs; ``label1``/``label2`` name each factor as the report names its scale
    (instrument label and scale name) instead of the model's factor id."""
    t = b.htmt.table.copy()
    names = _factor_labels(results, list(b.htmt_items)) if results is not None else {}
    t["label1"] = [names.get(f, f) for f in t["factor1"]]
    t["label2"] = [names.get(f, f) for f in t["factor2"]]
    return t


def _factor_labels(results, factors: list[str]) -> dict[str, str]:
    """Factor ids of the HTMT model (``<instrument key>_<scale id>``, or the scale id when
    one instrument is involved) -> "WAI-SR Task"-style labels."""
    out = {}
    study = results.study
    for key in study.instruments:
        inst = study.instrument(key)
        for sid, sc in inst.scales.items():
            for fid in (f"{key}_{sid}", sid):
                if fid in factors and fid not in out:
                    out[fid] = f"{label(results, key)} {sc.name}"
    return out


def _when(occasion) -> str:
    if occasion == "first":
        return "each patient's first assessment with every listed scale scored"
    if occasion == "last":
        return "each patient's last assessment with every listed scale scored"
    return f"the assessments at time {occasion:g}"


def build(results):
    if results.get("validity") is None:  # not requested
        return None

    def blocks(b):
        yield Paragraph(
            f"Correlations among the scale scores at {_when(b.occasion)} "
            f"(*n* = {apa.integer(b.n_patients)} patients). Convergent validity is supported "
            "by substantial correlations between scales meant to measure related constructs, "
            "discriminant validity by correlations clearly below the scales' reliabilities.")
        t = correlations_frame(b)
        yield Table("validity_correlations", "Correlations Among the Scale Scores", t,
                    (Column("label1", "Scale", "text", repeat=False),
                     Column("label2", "With", "text"),
                     Column("r", "r", "bounded", italic_label=True),
                     Column("ci", "95% CI", "bounded", ci=("ci_lower", "ci_upper")),
                     Column("p_adjusted", "p", "p", italic_label=True),
                     Column("n", "n", "int", italic_label=True)),
                    note="Pearson correlations with 95% confidence intervals (not adjusted for "
                         "multiple testing, so an interval may exclude 0 while the adjusted p "
                         "exceeds .05); p values Holm-adjusted for the number of pairs "
                         "(psych::corr.test).")
        if b.htmt is not None:
            h = htmt_frame(b, results)
            high = h[h["htmt"] > 0.85]
            yield Table("validity_htmt", "Heterotrait-Monotrait Ratios Among the Factors", h,
                        (Column("label1", "Factor", "text", repeat=False),
                         Column("label2", "With", "text"),
                         Column("htmt", "HTMT", "num")),
                        note=("HTMT2 (geometric means of the absolute item correlations; Roemer, "
                              "Schuberth & Henseler, 2021)" if b.htmt.htmt2 else
                              "HTMT (arithmetic means of the absolute item correlations; HTMT2 "
                              "was undefined because two items of a factor correlate exactly 0)")
                             + " among the factors of each instrument's measurement model "
                             f"from the item correlations of these {apa.integer(b.n_patients)} "
                             "patients (each pair of items over the patients who answered both) "
                             "(Henseler, Ringle & Sarstedt, 2015; semTools::htmt). Values "
                             "above .85 (.90 for conceptually close constructs) question "
                             "discriminant validity.")
            if len(high):
                pairs = "; ".join(f"{r.label1} and {r.label2} ({apa.num(r.htmt)})"
                                  for r in high.itertuples())
                yield Paragraph(f"HTMT above .85: {pairs}.", kind="warning")

    return section(results, "validity", KEY, TITLE, blocks)
