"""Bad input for several grouping factors (issue 23): ambiguous nesting, a grouping factor with one
level, more random effects than the data identify, a therapist with one patient."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import DataQualityWarning, ModelSpecificationError, SingularFitWarning
from psychometrics.multilevel import mixed

DATA = Path(__file__).resolve().parents[1] / "data"
REF = json.loads((DATA / "r_results" / "multilevel" / "nested_crossed.json").read_text())
THERAPY = pd.DataFrame(REF["data"]["therapy"])


def _unique_ids():
    d = THERAPY.copy()
    d["pid"] = d["therapist"] + "_" + d["patient"].astype(str)
    return d


def test_patient_id_reused_under_two_therapists_is_named():
    d = _unique_ids()
    d.loc[d["pid"] == "T02_3", "pid"] = "T01_3"       # one id reused under a second therapist
    with pytest.warns(DataQualityWarning) as rec:
        fit = mixed("y ~ x + (1 | therapist) + (1 | pid)", d)
    msg = " ".join(str(w.message) for w in rec)
    assert "Ambiguous nesting" in msg
    assert "T01_3 (under T01, T02)" in msg
    assert "'(1 | therapist/pid)'" in msg and "unique" in msg
    assert fit.ngroups["pid"] == 71 and fit.converged
    # nesting written explicitly: no ambiguity, the reused id is two patients
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        fit2 = mixed("y ~ x + (1 | therapist/pid)", d)
    assert fit2.ngroups["pid:therapist"] == 72


def test_unique_ids_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        fit = mixed("y ~ x + (1 | therapist) + (1 | pid)", _unique_ids())
    ref = mixed("y ~ x + (1 | therapist/patient)", THERAPY)
    np.testing.assert_allclose(fit.loglik, ref.loglik, rtol=1e-10)


def test_grouping_factor_with_one_level():
    d = _unique_ids().assign(site="A")
    with pytest.raises(ModelSpecificationError, match=r"'site' has a single level \('A'\)"):
        mixed("y ~ x + (1 | pid) + (1 | site)", d)


def test_one_row_per_level_is_refused():
    d = _unique_ids()
    d["row_id"] = np.arange(len(d))
    with pytest.raises(ModelSpecificationError,
                       match=r"'row_id:therapist' has 536 levels for 536 complete rows"):
        mixed("y ~ x + (1 | therapist/row_id)", d)


def test_more_random_effects_than_observations():
    d = _unique_ids()
    d = d[d["month"] < 2]                              # at most 2 rows per patient
    with pytest.raises(ModelSpecificationError,
                       match=r"Too few observations for the random effects of 'pid': \d+ rows <= "
                             r"71 levels x 2 random effect\(s\) \(\(Intercept\), month\).*"
                             r"Levels with fewer than 2 rows: T"):
        mixed("y ~ x + (1 | therapist) + (1 + month | pid)", d)


def test_therapist_with_one_patient_is_named():
    d = _unique_ids()
    d = d[(d["therapist"] != "T05") | (d["patient"] == 2)]
    with pytest.warns(DataQualityWarning, match=r"1 level\(s\) of 'therapist' have a single "
                                                r"'patient': T05"):
        mixed("y ~ x + (1 | therapist/patient)", d)


def test_unknown_grouping_column():
    with pytest.raises(ModelSpecificationError, match="Grouping column 'clinic'"):
        mixed("y ~ x + (1 | clinic/patient)", THERAPY)


def test_missing_rows_counted():
    d = _unique_ids()
    d.loc[[0, 5], "therapist"] = None
    d.loc[7, "x"] = np.nan
    fit = mixed("y ~ x + (1 | therapist/pid)", d)
    assert fit.n_dropped == 3 and fit.nobs == len(d) - 3


def test_glmm_with_several_grouping_factors_unsupported_options():
    # GLMMs with several grouping factors exist now (test_multilevel_glmm_multi.py); prior
    # weights, offsets and quadrature are refused with a clear message
    d = THERAPY.assign(c=(THERAPY["y"] > 20).astype(int), w=2.0)
    with pytest.raises(ModelSpecificationError, match="weights="):
        mixed("c ~ x + (1 | therapist/patient)", d, family="binomial", weights="w")
    with pytest.raises(ModelSpecificationError, match="offset"):
        mixed("c ~ x + offset(w) + (1 | therapist/patient)", d, family="binomial")
    with pytest.raises(ModelSpecificationError, match="nagq"):
        mixed("c ~ x + (1 | therapist/patient)", d, family="binomial", nagq=3)


def test_properly_nested_factors_written_as_crossed_do_not_warn():
    # broods within locations (each brood at one location), written (1 | BROOD) + (1 | LOCATION)
    # as lme4's grouseticks example does: locations with several broods are expected, not a sign
    # of reused ids
    gt = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "datasets" / "grouseticks.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        warnings.filterwarnings("ignore", category=SingularFitWarning)
        fit = mixed("cHEIGHT ~ 1 + (1 | BROOD) + (1 | LOCATION)", gt)
    assert fit.ngroups == {"BROOD": 118, "LOCATION": 63}
