"""The immutable result of :func:`psychometrics.sem.fit`.

:class:`SEMResult` holds tidy tables (``estimates``), the fit measures (a
read-only mapping), sample and implied moments, and the convergence record.
Derived tables (modification indices, standardized solution with SEs,
residual correlations, R squared) are computed on request from the stored
problem and estimates; nothing is mutated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..results import Summary

__all__ = ["SEMResultBase", "SEMResult", "Summary", "sem_summary"]


_SECTIONS = (("=~", "Latent variables"), ("~", "Regressions"), ("~~cov", "Covariances"),
             ("~1", "Intercepts"), ("|", "Thresholds"), ("~~var", "Variances"),
             (":=", "Defined parameters"))


def _fmt(x, width=9, digits=3):
    return f"{x:>{width}.{digits}f}" if np.isfinite(x) else " " * width


def _estimate_sections(est: pd.DataFrame) -> list[str]:
    """lavaan-style blocks: per group, latent variables, regressions, covariances, ..."""
    lines = []
    groups = sorted(g for g in est["group"].unique() if g > 0)
    for g in groups + [0]:
        eg = est[est["group"] == g]
        if eg.empty:
            continue
        if len(groups) > 1 and g > 0:
            lines += ["", f"Group {g}:"]
        for key, title in _SECTIONS:
            if key == "~~cov":
                part = eg[(eg["op"] == "~~") & (eg["lhs"] != eg["rhs"])]
            elif key == "~~var":
                part = eg[(eg["op"] == "~~") & (eg["lhs"] == eg["rhs"])]
            else:
                part = eg[eg["op"] == key]
            if part.empty:
                continue
            lines += ["", f"{title}:",
                      f"{'':<24}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}"
                      f"{'Std.all':>9}"]
            last = None
            for r in part.itertuples(index=False):
                if key in ("=~", "~") and r.lhs != last:
                    lines.append(f"  {r.lhs} {r.op}")
                    last = r.lhs
                if key in ("=~", "~"):
                    name = f"    {r.rhs}"
                elif key == "~~cov":
                    name = f"  {r.lhs} ~~ {r.rhs}"
                elif key == ":=":
                    name = f"  {r.lhs} := {r.rhs}"
                elif key == "|":
                    name = f"  {r.lhs}|{r.rhs}"
                else:
                    name = f"  {r.lhs}"
                if r.label and not (key == ":=" and r.label == r.lhs):
                    name += f" ({r.label})"
                lines.append(f"{name:<24}{_fmt(r.est)}{_fmt(r.se)}{_fmt(r.z)}{_fmt(r.p_value)}"
                             f"{_fmt(r.std_all)}")
    return lines


def _fit_lines(fit) -> str:
    lines = []
    for k, v in fit:
        if k in ("df", "npar"):
            lines.append(f"  {k:<32}{v:>14.0f}")
        elif "pvalue" in k:
            lines.append(f"  {k:<32}{v:>14.4g}")
        else:
            lines.append(f"  {k:<32}{v:>14.3f}")
    return "\n".join(lines)


def sem_summary(title: str, header, fit, estimates: pd.DataFrame, warning: str = "",
                by_level: bool = False) -> Summary:
    """The one :class:`psychometrics.results.Summary` of an SEM fit.

    ``header``: (key, value) pairs; ``fit``: (fit-measure key, value) pairs (lavaan's keys);
    ``estimates``: the parameter table shown. The text keeps lavaan's layout (sections
    Latent variables, Regressions, Covariances, ...); HTML, LaTeX and DOCX show the tables.
    ``by_level``: one block per level (two-level models).
    """
    w = max((len(k) for k, _ in header), default=0)
    head = [f"  {k:<{w}}  {v}" for k, v in header]
    if warning:
        bar = "!" * 78
        head = [bar, warning, bar, ""] + head
    blocks: list[tuple] = [("Model test and fit measures:", dict(fit), _fit_lines(fit))]
    if by_level:
        for lev, name in ((1, "Level 1 [within]"), (2, "Level 2 [between]"),
                          (0, "Defined parameters")):
            df = estimates[estimates["level"] == lev].drop(columns="level")
            if not df.empty:
                blocks.append((f"{name}:", df.reset_index(drop=True),
                               df.to_string(index=False, float_format=lambda x: f"{x:.3f}",
                                            na_rep="")))
    else:
        blocks.append(("Parameter estimates:", estimates.reset_index(drop=True),
                       "\n".join(_estimate_sections(estimates)).lstrip("\n")))
    return Summary(title, tuple(head), tuple(blocks), (warning,) if warning else (), digits=3)


class SEMResultBase:
    """What every estimator of :mod:`psychometrics.sem` returns.

    :class:`SEMResult` (ML, MLR, MLM, MLMV, FIML, ULS/GLS/WLS),
    :class:`~.ordinal.OrdinalSEMResult`, :class:`~.ordinal_mg.OrdinalMGResult` and
    :class:`~.twolevel_results.TwoLevelResult` derive from it. Each is a frozen dataclass
    with the fields

    - ``model`` (the syntax), ``estimates`` (one row per parameter: ``lhs, op, rhs``, ...,
      ``est, se, z, p_value, ci_lower, ci_upper``), ``fit_measures`` (lavaan's keys);
    - ``n_obs`` (an int, or a tuple per group), ``converged``, ``iterations``,
      ``options`` (the options used, lavaan's names), ``warnings``, ``timing``;

    and the methods ``summary()`` (the one :class:`psychometrics.results.Summary`) and
    ``to_frame()`` (a copy of ``estimates``).
    """

    __slots__ = ()

    def to_frame(self) -> pd.DataFrame:
        """The parameter estimates (``estimates``), one row per parameter."""
        return self.estimates.copy()

    def summary(self) -> Summary:   # pragma: no cover - every result defines it
        raise NotImplementedError


@dataclass(frozen=True)
class SEMResult(SEMResultBase):
    """Result of an ML fit of a structural equation model.

    Attributes
    ----------
    estimates : DataFrame
        One row per parameter and group: ``lhs, op, rhs, group, label, est, se, z,
        p_value, ci_lower, ci_upper, std_lv, std_all, free`` (lavaan
        ``parameterEstimates`` + ``standardizedSolution``). Fixed parameters have
        NaN standard errors and ``free == False``.
    fit_measures : Mapping[str, float]
        lavaan ``fitMeasures`` with snake_case keys.
    converged, iterations : bool, int
    sample_cov, implied_cov : dict[group label, DataFrame]
    sample_mean, implied_mean : dict[group label, Series]
    vcov : DataFrame
        Covariance matrix of the free parameters.
    chisq_by_group : tuple of float
        Each group's contribution to the chi-square (lavaan ``test$stat.group``).
    se_reason : str
        Empty when standard errors were computed; otherwise why they are NaN.
    cases : DataFrame or None
        One row per input data row: ``row`` (the ``data.index`` label), ``group`` and
        ``status`` (``"used"`` or why it was dropped: listwise deletion, a missing
        exogenous covariate under ``missing="ml"``, no observed value, no group).
        None when fitted from moments.
    bootstrap, bootstrap_test : BootstrapDraws or None
        The ordinary draws of ``se="bootstrap"`` and the Bollen-Stine draws of
        ``test="bollen.stine"`` (:class:`psychometrics.sem.bootstrap.BootstrapDraws`).
    """

    model: str
    estimates: pd.DataFrame
    fit_measures: Mapping[str, float]
    converged: bool
    iterations: int
    optimizer_message: str
    n_obs: tuple[int, ...]
    group_labels: tuple
    sample_cov: Mapping[Any, pd.DataFrame]
    sample_mean: Mapping[Any, pd.Series]
    implied_cov: Mapping[Any, pd.DataFrame]
    implied_mean: Mapping[Any, pd.Series]
    vcov: pd.DataFrame | None
    options: Mapping[str, Any]
    warnings: tuple[str, ...]
    timing: float
    chisq_by_group: tuple
    se_reason: str
    parameter_table: pd.DataFrame
    cases: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    bootstrap: Any = field(default=None, repr=False, compare=False)
    bootstrap_test: Any = field(default=None, repr=False, compare=False)
    _problem: Any = field(repr=False, compare=False, default=None)
    _theta: np.ndarray = field(repr=False, compare=False, default=None)
    _defs: tuple = field(repr=False, compare=False, default=())

    # ------------------------------------------------------------------ derived tables
    def modification_indices(self, sort: bool = True, minimum_value: float = 0.0,
                             maximum_number: int | None = None) -> pd.DataFrame:
        """lavaan ``modindices(fit)``: ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all, sepc_nox``."""
        from .modindices import modification_indices
        if not self.converged:
            import warnings
            from ..exceptions import ConvergenceWarning
            warnings.warn("The model did not converge; modification indices are not valid.",
                          ConvergenceWarning, stacklevel=2)
        out = modification_indices(self._problem, self._theta, sort=sort,
                                   minimum_value=minimum_value)
        if maximum_number is not None:
            out = out.head(maximum_number).reset_index(drop=True)
        return out

    def bootstrap_ci(self, type: str = "perc", level: float = 0.95) -> pd.DataFrame:  # noqa: A002
        """Bootstrap confidence intervals of every parameter and defined parameter.

        lavaan ``parameterEstimates(fit, boot.ci.type = type, level = level)`` for a fit
        with ``se = "bootstrap"``: ``"perc"`` (percentile), ``"bca.simple"``
        (bias-corrected, no acceleration), ``"basic"``, ``"norm"``.

        Returns the estimates table with ``ci_lower``/``ci_upper`` for that type.

        Raises
        ------
        ModelSpecificationError
            If the model was not fitted with ``se="bootstrap"``, or a bad type/level.
        """
        from ..exceptions import ModelSpecificationError
        from .bootstrap import bootstrap_intervals
        if self.bootstrap is None:
            raise ModelSpecificationError(
                "bootstrap_ci() needs a fit with se='bootstrap' (e.g. sem.fit(model, data, "
                "se='bootstrap', bootstrap=1000, seed=1)).")
        out = self.estimates.copy()
        par = np.asarray(self._problem.par)
        lo, hi = bootstrap_intervals(out, par, self.bootstrap, type, level)
        out["ci_lower"] = lo
        out["ci_upper"] = hi
        return out

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """lavaan ``standardizedSolution(fit, type=)``, with delta-method SEs.

        Columns ``lhs, op, rhs, group, label, est_std, se, z, p_value, ci_lower, ci_upper``.
        """
        from .standardize import standardized_with_se
        if type not in ("std.all", "std.lv"):
            raise ValueError(f"The 'type' argument must be 'std.all' or 'std.lv', got {type!r}.")
        V = None if self.vcov is None else self.vcov.to_numpy()
        est, se = standardized_with_se(self._problem, self._theta, V, self._defs, type)
        base = self.estimates[["lhs", "op", "rhs", "group", "label"]].copy()
        base["est_std"] = est
        se = np.where(np.abs(se) < 1e-15, 0.0, se)
        base["se"] = se
        return _add_inference(base, "est_std")

    def r_squared(self) -> pd.DataFrame:
        """lavaan ``lavInspect(fit, "rsquare")``: ``group, variable, r_squared``."""
        from .standardize import model_sds
        from .estimate import row_values
        prob = self._problem
        values = row_values(prob, self._theta)
        sds = model_sds(prob, values)
        t = prob.pt.table
        names = prob.pt.names
        rows = []
        for g in range(prob.pt.ngroups):
            eta2, ov2 = sds[g]
            tg = t[t["group"] == g + 1]
            resvar = {l: values[i] for i, l, o, r in zip(tg.index, tg["lhs"], tg["op"], tg["rhs"])
                      if o == "~~" and l == r}
            endo_ov = [v for v in names.ov if v in names.ov_ind or v in names.eqs_y]
            lv_ind = {r for o, r in zip(prob.pt.c("op"), prob.pt.c("rhs")) if o == "=~"} & set(names.lv)
            endo_lv = [v for v in names.lv if v in names.eqs_y or v in lv_ind]
            for v in endo_ov:
                rows.append((g + 1, v, 1 - resvar[v] / ov2[v]))
            for v in endo_lv:
                rows.append((g + 1, v, 1 - resvar[v] / eta2[v]))
        return pd.DataFrame(rows, columns=["group", "variable", "r_squared"])

    def residual_correlations(self) -> dict:
        """lavaan ``resid(fit, type = "cor")``: observed minus implied correlations per group."""
        out = {}
        for key in self.sample_cov:
            S = self.sample_cov[key].to_numpy()
            Sig = self.implied_cov[key].to_numpy()
            ds = 1 / np.sqrt(np.diag(S))
            de = 1 / np.sqrt(np.diag(Sig))
            R = S * np.outer(ds, ds) - Sig * np.outer(de, de)
            out[key] = pd.DataFrame(R, index=self.sample_cov[key].index,
                                    columns=self.sample_cov[key].columns)
        return out

    # ------------------------------------------------------------------ summary
    def to_frame(self) -> pd.DataFrame:
        """The parameter estimates (``estimates``), one row per parameter."""
        return self.estimates.copy()

    def summary(self) -> Summary:
        fm = self.fit_measures
        header = [("Estimator", str(self.options.get("estimator", "ML"))),
                  ("Missing data", str(self.options.get("missing", "listwise"))),
                  ("Converged", str(self.converged)),
                  ("Iterations", str(self.iterations)),
                  ("Number of observations", ", ".join(map(str, self.n_obs))),
                  ("Number of model parameters", str(int(fm.get("npar", np.nan))) if fm else "")]
        if self.group_labels:
            header.append(("Groups", ", ".join(map(str, self.group_labels))))
        header.append(("Information", self.options.get("information", "expected")))
        if self.options.get("se") not in (None, "standard"):
            se_txt = str(self.options.get("se"))
            if self.bootstrap is not None:
                se_txt += (f" ({self.bootstrap.n_successful} of {self.bootstrap.n_draws} draws, "
                           f"seed {self.bootstrap.seed}, {self.options.get('boot_ci_type')} "
                           f"intervals)")
            header.append(("Standard errors", se_txt))
        if self.options.get("test") not in (None, "standard"):
            header.append(("Test", str(self.options.get("test"))))
        if self.options.get("likelihood") not in (None, "normal"):
            header.append(("Likelihood", str(self.options.get("likelihood"))))
        keys = ["chisq", "df", "pvalue", "chisq_scaled", "chisq_scaling_factor", "pvalue_scaled",
                "bollen_stine_pvalue",
                "cfi", "tli", "cfi_robust", "tli_robust", "rmsea", "rmsea_ci_lower",
                "rmsea_ci_upper", "rmsea_robust", "srmr", "aic", "bic"]
        fit = tuple((k, float(fm[k])) for k in keys if k in fm)
        warn = ""
        if not self.converged:
            warn = ("WARNING: THE MODEL DID NOT CONVERGE (" + self.optimizer_message + "). "
                    "The estimates below are NOT valid; standard errors are not computed.")
        cols = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "p_value", "std_all"]
        return sem_summary("Structural equation model (lavaan-style summary)", header, fit,
                           self.estimates[cols], warn)

    def __repr__(self) -> str:
        fm = self.fit_measures
        s = f"SEMResult(converged={self.converged}, iterations={self.iterations}"
        if fm:
            s += f", chisq={fm['chisq']:.3f}, df={fm['df']:.0f}, cfi={fm['cfi']:.3f}, rmsea={fm['rmsea']:.3f}"
        return s + ")"


def inference(est, se, level: float = 0.95):
    """z, two-sided p (lavaan: ``2 * (1 - pnorm(abs(z)))``) and Wald CI; NaN where se is 0/NaN."""
    from scipy import special  # lazy: keeps `import psychometrics.sem` light

    est = np.asarray(est, dtype=float)
    se = np.asarray(se, dtype=float)
    ok = (se > 0) & np.isfinite(se)
    z = np.full(est.shape, np.nan)
    z[ok] = est[ok] / se[ok]
    # lavaan's 2 * (1 - pnorm(|z|)) is exactly 0 beyond |z| ~ 8.3; reproduce it
    p = 2 * (1 - special.ndtr(np.abs(z)))
    q = special.ndtri(1 - (1 - level) / 2)
    fin = np.isfinite(se)
    lo = np.where(fin, est - q * se, np.nan)
    hi = np.where(fin, est + q * se, np.nan)
    return z, p, lo, hi


def _add_inference(df: pd.DataFrame, est_col: str, level: float = 0.95) -> pd.DataFrame:
    z, p, lo, hi = inference(df[est_col].to_numpy(dtype=float), df["se"].to_numpy(dtype=float),
                             level)
    df["z"] = z
    df["p_value"] = p
    df["ci_lower"] = lo
    df["ci_upper"] = hi
    return df


def frozen_mapping(d: dict) -> Mapping:
    return MappingProxyType(dict(d))
