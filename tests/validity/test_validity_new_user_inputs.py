"""What a new user met trying the validity functions: summaries that print, warnings and
errors that name the scale, item, value or patient the user wrote, and a CFA whose factors
point the way the scales are scored."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychometrics import validity
from psychometrics.exceptions import (DataIssue, DataQualityWarning, DataValidationError,
                                      HeywoodCaseWarning, ModelSpecificationError)

ROOT = Path(__file__).resolve().parents[2]
WAI = [f"wai_{i}" for i in range(1, 13)]
BOND = ["wai_3", "wai_5", "wai_7", "wai_9"]


@pytest.fixture(scope="module")
def bfi():
    return pd.read_csv(ROOT / "tests" / "data" / "datasets" / "bfi.csv")


@pytest.fixture(scope="module")
def therapy():
    return pd.read_csv(ROOT / "examples" / "therapy_example.csv")


def test_unidim_summary_prints(bfi):
    res = validity.unidim(bfi, {"agree": ["-A1", "A2", "A3", "A4", "A5"],
                                "neuro": ["N1", "N2", "N3", "N4", "N5"]})
    text = res.summary().as_text()
    assert text.startswith("Unidimensionality (psych::unidim)")
    assert re.search(r"^agree\s+0\.\d{4}", text, re.M) and re.search(r"^neuro\s+0\.\d{4}", text, re.M)


def test_reliability_table_warnings_name_scale_and_item(bfi):
    # openness: psych's minres start is a local optimum and O5 reaches the uniqueness bound
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validity.reliability_table({"open": ["O1", "O2", "O3", "O4", "-O5"]}, bfi)
    heywood = [str(w.message) for w in caught if issubclass(w.category, HeywoodCaseWarning)]
    assert heywood and all(m.startswith("Scale 'open': ") for m in heywood)
    assert any("O5" in m for m in heywood)
    assert not any(re.search(r"\bV\d+\b", str(w.message)) for w in caught)
    # the warnings point at the caller's line, not at the package
    assert all(Path(w.filename).name == Path(__file__).name for w in caught)


def test_column_issue_reads_once():
    msg = str(DataIssue(row="-", column="A1", value=None, problem="0 observed response(s)"))
    assert msg == "column 'A1': 0 observed response(s)"
    assert str(DataIssue(row=None, column="x", value=3, problem="p")) == "column 'x', value 3: p"
    assert str(DataIssue(row=1, column="x", value=3, problem="p")) == "data row 1, column 'x', value 3: p"


def test_retest_text_labels_and_duplicates_are_named(therapy):
    lab = therapy.copy()
    lab["wai_3"] = lab["wai_3"].map(lambda v: "often" if v == 4 else v)
    with pytest.raises(DataValidationError, match=r"Item column 'wai_3' is not numeric: it holds "
                                                  r"'often' \(first at data row \d+\)"):
        validity.retest_analysis(lab, WAI, id="patient_id", time="month", occasions=(1, 2))
    txt = therapy.copy()
    txt["wai_3"] = txt["wai_3"].astype(str)
    with pytest.raises(DataValidationError, match="'wai_3' holds numbers stored as text"):
        validity.retest_analysis(txt, WAI, id="patient_id", time="month", occasions=(1, 2))
    dup = pd.concat([therapy, therapy.iloc[:1]])
    with pytest.raises(DataValidationError,
                       match=r"^Patient 1 has more than one row at month = 1; keep one"):
        validity.retest_analysis(dup, WAI, id="patient_id", time="month", occasions=(1, 2))
    with pytest.raises(DataValidationError,
                       match=r"^Patient 1 has more than one row at month = 1; keep one"):
        validity.longitudinal_invariance({"bond": BOND}, dup, id="patient_id", time="month",
                                         occasions=[1, 2])
    with pytest.raises(DataValidationError, match=r"^Only 1 patient\(s\) have both occasions"):
        validity.retest_analysis(therapy[therapy.patient_id == 1], WAI, id="patient_id",
                                 time="month", occasions=(1, 2))


def test_longitudinal_invariance_inputs_and_listwise_count(therapy):
    with pytest.raises(ModelSpecificationError, match=r"factors= must be a dict \{factor: \[items\]\}"):
        validity.longitudinal_invariance(BOND, therapy, id="patient_id", time="month",
                                         occasions=[1, 2])
    with pytest.raises(DataValidationError, match="data= must be a non-empty DataFrame"):
        validity.longitudinal_invariance({"bond": BOND}, therapy.iloc[:0], id="patient_id",
                                         time="month", occasions=[1, 2])
    with pytest.raises(DataValidationError, match=r"Only 1 patient\(s\) have rows at the occasions"):
        validity.longitudinal_invariance({"bond": BOND}, therapy[therapy.patient_id == 1],
                                         id="patient_id", time="month", occasions=[1, 2],
                                         missing="ml")
    lab = therapy.copy()
    lab["wai_5"] = lab["wai_5"].map(lambda v: "never" if v == 1 else v)
    with pytest.raises(DataValidationError, match=r"Item column 'wai_5' is not numeric: it holds 'never'"):
        validity.longitudinal_invariance({"bond": BOND}, lab, id="patient_id", time="month",
                                         occasions=[1, 2])
    # listwise: the patients left out are counted (150 patients, 112 complete at months 1-3)
    wide = therapy[therapy.month.isin([1, 2, 3])].pivot(index="patient_id", columns="month",
                                                        values=BOND)
    n_all, n_complete = len(wide), len(wide.dropna())
    with pytest.warns(DataQualityWarning, match=rf"^{n_all - n_complete} of {n_all} patients miss "
                                                "an occasion or an item"):
        res = validity.longitudinal_invariance({"bond": BOND}, therapy, id="patient_id",
                                               time="month", occasions=[1, 2, 3],
                                               levels=("configural", "metric"))
    assert res.n_obs == n_complete
    assert res.table["npar"].dtype.kind == "i" and res.table["df"].dtype.kind == "i"
    assert list(res.table["df"]) == [int(res.fits[lv].fit_measures["df"]) for lv in res.table.index]


def test_omega_sem_summary_flags_improper_solution():
    hs = pd.read_csv(ROOT / "tests" / "data" / "datasets" / "HolzingerSwineford1939.csv")
    with pytest.warns(HeywoodCaseWarning):
        res = validity.omega_sem(hs[[f"x{i}" for i in range(1, 10)]], n_factors=3)
    est = res.fit.estimates
    x1 = est[(est.op == "~~") & (est.lhs == "x1") & (est.rhs == "x1")]["est"].iloc[0]
    assert x1 < 0
    text = res.summary().as_text()
    assert f"Improper solution: negative residual variance of x1 ({x1:.3f})" in text


def test_cfa_model_marker_is_not_reverse_keyed(therapy):
    from psychometrics import sem
    from psychometrics.instruments import load_instrument
    from psychometrics.sem.instrument_model import cfa_model
    for key in ("oq-45.2", "wai-s"):
        inst = load_instrument(key)
        for line in cfa_model(key).splitlines():
            if "=~" not in line:
                continue
            sid, rhs = (p.strip() for p in line.split("#")[0].split("=~"))
            items = [i.strip() for i in rhs.split("+")]
            assert sorted(items) == sorted(inst.scales[sid].items)
            assert items[0] not in inst.scales[sid].reverse, line
    # OQ-45 interpersonal relations (marker oq_1 is reverse-keyed in the bank): the factor
    # now correlates with symptom distress in the direction of the scored scales
    first = therapy[therapy.month == 1]
    oq = [f"oq_{i}" for i in range(1, 46)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sem.fit(cfa_model("oq-45.2"), first[oq])
    std = res.estimates
    r_fac = std[(std.op == "~~") & (std.lhs == "sd") & (std.rhs == "ir")]["std_all"].iloc[0]
    import psychometrics as pm
    scores = pm.score(first, "oq-45.2", id="patient_id", time="month").scores
    r_obs = scores["sd"].corr(scores["ir"])
    assert np.sign(r_fac) == np.sign(r_obs) == 1.0


def test_retest_never_answered_occasion_and_missing_ids(therapy):
    holes = therapy.copy()
    holes.loc[holes.month == 2, WAI] = np.nan
    with pytest.raises(DataValidationError, match=r"never answered at an occasion .*'wai_1' at "
                                                  r"month = 2"):
        validity.retest_analysis(holes, WAI, id="patient_id", time="month", occasions=(1, 2))
    no_id = therapy.copy()
    no_id.loc[no_id.month == 1, "patient_id"] = np.nan
    n = int((therapy.month == 1).sum())
    with pytest.raises(DataValidationError, match=rf"Column 'patient_id' has {n} missing value\(s\) "
                                                  r"at the occasions \(data row\(s\) 1, "):
        validity.retest_analysis(no_id, WAI, id="patient_id", time="month", occasions=(1, 2))


def test_too_few_items_or_factors_named(bfi):
    with pytest.raises(DataValidationError, match=r"^Scale 'a4' has 4 items, too few for "
                                                  r"n_factors=2 .* Use n_factors=1"):
        validity.reliability_table({"agree": ["A1", "A2", "A3", "A4", "A5"],
                                    "a4": ["A1", "A2", "A3", "A4"]}, bfi)
    with pytest.raises(ModelSpecificationError, match="omega_sem needs n_factors >= 2"):
        validity.omega_sem(bfi[["A1", "A2", "A3", "A4", "A5"]], n_factors=1)
