"""Within- and between-patient progress: effects table, model comparison, the
within-patient deviation against the next assessment's outcome, and patients'
trajectories."""
from __future__ import annotations

import pandas as pd

from .. import apa
from ..model import Column, Figure, Paragraph, Table
from ._common import section

KEY, TITLE = "progress", "Within- and Between-Patient Progress"

_EFFECT = {"within": "Within", "between": "Between", "contextual": "Contextual"}


def effects_frame(b) -> pd.DataFrame:
    e = b.result.effects.copy()
    e["predictor_label"] = [b.labels.get(p, p) for p in e["predictor"]]
    e["effect_label"] = [_EFFECT.get(x, x) for x in e["effect"]]
    e["model_label"] = ["Joint model (all predictors)" if m == "joint"
                        else f"Model of {b.labels.get(m, m)}" for m in e["model"]]
    return e


def comparison_frame(b) -> pd.DataFrame:
    c = b.result.comparison.copy()
    c["model_label"] = ["Baseline (prior outcome only)" if m == "baseline"
                        else "Joint (all predictors)" if m == "joint"
                        else f"+ {b.labels.get(m, m)}" for m in c["model"]]
    return c


def _p_text(p) -> str:
    s = apa.pval(p)
    return f"*p* {s}" if s.startswith("<") else f"*p* = {s}"


def _sentence(b, row) -> str:
    pred, out = b.labels.get(row["predictor"], row["predictor"]), b.labels[b.outcome]
    when = "at the next assessment" if b.result.formulas and "_lead2" not in b.lead_column \
        else "later"
    est = row["estimate"]
    direction = "higher" if est > 0 else "lower"
    ci = apa.ci(row["ci_lower"], row["ci_upper"])
    if row["effect"] == "within":
        return (f"Within patients, when {pred} was one point above the patient's own mean, "
                f"{out} {when} was {apa.num(abs(est))} points {direction} "
                f"(*b* = {apa.num(est)}, 95% CI {ci}, {_p_text(row['p_value'])}).")
    if row["effect"] == "between":
        return (f"Between patients, a patient mean of {pred} one point higher went with "
                f"{out} {when} {apa.num(abs(est))} points {direction} "
                f"(*b* = {apa.num(est)}, 95% CI {ci}, {_p_text(row['p_value'])}).")
    return (f"The contextual effect (between minus within) of {pred} was *b* = {apa.num(est)} "
            f"(95% CI {ci}, {_p_text(row['p_value'])}).")


def _within_plot(b, eff):
    def draw():
        import matplotlib.pyplot as plt
        import numpy as np

        d = b.result.data
        preds = list(b.predictors)
        fig, axes = plt.subplots(1, len(preds), figsize=(3.2 * len(preds) + 0.4, 3.2),
                                 squeeze=False, sharey=True)
        y = d[b.lead_column].to_numpy(dtype=float)
        for ax, p in zip(axes[0], preds):
            x = d[f"{p}_within"].to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            ax.scatter(x[ok], y[ok], s=6, alpha=0.35, color="#1f4e79", linewidths=0)
            row = eff[(eff["model"] == p) & (eff["predictor"] == p) & (eff["effect"] == "within")]
            if len(row) and ok.any():
                slope = float(row["estimate"].iloc[0])
                xs = np.array([np.nanmin(x[ok]), np.nanmax(x[ok])])
                ax.plot(xs, y[ok].mean() + slope * xs, color="#c00000", lw=1.5,
                        label=f"within-patient slope b = {apa.num(slope)}")
                ax.legend(frameon=False, fontsize=7, loc="upper right")
            ax.axvline(0, color="grey", lw=0.5)
            ax.set_xlabel(f"{b.labels.get(p, p)}\n(deviation from patient's mean)")
        axes[0][0].set_ylabel(f"{b.labels[b.outcome]} at next assessment")
        fig.tight_layout()
        return fig
    return draw


