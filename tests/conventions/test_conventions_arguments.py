"""One vocabulary for arguments: every public function of every subpackage is inspected.

The rules are those of docs/conventions.md ("Counts and identifiers", "Options"):
- no synonym of the canonical argument names (``use`` for ``missing``, ``subject`` or
  ``patient`` for ``id``, ``conf_level`` for ``level``, ...);
- ``alpha=`` is a significance level (a float default in (0, 1) or required), never a flag;
- ``level=`` is a confidence level (a float default in (0, 1));
- ``missing=`` defaults to one of the policy values;
- the panel functions take ``data, id, time, columns`` in that order.
"""
from __future__ import annotations

import importlib
import inspect

import pytest

SUBPACKAGES = ("sem", "efa", "reliability", "multilevel", "irt", "validity", "scoring", "io",
               "power", "simulate", "report", "instruments", "tracking", "numerics")

SYNONYMS = {
    "use": "missing", "na_action": "missing", "na_rm": "missing",
    "subject": "id", "patient": "id", "patient_id": "id", "person": "id", "grp": "id",
    "cluster_id": "cluster", "cluster_col": "cluster",
    "conf_level": "level", "ci_level": "level", "confidence": "level",
    "nobs": "n_obs",
}
MISSING_VALUES = {"listwise", "pairwise", "ml", "raise"}
PANEL = ("decompose", "lead", "lag", "check_panel")


def public_functions():
    out = []
    for sub in SUBPACKAGES:
        mod = importlib.import_module(f"psychometrics.{sub}")
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isfunction(obj):
                out.append((f"{sub}.{name}", obj))
    return out


FUNCTIONS = public_functions()


def test_there_are_functions_to_check():
    assert len(FUNCTIONS) > 100


def problems(qualname, func) -> list[str]:
    out = []
    params = inspect.signature(func).parameters
    for p in params.values():
        if p.name in SYNONYMS:
            out.append(f"{qualname}({p.name}=): use {SYNONYMS[p.name]}=")
        d = p.default
        if p.name == "alpha" and d is not inspect.Parameter.empty and not (
                isinstance(d, float) and 0 < d < 1):
            out.append(f"{qualname}(alpha={d!r}): alpha= is a significance level")
        if p.name == "level" and d is not inspect.Parameter.empty and not (
                isinstance(d, float) and 0 < d < 1):
            out.append(f"{qualname}(level={d!r}): level= is a confidence level")
        if p.name == "missing" and d is not inspect.Parameter.empty and d not in MISSING_VALUES:
            out.append(f"{qualname}(missing={d!r}): one of {sorted(MISSING_VALUES)}")
    short = qualname.split(".")[-1]
    if short in PANEL:
        names = [n for n in params if n in ("data", "id", "time", "columns")]
        want = [n for n in ("data", "id", "time", "columns") if n in names]
        if names != want:
            out.append(f"{qualname}: arguments in the order data, id, time, columns; got {names}")
    return out


@pytest.mark.parametrize("qualname,func", FUNCTIONS, ids=[q for q, _ in FUNCTIONS])
def test_argument_names(qualname, func):
    assert not problems(qualname, func)


def test_checker_finds_violations():
    def bad(data, columns, id, time, use="pairwise", alpha=False, level="scalar",
            missing="complete"):
        pass
    found = problems("multilevel.lead", bad)
    assert len(found) == 5, found
