"""One vocabulary: every public result table and result field uses the package's names.

The names are written down in ``docs/conventions.md``. This test builds one small instance
of every public result class (``result_zoo``), collects the column names of each of its
public tables (DataFrame attributes and the table methods listed in ``TABLE_METHODS``) and
the names of its dataclass fields, and fails on a synonym of a canonical name
(``estimate`` for ``est``, ``pvalue`` for ``p_value``, ``nobs`` for ``n_obs``, ...).
lavaan's fit-measure keys (``fit_measures``: ``chisq``, ``pvalue``, ``rmsea_ci_lower``, ...)
are dictionaries, not tables, and keep lavaan's spelling on purpose.
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from result_zoo import BUILDERS, zoo

# synonym -> canonical name (docs/conventions.md)
SYNONYMS = {
    "estimate": "est", "std_error": "se", "stderr": "se",
    "std_err": "se", "t_value": "t", "z_value": "z", "f_value": "f",
    "pvalue": "p_value", "pval": "p_value", "p_val": "p_value",
    "chi_square": "chisq", "chisquare": "chisq", "chi2": "chisq",
    "dof": "df", "num_df": "df1", "den_df": "df2",
    "nobs": "n_obs", "ngroups": "n_groups", "nclusters": "n_clusters",
}
# bounds of an interval are ci_lower / ci_upper (also with a prefix: rmsea_ci_lower)
BOUNDS = {"lower": "ci_lower", "upper": "ci_upper",
          "lwr": "ci_lower", "upr": "ci_upper"}

TABLE_METHODS = ("to_frame", "coef_table", "anova", "fit_table", "item_table", "loadings_long",
                 "coefficients", "standardized_solution", "modification_indices", "r_squared",
                 "confint", "reliability", "trajectory", "scores")


def violations(name) -> list[str]:
    """Synonyms of canonical names inside ``name`` (split at underscores)."""
    if not isinstance(name, str):
        return []
    tokens = name.lower().split("_")
    out = []
    for bad, good in SYNONYMS.items():
        bt = bad.strip("_").split("_")
        for i in range(len(tokens) - len(bt) + 1):
            if tokens[i:i + len(bt)] == bt:
                out.append(f"{name!r}: use {good!r} for {bad.strip('_')!r}")
    for i, t in enumerate(tokens):
        if t in BOUNDS and (i == 0 or tokens[i - 1] != "ci"):
            out.append(f"{name!r}: an interval bound is {BOUNDS[t]!r}")
    return out


def test_violations_finds_synonyms():
    # the checker itself: each of these names must be caught, the canonical ones must pass
    for bad in ("estimate", "std_error", "t_value", "pvalue", "chi_square", "dof", "nobs",
                "ngroups", "lower", "rmsea_lower", "std_estimate", "null_dof", "f_value"):
        assert violations(bad), bad
    for good in ("est", "se", "t", "z", "df", "p_value", "ci_lower", "ci_upper", "chisq",
                 "n_obs", "n_groups", "rmsea_ci_lower", "p_value_diff", "std_all", "df1"):
        assert not violations(good), good


def tables(res) -> dict[str, pd.DataFrame]:
    out = {}
    for name in dir(res):
        if name.startswith("_"):
            continue
        try:
            v = getattr(type(res), name, None)
            if isinstance(v, property) or not callable(v):
                v = getattr(res, name)
            elif name in TABLE_METHODS:
                v = getattr(res, name)()
            else:
                continue
        except TypeError:            # a table method that needs arguments
            continue
        if isinstance(v, pd.DataFrame):
            out[name] = v
    return out


@pytest.mark.parametrize("name", list(BUILDERS))
def test_result_tables_use_canonical_names(name):
    res = zoo(name)
    assert type(res).__name__ == name
    bad = []
    for tname, df in tables(res).items():
        for col in df.columns:
            bad += [f"{name}.{tname}: {v}" for v in violations(col)]
        for ix in df.index.names:
            bad += [f"{name}.{tname} index: {v}" for v in violations(ix)]
    if dataclasses.is_dataclass(res):
        for f in dataclasses.fields(res):
            if not f.name.startswith("_"):
                bad += [f"{name} field: {v}" for v in violations(f.name)]
    assert not bad, "\n".join(bad)
