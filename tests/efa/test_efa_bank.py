"""Writing an EFA short form into an item bank as a new form."""
from __future__ import annotations

import pandas as pd
import pytest

from refdata import dataset
from psychometrics.efa import fa, select_items, short_form_to_bank
from psychometrics.exceptions import ModelSpecificationError
from psychometrics.instruments import load_instrument, parse_bank


@pytest.fixture(scope="module")
def short_form():
    wai = dataset("therapy_sim")[[f"wai_{i}" for i in range(1, 13)]]
    res = fa(wai, n_factors=3, method="minres", rotation="oblimin")
    return select_items(res, items_per_factor=2, min_loading=0.3)


def test_form_is_added_and_validates(short_form, tmp_path):
    out = tmp_path / "wai-sr-short.yaml"
    text = short_form_to_bank(short_form, "wai-sr", "efa_short", output=out)
    assert out.read_text(encoding="utf-8") == text
    inst = parse_bank(text)
    form = inst.forms["efa_short"]
    assert set(form.items) == set(short_form.items)
    assert form.provenance.verified is False
    assert "select_items" in form.provenance.source
    original = load_instrument("wai-sr")
    # the bank's other content is untouched
    assert set(original.forms) | {"efa_short"} == set(inst.forms)
    assert original.scales == inst.scales
    # every kept item-scale has at least one selected item; min_answered fits the form
    for sid in form.scales:
        sc = inst.scales[sid]
        if sc.items:
            k = len(set(sc.items) & set(form.items))
            assert k >= 1
            rule = form.missing.get(sid, sc.missing)
            if rule is not None and rule.rule == "min_answered":
                assert rule.min_answered <= k
    # the new form can be used
    used = inst.with_form("efa_short")
    assert {i.id for i in used.items} == set(short_form.items)


def test_unknown_items_are_named(short_form):
    with pytest.raises(ModelSpecificationError, match="not items of bank 'oq-45.2'"):
        short_form_to_bank(short_form, "oq-45.2", "efa_short")


def test_existing_form_and_overwrite_are_refused(short_form, tmp_path):
    with pytest.raises(ModelSpecificationError, match="already has a form 'standard'"):
        short_form_to_bank(short_form, "wai-sr", "standard")
    src = tmp_path / "bank.yaml"
    from psychometrics.instruments import instrument_paths
    src.write_text(instrument_paths()["wai-sr"].read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ModelSpecificationError, match="does not overwrite"):
        short_form_to_bank(short_form, src, "efa_short", output=src)


def test_bank_without_forms_section_gets_one():
    # the PEAR bank declares no forms: a forms section is appended
    pear = dataset("therapy_sim")[[f"pear_{i}" for i in range(1, 11)]]
    sf = select_items(fa(pear, n_factors=2), items_per_factor=3)
    assert not load_instrument("pear").forms
    inst = parse_bank(short_form_to_bank(sf, "pear", "efa_short"))
    assert list(inst.forms) == ["efa_short"]
    assert set(inst.forms["efa_short"].items) == set(sf.items)
