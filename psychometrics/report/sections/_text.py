"""Methods and results paragraphs drafted from a section's own tables.

Each drafter reads the tables a section already built (from the result objects) and
writes an APA-style *Method* paragraph (what was estimated, how missing data were
handled, the software) and a *Results* paragraph whose every number is a cell of one
of the section's tables, formatted by the same APA rules. They are drafts for an
author to check and edit, and the report says so.
"""
from __future__ import annotations

from typing import Callable

from ..model import Paragraph, Section, Table

_SOFTWARE = ("psychometrics {v} (Python; its numbers are tested against R's psych, lavaan, "
             "lme4 and semTools)")


def _software() -> str:
    from ... import __version__

    return _SOFTWARE.format(v=__version__)


def _table(sec: Section, key: str) -> Table | None:
    return next((t for t in sec.tables if t.key == key), None)


def _cell(t: Table, row, key: str) -> str:
    col = next(c for c in t.columns if c.key == key)
    return col.format(row)


def _p(cell: str) -> str:
    """``p < .001`` or ``p = .032`` from a formatted p cell."""
    return f"*p* {cell}" if cell.startswith("<") else f"*p* = {cell}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return "; ".join(parts[:-1]) + "; and " + parts[-1]


def _ok(*cells: str) -> bool:
    return all(c and c != "\u2014" for c in cells)


def _reliability(results, sec):
    t = _table(sec, "reliability")
    if t is None:
        return None
    ci = next(c for c in t.columns if c.key == "alpha_ci").label.split()[0]
    method = ("Internal consistency of each scale was estimated with Cronbach's \u03b1 (Feldt "
              f"{ci} confidence intervals) and McDonald's \u03c9 from a Schmid\u2013Leiman "
              "solution (\u03c9_{t}, \u03c9_{h}) and from a congeneric confirmatory factor "
              "model estimated by maximum likelihood (\u03c9 with a delta-method interval)")
    if _table(sec, "reliability_multilevel") is not None:
        method += ("; the reliability of scores across repeated assessments was estimated from "
                   "the variance components of patients, occasions and items (REML; "
                   "generalizability theory, as in psych::multilevel.reliability)")
    method += f", with {_software()}."
    parts = []
    for _, row in t.data.iterrows():
        a, c, w = (_cell(t, row, "alpha"), _cell(t, row, "alpha_ci"),
                   _cell(t, row, "omega_total"))
        if not _ok(a):
            continue
        s = f"{row['instrument']} {row['scale_name']}, \u03b1 = {a}"
        if _ok(c):
            s += f", {ci} CI {c}"
        if _ok(w):
            s += f", \u03c9_{{t}} = {w}"
        parts.append(s)
    res = ("Internal consistency by scale: " + _join(parts) + "." if parts else None)
    return method, res


def _cfa(results, sec):
    t = _table(sec, "cfa_fit")
    if t is None:
        return None
    method = ("The factor structure of each instrument was tested by confirmatory factor "
              "analysis (maximum likelihood); fit was judged by the \u03c7\u00b2 test, CFI, TLI, "
              "RMSEA with its 90% confidence interval, and SRMR (Hu & Bentler, 1999), with "
              f"{_software()}.")
    parts = []
    for _, row in t.data.iterrows():
        cells = {k: _cell(t, row, k) for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                                               "rmsea_ci", "srmr", "n")}
        if not _ok(cells["chisq"], cells["df"]):
            continue
        parts.append(f"{row['instrument']} (*n* = {cells['n']}), \u03c7\u00b2({cells['df']}) = "
                     f"{cells['chisq']}, {_p(cells['pvalue'])}, CFI = {cells['cfi']}, TLI = "
                     f"{cells['tli']}, RMSEA = {cells['rmsea']}, 90% CI {cells['rmsea_ci']}, "
                     f"SRMR = {cells['srmr']}")
    return method, ("Model fit: " + _join(parts) + "." if parts else None)


def _descriptives(results, sec):
    t = _table(sec, "descriptives")
    if t is None:
        return None
    method = ("Scale scores are described by their mean, standard deviation, observed and "
              "possible range, skew, excess kurtosis and the share of scores at the floor and "
              "ceiling.")
    parts = [f"{row['label']} {row['scale_name']}, *M* = {_cell(t, row, 'mean')}, *SD* = "
             f"{_cell(t, row, 'sd')} (*n* = {_cell(t, row, 'n')})"
             for _, row in t.data.iterrows() if _ok(_cell(t, row, "mean"))]
    return method, ("Scale means and standard deviations: " + _join(parts) + "."
                    if parts else None)