def _trajectories(b):
    def draw():
        import matplotlib.pyplot as plt

        d = b.result.data
        ids = list(dict.fromkeys(d[b.id]))[: b.max_patients_plotted]
        cols = [b.outcome, *b.predictors]
        fig, axes = plt.subplots(1, len(cols), figsize=(3.2 * len(cols) + 0.4, 3.2),
                                 squeeze=False)
        cmap = plt.get_cmap("tab20")
        for k, (ax, c) in enumerate(zip(axes[0], cols)):
            for j, pid in enumerate(ids):
                g = d[d[b.id] == pid].sort_values(b.time)
                ax.plot(g[b.time], g[c], lw=0.8, alpha=0.6, color=cmap(j % 20),
                        label="Individual patients" if j == 0 else None)
            mean = d.groupby(b.time)[c].mean()
            ax.plot(mean.index, mean.to_numpy(), lw=2.2, color="black",
                    label="Mean of all patients")
            ax.set_xlabel(b.time.capitalize())
            ax.set_ylabel(b.labels.get(c, c))
            if k == 0:
                ax.legend(frameon=False, fontsize=7, loc="best")
        fig.tight_layout()
        return fig
    return draw


def _observed_method_text(r, out, preds) -> str:
    return (
        f"Linear mixed models of {out} at the next assessment ({apa.integer(r.n_obs)} "
        f"assessments of {apa.integer(r.n_patients)} patients; of the "
        f"{apa.integer(r.n_rows)} assessments, {apa.integer(r.n_lost_end)} were each "
        f"patient's last (end of treatment), {apa.integer(r.n_lost_gap)} were followed by a "
        f"skipped occasion (next assessment more than {r.max_gap:g} time unit(s) later), "
        f"{apa.integer(r.n_lost_missing_next)} had a next assessment without an outcome "
        f"score and {apa.integer(r.n_missing_current)} lacked a current score) on the "
        f"within-patient deviation of {preds} from the patient's own mean and on the "
        "patient's mean (grand-mean centred), controlling for the current outcome, with a "
        "random intercept per patient (REML; Satterthwaite degrees of freedom). Method: "
        "observed centring (patient means computed from the observed assessments).")


def _latent_method_text(r, out, preds) -> str:
    n_next = r.n_lost_end + r.n_lost_gap + r.n_lost_missing_next
    rows = (f"{apa.integer(r.n_obs)} assessments of {apa.integer(r.n_patients)} patients, "
            "by full-information maximum likelihood, so that the "
            f"{apa.integer(n_next)} assessments without a next outcome (each patient's last, "
            "and those before a skipped occasion) still inform the person means")
    return (
        f"Method: latent centring. A two-level structural equation model of {out} at the next "
        f"assessment ({rows}) separated each of {preds} and the current {out} into a latent "
        "person mean and a within-patient deviation from it (Lüdtke et al., 2008). Within "
        f"patients, the next {out} was regressed on the deviations of the predictors and of "
        f"the current {out}; between patients, the person mean of {out} (one latent mean "
        "shared by the current and the next assessment) was regressed on the predictors' "
        "person means. The between-patient effect on the next assessment given the current "
        "one is the person-mean slope times one minus the within-patient autoregression; "
        "tests are Wald z tests (maximum likelihood). The table of observed versus latent "
        "centring shows both estimates.")


_EFFECT3 = {"within": "Within patients", "between_patient": "Between patients (within therapist)",
            "between_cluster": "Between therapists",
            "contextual_patient": "Contextual: between patients minus within",
            "contextual_cluster": "Contextual: between therapists minus between patients"}


