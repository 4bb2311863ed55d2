"""The seam between :func:`psychometrics.sem.fit` and its estimators.

Every estimator of :mod:`psychometrics.sem` is a function ``estimate(spec: FitSpec) ->
result`` in its own module (:mod:`.ml`: ML, MLR, MLM, MLMV, FIML and the least-squares
estimators ULS/GLS/WLS; :mod:`.ordinal`: DWLS/WLSMV/ULS/ULSMV; :mod:`.ordinal_mg`:
multi-group DWLS/WLSMV/ULS/ULSMV; :mod:`.twolevel`: two-level ML/MLR). It receives one
:class:`FitSpec`, a frozen record of the model, the data and every option of ``fit()``, and
returns a result derived from :class:`~.results.SEMResultBase`. ``fit()`` (:mod:`.api`)
checks the options shared by all estimators, builds the spec, picks the estimator in its
registry ``ESTIMATORS`` and returns what it returns.

This module sits below the estimators: it imports nothing of them, so the imports run
one way, ``api -> ml, ordinal, ordinal_mg, twolevel -> estimator, results, ...``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from ..exceptions import ModelSpecificationError
from .results import SEMResultBase

__all__ = ["FitSpec", "Estimator", "reject_unknown", "check_choice"]


@dataclass(frozen=True)
class FitSpec:
    """One fit request, as every estimator receives it (immutable).

    The fields are the arguments of :func:`psychometrics.sem.fit` with its defaults, plus
    ``cluster`` and ``h1`` of :func:`psychometrics.sem.fit_twolevel` and
    ``max_categories`` of :func:`psychometrics.sem.ordinal.fit_ordinal`. ``fit()`` has
    checked the options shared by all estimators; an estimator checks the ones only it
    reads (and raises :class:`~psychometrics.exceptions.ModelSpecificationError` naming
    them).
    """

    model: str
    data: pd.DataFrame | None = None
    group: str | None = None
    group_equal: Any = None
    group_partial: Any = None
    std_lv: bool = False
    orthogonal: bool = False
    meanstructure: bool | None = None
    information: str | None = None
    fixed_x: bool | None = None
    missing: str = "listwise"
    sample_cov: Any = None
    sample_nobs: Any = None
    sample_mean: Any = None
    sample_cov_rescale: bool | None = None
    estimator: str = "ML"
    se: str | None = "standard"
    test: str = "standard"
    likelihood: str = "normal"
    max_iter: int = 1000
    ordered: Any = None
    parameterization: str = "delta"
    int_ov_free: bool = True
    int_lv_free: bool = False
    bootstrap: int = 1000
    seed: Any = None
    n_jobs: int = 1
    boot_ci_type: str = "perc"
    cluster: str | None = None
    h1: str = "em"
    max_categories: int = 20


class Estimator(Protocol):
    """An estimator: one validated :class:`FitSpec` in, one result out."""

    def __call__(self, spec: FitSpec) -> SEMResultBase: ...


def reject_unknown(func: str, unknown: dict, accepted) -> None:
    """Unknown keyword arguments: the package's error, naming the option and the accepted ones."""
    if not unknown:
        return
    import difflib
    msgs = []
    for name in unknown:
        alt = name.replace(".", "_")
        hint = ""
        if alt != name and alt in accepted:
            hint = f" (lavaan's {name!r} is {alt!r} here)"
        else:
            close = difflib.get_close_matches(alt, accepted, n=1, cutoff=0.7)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        msgs.append(f"{name!r}{hint}")
    raise ModelSpecificationError(
        f"{func}() got unknown option(s) {', '.join(msgs)}. Accepted options: "
        f"{', '.join(accepted)}.")


def check_choice(name: str, value, choices) -> None:
    """``value`` must be one of ``choices``; otherwise an error naming the argument."""
    if not isinstance(value, str) or value not in choices:
        raise ModelSpecificationError(
            f"The {name!r} argument must be one of {', '.join(map(repr, choices))}; got "
            f"{value!r}.")
