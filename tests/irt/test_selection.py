"""Short forms by information, written into the PEAR bank as a new form."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.instruments import load_instrument
from psychometrics.irt import (bank_categories, fit_irt, information, select_items_irt,
                               short_form_to_bank, sum_score_table)

from irt_sim import simulate_grm

PEAR = [f"pear_{k}" for k in range(1, 11)]


@pytest.fixture(scope="module")
def pear_fit():
    a = [2.5, 0.6, 1.8, 0.8, 2.0, 0.7, 1.5, 0.9, 1.2, 0.5]
    b = [loc + np.linspace(-1.6, 1.6, 5) for loc in
         [1.0, 0, -1.0, 0, 0.8, 0, -0.8, 0, 0.4, 0]]
    data, _ = simulate_grm(1500, a, b, seed=4, items=PEAR)
    return fit_irt(data, categories=bank_categories("pear"))


def test_mean_criterion_is_top_mean_information(pear_fit):
    sf = select_items_irt(pear_fit, 4, theta_range=(0, 3))
    tab = sf.table.set_index("item")
    top = tab["mean_information"].sort_values(ascending=False).index[:4]
    assert set(sf.items) == set(top)
    assert tab["selected"].sum() == 4
    assert 0 < sf.information_retained < 1
    # retained share equals the ratio of the test information curves
    assert_allclose(sf.information_retained, sf.curve["short"].mean() / sf.curve["full"].mean())
    assert sf.marginal_reliability_short < sf.marginal_reliability_full


def test_min_criterion_improves_worst_point(pear_fit):
    by_mean = select_items_irt(pear_fit, 3, theta_range=(-2, 2))
    by_min = select_items_irt(pear_fit, 3, theta_range=(-2, 2), criterion="min")
    assert by_min.curve["short"].min() >= by_mean.curve["short"].min() - 1e-12


def test_keep_and_exclude(pear_fit):
    sf = select_items_irt(pear_fit, 3, keep=["pear_10"], exclude=["pear_1"])
    assert "pear_10" in sf.items and "pear_1" not in sf.items
    with pytest.raises(ModelSpecificationError, match="n_items"):
        select_items_irt(pear_fit, 11)
    with pytest.raises(ModelSpecificationError, match="theta_range"):
        select_items_irt(pear_fit, 3, theta_range=(1, 0))


def test_write_form_into_bank_and_score_it(pear_fit, tmp_path):
    sf = select_items_irt(pear_fit, 5, theta_range=(-1, 2))
    out = tmp_path / "pear_irt.yaml"
    short_form_to_bank(sf, "pear", "irt5", output=out)
    inst = load_instrument(out)
    assert "irt5" in inst.forms
    form = inst.with_form("irt5")
    assert set(form.item_ids) == set(sf.items)
    assert inst.forms["irt5"].provenance.verified is False
    # the sum-score table of the new form, read from the bank
    tab = sum_score_table(pear_fit, bank=out, form="irt5").to_frame()
    assert tab["sum_score"].iloc[0] == 5 and tab["sum_score"].iloc[-1] == 30
    same = sum_score_table(pear_fit, list(sf.items)).to_frame()
    assert_allclose(tab["eap"], same["eap"], rtol=0, atol=0)
    assert np.all(np.diff(tab["eap"]) > 0)
    with pytest.raises(ModelSpecificationError, match="already has a form"):
        short_form_to_bank(sf, out, "irt5")
    with pytest.raises(ModelSpecificationError, match="does not overwrite"):
        short_form_to_bank(sf, out, "irt6", output=out)


def test_information_of_form_is_sum_of_items(pear_fit):
    inf = information(pear_fit, items=["pear_1", "pear_3"]).to_frame()
    assert_allclose(inf["test"], inf["pear_1"] + inf["pear_3"], rtol=1e-12)
