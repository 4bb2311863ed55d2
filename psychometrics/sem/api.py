"""``fit()``: check the options shared by every estimator, build one
:class:`~.estimator.FitSpec`, and hand it to the estimator registered for the model.

The registry ``ESTIMATORS`` maps the kind of model (continuous indicators, ordinal
indicators in one group or several, two levels) and the ``estimator=`` value to the module
whose ``estimate(spec)`` fits it. The estimators live below this module (:mod:`.ml`,
:mod:`.ordinal`, :mod:`.ordinal_mg`, :mod:`.twolevel`) and never import it.
"""
from __future__ import annotations

import importlib
from dataclasses import replace
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from ..exceptions import ModelSpecificationError
from .estimator import Estimator, FitSpec, check_choice, reject_unknown
from .ml import growth_factors, param_names  # noqa: F401 -- public here before the split
from .partable import threshold_variables
from .results import SEMResult, SEMResultBase
from .syntax import parse_model

__all__ = ["fit", "ESTIMATORS", "estimator_for", "kind_of", "dispatch"]


_FIT_OPTIONS = ("group", "group_equal", "group_partial", "std_lv", "orthogonal", "meanstructure",
                "information", "fixed_x", "missing", "sample_cov", "sample_nobs", "sample_mean",
                "sample_cov_rescale", "estimator", "se", "test", "likelihood", "max_iter",
                "ordered", "parameterization", "int_ov_free", "int_lv_free", "bootstrap",
                "seed", "n_jobs", "boot_ci_type")
_MISSING = ("listwise", "ml", "ml.x", "fiml")


def _modules(names, module):
    return MappingProxyType(dict.fromkeys(names, f"psychometrics.sem.{module}"))


#: kind of model -> {``estimator=`` value: module whose ``estimate(spec)`` fits it}.
#: A new estimator is a module with ``estimate(spec: FitSpec) -> <SEMResultBase subclass>``
#: and one line here (see docs/sem.md, "Adding an estimator").
ESTIMATORS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "continuous": _modules(("ML", "MLR", "MLM", "MLMV", "ULS", "GLS", "WLS"), "ml"),
    "ordinal": _modules(("WLSMV", "DWLS", "ULSMV", "ULS"), "ordinal"),
    "ordinal_mg": _modules(("WLSMV", "DWLS", "ULSMV", "ULS"), "ordinal_mg"),
    "twolevel": _modules(("ML", "MLR"), "twolevel"),
})
_KIND_HINT = {
    "continuous": " (ordinal indicators: pass ordered=, then 'WLSMV', 'DWLS', 'ULSMV' or 'ULS')",
    "ordinal": " with ordered indicators", "ordinal_mg": " with ordered indicators",
    "twolevel": " for two-level models"}


def kind_of(spec: FitSpec) -> str:
    """The kind of model of ``spec``: a key of ``ESTIMATORS``."""
    if spec.cluster is not None:
        return "twolevel"
    o = spec.ordered
    if o is not None and o is not False and not (isinstance(o, (list, tuple)) and len(o) == 0):
        return "ordinal_mg" if spec.group is not None else "ordinal"
    return "continuous"


def estimator_for(kind: str, estimator: str) -> Estimator:
    """The ``estimate`` function registered for ``kind`` and ``estimator`` (any case)."""
    modules = ESTIMATORS[kind]
    if not isinstance(estimator, str) or estimator.upper() not in modules:
        raise ModelSpecificationError(
            f"The 'estimator' argument must be one of {', '.join(map(repr, modules))}"
            f"{_KIND_HINT[kind]}; got {estimator!r}.")
    return importlib.import_module(modules[estimator.upper()]).estimate


def dispatch(spec: FitSpec) -> SEMResultBase:
    """Fit ``spec`` with the estimator registered for its kind and ``estimator``."""
    return estimator_for(kind_of(spec), spec.estimator)(spec)