def _invariance(results, sec):
    t = next((x for x in sec.tables if x.key.startswith("invariance")), None)
    if t is None:
        return None
    longitudinal = any("not treated as independent groups" in getattr(b, "text", "")
                       for b in sec.blocks)
    kind = ("longitudinal confirmatory factor models" if longitudinal
            else "multi-group confirmatory factor models")
    how = ("; each one model over all occasions with a factor per occasion and each item's "
           "residuals correlated across occasions" if longitudinal else "")
    steps = {"configural": "configural", "metric": "equal loadings",
             "scalar": "equal intercepts", "strict": "equal residual variances"}
    fitted = [steps[m] for m in t.data["model"] if m in steps] if "model" in t.data else []
    sequence = ", then ".join(fitted or ["configural", "equal loadings", "equal intercepts"])
    method = (f"Measurement invariance was tested by increasingly constrained {kind} "
              f"({sequence}{how}), compared by likelihood-ratio tests and by the change in CFI (a drop "
              "of more than .010) and RMSEA (a rise of more than .015; Chen, 2007), with "
              f"{_software()}.")
    if "estimator" in t.data.columns and t.data["estimator"].isin(("WLSMV", "ULSMV")).any():
        est = t.data["estimator"].iloc[0]
        method = ("Measurement invariance was tested with the items treated as ordinal, by "
                  f"increasingly constrained {kind} estimated by {est} with the identification "
                  "of Wu and Estabrook (2016): configural, then equal thresholds, loadings and "
                  "intercepts. Consecutive models were compared by scaled-shifted chi-square "
                  "difference tests (Satorra, 2000) and by the change in the scaled CFI (a drop "
                  "of more than .010) and RMSEA (a rise of more than .015; Chen, 2007), with "
                  f"{_software()}.")
    parts = []
    for _, row in t.data.iterrows():
        d = {k: _cell(t, row, k) for k in ("chisq_diff", "df_diff", "p_value_diff", "delta_cfi",
                                           "delta_rmsea")}
        if not _ok(d["chisq_diff"], d["df_diff"]):
            continue
        parts.append(f"{row['model_label']} model, \u0394\u03c7\u00b2({d['df_diff']}) = "
                     f"{d['chisq_diff']}, {_p(d['p_value_diff'])}, \u0394CFI = {d['delta_cfi']}, "
                     f"\u0394RMSEA = {d['delta_rmsea']}")
    return method, ("Each model against the one before it: " + _join(parts) + "."
                    if parts else None)


def _clinical(results, sec):
    t = _table(sec, "clinical_classes")
    if t is None:
        return None
    method = ("Change from each patient's first to last assessment was classified by the "
              "reliable change index and the clinical cut-off of the instrument (Jacobson & "
              "Truax, 1991).")
    parts = [f"{row['class_label'].lower()}, *n* = {_cell(t, row, 'n')} "
             f"({_cell(t, row, 'share')}%)" for _, row in t.data.iterrows()]
    return method, ("Patients were classified as " + _join(parts) + "." if parts else None)


def _progress(results, sec):
    if _table(sec, "progress_effects") is None:
        return None
    return (f"The models were fitted with {_software()}; the sentences below are drafted from "
            "the effects in the table."), None


def _scoring(results, sec):
    t = _table(sec, "scoring_status")
    if t is None:
        return None
    method = ("Scale scores were computed from the item responses with each instrument's "
              "scoring key and missing-data rule (proration from the answered items, or the "
              f"OQ-45 imputation rule), with {_software()}.")
    parts = []
    for _, row in t.data.iterrows():
        c = {k: _cell(t, row, k) for k in ("n", "complete", "prorated", "imputed",
                                           "too_many_missing")}
        parts.append(f"{row['instrument']} {row['scale_name']}, {c['complete']} of {c['n']} "
                     f"complete, {c['prorated']} prorated, {c['imputed']} imputed and "
                     f"{c['too_many_missing']} missing")
    return method, ("Scores by scale: " + _join(parts) + "." if parts else None)


def _efa(results, sec):
    if not any(t.key.startswith("efa_loadings") for t in sec.tables):
        return None
    return ("Exploratory factor analyses were preceded by the Kaiser-Meyer-Olkin measure and "
            "Bartlett's test; the number of factors was guided by parallel analysis (Horn, "
            "1965); loadings, communalities (h\u00b2) and factor correlations are reported, "
            f"with {_software()}; the numbers are in the paragraph and tables below."), None


def _items(results, sec):
    if not any(t.key.startswith("items_") for t in sec.tables):
        return None
    return ("Each item's responses are described by their mean, standard deviation, skew, "
            "excess kurtosis, share missing, and the shares at the floor and ceiling of the "
            "response scale (as psych::describe)."), None


def _validity(results, sec):
    t = _table(sec, "validity_correlations")
    if t is None:
        return None
    method = ("Convergent and discriminant validity were examined by the Pearson correlations "
              "among the scale scores, with 95% confidence intervals and Holm-adjusted p values")
    if _table(sec, "validity_htmt") is not None:
        method += (", and by the heterotrait-monotrait ratio (HTMT2) among the factors of the "
                   "instruments' measurement models (Henseler, Ringle & Sarstedt, 2015)")
    method += f", with {_software()}."
    parts = []
    for _, row in t.data.iterrows():
        r, ci, p = (_cell(t, row, k) for k in ("r", "ci", "p_adjusted"))
        if _ok(r):
            parts.append(f"{row['label1']} with {row['label2']}, *r* = {r}, 95% CI {ci}, {_p(p)}")
    return method, (_join(parts) + "." if parts else None)


DRAFTERS: dict[str, Callable] = {
    "validity": _validity,
    "scoring": _scoring, "efa": _efa, "items": _items,
    "reliability": _reliability, "cfa": _cfa, "descriptives": _descriptives,
    "invariance": _invariance, "clinical": _clinical, "progress": _progress,
}


def with_text(results, sec: Section) -> Section:
    """The section with its drafted Method and Results paragraphs first."""
    from dataclasses import replace

    drafter = DRAFTERS.get(sec.key)
    if drafter is None or sec.error:
        return sec
    drafted = drafter(results, sec)
    if drafted is None:
        return sec
    method, res = drafted
    head = [Paragraph("*Method.* " + method, kind="draft")]
    if res:
        head.append(Paragraph("*Results.* " + res, kind="draft"))
    return replace(sec, blocks=tuple(head) + sec.blocks)