def _three_level_blocks(b):
    """The three-level analysis (the study declares a therapist column, ``data.cluster``)."""
    r = b.result
    out = b.labels[b.outcome]
    preds = ", ".join(b.labels.get(p, p) for p in b.predictors)
    yield Paragraph(
        f"Linear mixed models of {out} at the next assessment ({apa.integer(r.n_obs)} "
        f"assessments of {apa.integer(r.n_patients)} patients treated by "
        f"{apa.integer(r.n_clusters)} therapists) on the within-patient deviation of {preds} "
        "from the patient's own mean, the patient's mean centred at their therapist's mean, and "
        "the therapist's mean (grand-mean centred), controlling for the current outcome, with "
        "random intercepts for therapists and for patients within therapists (REML; "
        "Satterthwaite degrees of freedom; Baldwin, Wampold & Imel, 2007). Method: observed "
        "centring at both levels.")
    eff = r.effects.copy()
    eff["predictor_label"] = [b.labels.get(p, p) for p in eff["predictor"]]
    eff["effect_label"] = [_EFFECT3.get(x, x) for x in eff["effect"]]
    eff["model_label"] = ["Joint model (all predictors)" if m == "joint"
                          else f"Model of {b.labels.get(m, m)}" for m in eff["model"]]
    for p in b.predictors:
        sub = eff[(eff["model"] == p) & (eff["predictor"] == p)]
        for _, row in sub.iterrows():
            if row["effect"] in ("within", "between_patient", "between_cluster"):
                yield Paragraph(
                    f"{row['effect_label']}, {b.labels.get(p, p)}: *b* = {apa.num(row['est'])} "
                    f"(95% CI {apa.ci(row['ci_lower'], row['ci_upper'])}, "
                    f"{_p_text(row['p_value'])}).")
    for name, m in r.models.items():
        if getattr(m, "singular", False):
            yield Paragraph(f"The {name} model is singular (a variance component is estimated "
                            "at zero).", kind="warning")
        if not getattr(m, "converged", True):
            yield Paragraph(f"The {name} model did not converge.", kind="warning")
    yield Table(
        "progress_effects", f"Within-Patient, Between-Patient and Between-Therapist Effects on "
                            f"{out} at the Next Assessment", eff,
        (Column("predictor_label", "Predictor", "text", repeat=False),
         Column("effect_label", "Effect", "text"), Column("est", "b", italic_label=True),
         Column("se", "SE", italic_label=True),
         Column("df", "df", "num", decimals=1, italic_label=True),
         Column("t", "t", italic_label=True),
         Column("p_value", "p", "p", italic_label=True),
         Column("ci", "95% CI", ci=("ci_lower", "ci_upper"))),
        group_by="model_label",
        note="Within = effect of a patient's deviation from their own mean; between patients = "
             "effect of the patient's mean relative to their therapist's mean; between "
             "therapists = effect of the therapist's mean.")
    vs = r.variance_shares.copy()
    vs["variable_label"] = [b.labels.get(v, v) for v in vs["variable"]]
    vs["level_label"] = [{"occasion": "Assessment (within patient)",
                          "patient": "Patient (within therapist)"}.get(lv, "Therapist")
                         for lv in vs["level"]]
    yield Table(
        "progress_variance_shares", "Share of the Variance at Each Level", vs,
        (Column("variable_label", "Variable", "text", repeat=False),
         Column("level_label", "Level", "text"), Column("variance", "Variance"),
         Column("share", "Share")),
        note="Variance components of an intercept-only model with random intercepts for "
             "therapists and patients within therapists (REML).")
    comp = comparison_frame(b)
    yield Table(
        "progress_comparison", "Comparison of the Progress Models", comp,
        (Column("model_label", "Model", "text"), Column("npar", "Parameters", "int"),
         Column("aic", "AIC"), Column("bic", "BIC"), Column("loglik", "log L"),
         Column("chisq", "\u03c7\u00b2"), Column("df", "df", "int", italic_label=True),
         Column("p_value", "p", "p", italic_label=True)),
        note="Likelihood-ratio tests of each model against the baseline, models refitted by "
             "maximum likelihood (lme4::anova).")