def _checked(spec: FitSpec) -> FitSpec:
    """The options every estimator shares, checked; thresholds in the syntax make their
    variables ordered; ordinal models default to WLSMV."""
    data = spec.data
    from ..io.itemdata import ItemData, as_frame
    if isinstance(data, (pd.DataFrame, ItemData)):   # an ItemData: its keys and item columns
        data = as_frame(data, "fit")
    check_choice("se", spec.se, ("standard", "none", "bootstrap"))
    check_choice("test", spec.test, ("standard", "bollen.stine"))
    from .bootstrap import CI_TYPES
    check_choice("boot_ci_type", spec.boot_ci_type, CI_TYPES)
    check_choice("likelihood", spec.likelihood, ("normal", "wishart"))
    check_choice("missing", spec.missing, _MISSING)
    # variables with thresholds in the syntax ('x | t1 + t2') are ordered (as lavaan)
    ordered = spec.ordered
    th_vars = threshold_variables(parse_model(spec.model)) if isinstance(spec.model, str) else []
    if th_vars and spec.group is not None:
        raise ModelSpecificationError(
            f"Threshold statements ('{th_vars[0]} | t1 + ...') are supported in single-group "
            f"ordinal models only; remove them (thresholds are free by default) or fit "
            f"without 'group'.")
    if th_vars and ordered is not True:
        given = [] if ordered is None or ordered is False else (
            [ordered] if isinstance(ordered, str) else list(ordered))
        ordered = given + [v for v in th_vars if v not in given]
    spec = replace(spec, data=data, ordered=ordered)
    if kind_of(spec) != "continuous" and str(spec.estimator).upper() == "ML":
        spec = replace(spec, estimator="WLSMV")
    return spec


