"""instruments.forms.add_form: the one writer of short forms into a bank (EFA and IRT)."""
from __future__ import annotations

import pytest

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.instruments import load_instrument, parse_bank
from psychometrics.instruments.forms import add_form


def test_oq_short_form_keeps_its_imputation_rule(tmp_path):
    oq = load_instrument("oq-45.2")
    sid, sd = next((k, s) for k, s in oq.scales.items() if s.items and s.missing is not None
                   and s.missing.rule == "impute_rounded_mean")
    items = list(sd.items[:6])
    text = add_form("oq-45.2", "sd6", items, name="SD six", source="test", note="test")
    inst = parse_bank(text, source="test").with_form("sd6")
    rule = inst.scales[sid].missing
    assert rule.rule == "impute_rounded_mean"
    assert rule.max_missing == min(sd.missing.max_missing, 5)
    assert list(inst.item_ids) == [i for i in oq.item_ids if i in items]


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ModelSpecificationError, match="not items of bank"):
        add_form("wai-sr", "x", ["nope"], name="x", source="s", note="n")
    with pytest.raises(ModelSpecificationError, match="already has a form"):
        add_form("wai-sr", "standard", ["wai_1"], name="x", source="s", note="n")