def build(results):
    if results.get("progress") is None:  # not requested
        return None
    def blocks(b):
        r = b.result
        if hasattr(r, "variance_shares"):       # three levels (study declares a therapist column)
            yield from _three_level_blocks(b)
            return
        eff = effects_frame(b)
        out = b.labels[b.outcome]
        preds = ", ".join(b.labels.get(p, p) for p in b.predictors)
        latent = getattr(r, "method", "observed") == "latent"
        if latent:
            yield Paragraph(_latent_method_text(r, out, preds))
        else:
            yield Paragraph(_observed_method_text(r, out, preds))
        for p in b.predictors:
            sub = eff[(eff["model"] == p) & (eff["predictor"] == p)]
            for _, row in sub.iterrows():
                yield Paragraph(_sentence(b, row))
        for name, m in r.models.items():
            if getattr(m, "singular", False):
                yield Paragraph(f"The {name} model is singular (a variance component is "
                                "estimated at zero).", kind="warning")
            if not getattr(m, "converged", True):
                yield Paragraph(f"The {name} model did not converge.", kind="warning")
        stat_cols = ((Column("t_value", "z", italic_label=True),) if latent else
                     (Column("df", "df", "num", decimals=1, italic_label=True),
                      Column("t_value", "t", italic_label=True)))
        yield Table(
            "progress_effects", f"Within- and Between-Patient Effects on {out} at the Next "
                                "Assessment", eff,
            (Column("predictor_label", "Predictor", "text", repeat=False),
             Column("effect_label", "Effect", "text"), Column("estimate", "b", italic_label=True),
             Column("std_error", "SE", italic_label=True),
             *stat_cols,
             Column("p_value", "p", "p", italic_label=True),
             Column("ci", "95% CI", ci=("ci_lower", "ci_upper")),
             Column("std_estimate", "\u03b2")),
            group_by="model_label",
            note="Within = effect of a patient's deviation from their own mean; between = effect "
                 "of the patient's mean; contextual = between minus within. \u03b2 = effect in "
                 "standard-deviation units of the predictor part and the outcome.")
        comp = comparison_frame(b)
        yield Table(
            "progress_comparison", "Comparison of the Progress Models", comp,
            (Column("model_label", "Model", "text"), Column("npar", "Parameters", "int"),
             Column("aic", "AIC"), Column("bic", "BIC"), Column("loglik", "log L"),
             Column("chisq", "\u03c7\u00b2"), Column("df", "df", "int", italic_label=True),
             Column("p_value", "p", "p", italic_label=True)),
            note=("Likelihood-ratio tests of each two-level model against the same model with the "
                  "predictors' within and between slopes fixed to 0." if latent else
                  "Likelihood-ratio tests of each model against the baseline, models refitted "
                  "by maximum likelihood (lme4::anova)."))
        if latent and r.centring is not None:
            cen = r.centring.copy()
            cen["predictor_label"] = [b.labels.get(p, p) for p in cen["predictor"]]
            cen["effect_label"] = [_EFFECT.get(x, x) for x in cen["effect"]]
            cen["model_label"] = ["Joint model (all predictors)" if m == "joint"
                                  else f"Model of {b.labels.get(m, m)}" for m in cen["model"]]
            yield Table(
                "progress_centring", "Observed Versus Latent Centring of the Patient Means", cen,
                (Column("predictor_label", "Predictor", "text", repeat=False),
                 Column("effect_label", "Effect", "text"),
                 Column("observed_estimate", "b (observed)"),
                 Column("observed_std_error", "SE (observed)"),
                 Column("observed_p_value", "p (observed)", "p"),
                 Column("latent_estimate", "b (latent)"),
                 Column("latent_std_error", "SE (latent)"),
                 Column("latent_p_value", "p (latent)", "p")),
                group_by="model_label",
                note="Observed: mixed model on observed patient means (REML, Satterthwaite df). "
                     "Latent: two-level SEM with latent person means (ML, z tests).")
        yield Figure("progress_within", f"Within-Patient Deviation and {out} at the Next "
                                        "Assessment", _within_plot(b, eff),
                     note="Each point is one assessment. The line has the within-patient slope "
                          "of the model of that predictor, drawn through the mean outcome.")
        n_shown = min(b.max_patients_plotted, r.n_patients)
        yield Figure("progress_trajectories", "Trajectories of Individual Patients",
                     _trajectories(b),
                     note=f"Thin lines: the first {n_shown} patients (by id); thick line: the "
                          "mean of all patients at each assessment.")

    return section(results, "progress", KEY, TITLE, blocks)