def fit(model: str, data: pd.DataFrame | None = None, *, group: str | None = None,
        group_equal=None, group_partial=None, std_lv: bool = False, orthogonal: bool = False,
        meanstructure=None,
        information: str | None = None, fixed_x: bool | None = None, missing: str = "listwise",
        sample_cov=None,
        sample_nobs=None, sample_mean=None, sample_cov_rescale: bool | None = None,
        estimator: str = "ML", se: str = "standard", test: str = "standard",
        likelihood: str = "normal", max_iter: int = 1000, ordered=None,
        parameterization: str = "delta", int_ov_free: bool = True, int_lv_free: bool = False,
        bootstrap: int = 1000, seed=None, n_jobs: int = 1, boot_ci_type: str = "perc",
        **unknown) -> SEMResult:
    """Fit a structural equation model by maximum likelihood (lavaan ``sem()``/``cfa()``).

    Parameters
    ----------
    model : str
        lavaan model syntax.
    data : DataFrame, optional
        Raw data (rows with missing values in model variables are dropped).
    group : str, optional
        Column defining groups; order = first appearance in ``data`` (lavaan).
    group_equal : list of str, optional
        ``"loadings", "intercepts", "means", "residuals", "residual.covariances",
        "lv.variances", "lv.covariances", "regressions"``.
    group_partial : list of str, optional
        Parameters exempt from ``group_equal``, e.g. ``["visual =~ x2", "x3 ~ 1"]``.
    std_lv : bool
        Scale latent variables by fixing their variances to 1 (instead of a marker).
    orthogonal : bool
        Uncorrelated latent variables (lavaan ``orthogonal = TRUE``).
    meanstructure : bool, optional
        Default: True with groups or when the syntax has intercepts (lavaan).
    information : {"expected", "observed"}, optional
        Information matrix for standard errors; default "expected" for ML and
        "observed" for MLR (lavaan).
    fixed_x : bool, optional
        Exogenous observed covariates keep their sample moments (lavaan default). With
        ``False`` their variances, covariances (and means) are free parameters. Default
        (None): True, except for the ULS/GLS/WLS estimators, for which lavaan 0.6-14 sets
        ``fixed.x = FALSE`` unless it is given.
    missing : {"listwise", "ml", "ml.x"}
        Default "listwise" drops incomplete rows (lavaan default); "ml" is
        full-information ML (lavaan ``missing = "ml"``): mean structure, observed
        information by default. As lavaan, "ml" with ``fixed_x=True`` drops the rows whose
        exogenous covariates are missing (with a warning naming them); "ml.x" keeps them
        (lavaan ``missing = "ml.x"``: covariate moments from the EM estimates of all rows).
        ``result.cases`` lists every input row and whether it was used.
    sample_cov, sample_nobs, sample_mean
        Moments instead of raw data (``sample_cov`` divisor N - 1, rescaled to N as
        lavaan's ``sample.cov.rescale``; default: rescaled for the normal likelihood, not
        for the Wishart one).
    estimator : {"ML", "MLR", "MLM", "MLMV", "ULS", "GLS", "WLS"}
        MLR: ML estimates with Huber-White (sandwich) standard errors and the
        Yuan-Bentler scaled chi-square with scaled/robust fit measures (raw data needed).
        MLM / MLMV (complete raw data): ML estimates, ``robust.sem`` standard errors and
        the Satorra-Bentler scaled / scaled-and-shifted test (:mod:`.robust_sb`).
        ULS / GLS / WLS (complete data, no fixed.x covariates): least squares
        (:mod:`.ls`), lavaan's standard SEs and test.
    se : {"standard", "bootstrap", "none"}
        Standard errors (lavaan ``se =``); "standard" from the information matrix,
        "bootstrap": the standard deviation of ``bootstrap`` ordinary bootstrap draws
        (see :mod:`.bootstrap`), with bootstrap intervals of type ``boot_ci_type`` in the
        ``ci_lower``/``ci_upper`` columns (other types: ``result.bootstrap_ci()``).
    test : {"standard", "bollen.stine"}
        Model test (lavaan ``test =``); "bollen.stine" adds the Bollen-Stine bootstrap
        p-value (``fit_measures["bollen_stine_pvalue"]``).
    bootstrap : int
        Number of bootstrap draws (lavaan ``bootstrap = 1000``).
    seed : int, optional
        Seed of the bootstrap draws (``numpy.random.default_rng``); the same seed gives
        the same draws, whatever ``n_jobs``.
    n_jobs : int
        Processes for the bootstrap (default 1).
    boot_ci_type : {"perc", "bca.simple", "basic", "norm"}
        lavaan ``parameterEstimates(boot.ci.type =)``; default "perc".
    likelihood : {"normal", "wishart"}
        lavaan ``likelihood``: "normal" (covariance with divisor N, chisq = 2 N fmin) or
        "wishart" (divisor N - 1, chisq = 2 (N - G) fmin, vcov / (N - G); complete data,
        ML only).
    max_iter : int
    ordered : bool or list of str, optional
        Ordinal indicators (lavaan ``ordered =``); ``True`` = all indicators. Then the
        model is fitted by :func:`psychometrics.sem.ordinal.fit_ordinal` (estimator
        "WLSMV" by default, or "DWLS", "ULSMV", "ULS") and an ``OrdinalSEMResult`` is returned. With
        ``group``, by :func:`psychometrics.sem.ordinal_mg.fit_ordinal_mg` (an
        ``OrdinalMGResult``): factor means 0 and variances 1, and the identification of
        Wu & Estabrook (2016) for ``group_equal`` (``"thresholds", "loadings",
        "intercepts", "means", "residuals"`` (theta), ...), as semTools
        ``measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")``; ``std_lv``
        is implied.
    parameterization : {"delta", "theta"}
        Ordinal models only (lavaan ``parameterization =``).
    int_ov_free, int_lv_free : bool
        With a mean structure, free the intercepts of observed variables (default True) /
        the means of latent variables (default False), lavaan ``int.ov.free`` /
        ``int.lv.free``; :func:`growth` sets False / True.

    Returns
    -------
    SEMResult

    Raises
    ------
    ModelSyntaxError, ModelSpecificationError, IdentificationError, NotPositiveDefiniteError
        ModelSpecificationError also for an unknown option (naming the accepted ones).

    Warns
    -----
    ConvergenceWarning, HeywoodCaseWarning, NotPositiveDefiniteWarning, DataQualityWarning
    ModelSpecificationWarning
        Growth-curve syntax (factors whose loadings are all fixed) without the growth
        mean structure: the latent means would not be estimated; use :func:`growth`.

    Notes
    -----
    R: ``lavaan::sem(model, data, group =, group.equal =, group.partial =,
    std.lv =, information =)`` with lavaan 0.6-14 defaults (``cfa()`` is the same).
    """
    reject_unknown("fit", unknown, _FIT_OPTIONS)
    spec = FitSpec(
        model, data, group=group, group_equal=group_equal, group_partial=group_partial,
        std_lv=std_lv, orthogonal=orthogonal, meanstructure=meanstructure,
        information=information, fixed_x=fixed_x, missing=missing, sample_cov=sample_cov,
        sample_nobs=sample_nobs, sample_mean=sample_mean,
        sample_cov_rescale=sample_cov_rescale, estimator=estimator, se=se, test=test,
        likelihood=likelihood, max_iter=max_iter, ordered=ordered,
        parameterization=parameterization, int_ov_free=int_ov_free, int_lv_free=int_lv_free,
        bootstrap=bootstrap, seed=seed, n_jobs=n_jobs, boot_ci_type=boot_ci_type)
    return dispatch(_checked(spec))

