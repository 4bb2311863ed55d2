"""One result protocol: every public result has ``summary()`` returning the one
:class:`psychometrics.results.Summary` and ``to_frame()`` returning a DataFrame.

The public result classes are found by walking the ``__all__`` of every subpackage; a
dataclass found there is either a result (built in ``result_zoo`` and checked by calling
both methods, or listed in ``BUILT_ELSEWHERE`` and checked for both methods) or a
specification/parameter class listed in ``NOT_RESULTS``. A new class that is neither fails.
"""
from __future__ import annotations

import dataclasses
import importlib

import pandas as pd
import pytest

from psychometrics.results import Summary
from result_zoo import BUILDERS, zoo

SUBPACKAGES = ("instruments", "io", "scoring", "reliability", "efa", "sem", "multilevel", "irt",
               "validity", "simulate", "power", "tracking", "report")

# results that need a database, a design grid or a fitted IRT model to build; their
# summary()/to_frame() are exercised in tests/irt, tests/power and tests/tracking
BUILT_ELSEWHERE = {"IRTShortForm", "Information", "LocalDependence", "PersonScores",
                   "SumScoreTable", "PowerResult", "ExpectedModel", "IngestResult",
                   "SignalsResult", "BifactorResult", "ThreeLevelProgressResult",
                   "ThreeLevelStatsByResult"}
# specifications, parameters and rows: not results
NOT_RESULTS = {"CheckedColumn", "FactorAnalysis", "FitStatistics", "Rotation", "ShortFormRule",
               "SimulationParams", "SimulationTruth", "DesignParams", "BuiltReport",
               "ItemData"}


def public_dataclasses() -> dict[str, type]:
    out = {}
    for sub in SUBPACKAGES:
        mod = importlib.import_module(f"psychometrics.{sub}")
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj is not Summary:
                out[name] = obj
    return out


def test_every_public_dataclass_is_classified():
    found = public_dataclasses()
    unknown = sorted(set(found) - set(BUILDERS) - BUILT_ELSEWHERE - NOT_RESULTS)
    assert not unknown, (f"{unknown}: add a builder to tests/conventions/result_zoo.py (a "
                         "result) or list it in NOT_RESULTS (a specification)")
    stale = sorted((BUILT_ELSEWHERE | NOT_RESULTS) - set(found))
    assert not stale, f"{stale} are no longer public; remove them from the lists"


@pytest.mark.parametrize("name", sorted(BUILT_ELSEWHERE))
def test_results_built_elsewhere_have_both_methods(name):
    cls = public_dataclasses()[name]
    assert callable(getattr(cls, "summary", None)) and callable(getattr(cls, "to_frame", None))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_summary_and_to_frame(name):
    res = zoo(name)
    s = res.summary()
    assert type(s) is Summary, f"{name}.summary() returns {type(s).__name__}"
    text = s.as_text()
    assert text.splitlines()[0] == s.title and str(s) == text
    assert s.as_html().startswith("<h3>")
    assert s.as_latex().startswith(r"\paragraph{")
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame.columns) > 0, name
    assert dataclasses.is_dataclass(res), f"{name} is not a dataclass"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(res, dataclasses.fields(res)[0].name, None)


def test_summary_docx_has_every_table():
    pytest.importorskip("docx")
    s = zoo("FactorAnalysisResult").summary()
    doc = s.as_docx()
    n_tables = sum(1 for b in s.blocks if not isinstance(b[1], str))
    assert len(doc.tables) == n_tables
    assert doc.paragraphs[0].text == s.title
