"""Broken bank files: each gives its own specific error, with place and line."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from psychometrics.exceptions import BankValidationError, InstrumentNotFoundError
from psychometrics.instruments import Instrument, load_instrument, parse_bank

BANKS = Path(__file__).parent / "banks"

# file -> [(location, line, words the message must contain), ...]: every problem
# of the file, in the order reported.
EXPECTED = {
    "misspelled_field": [("scales.a.revers", 21, "unknown field")],
    "item_not_in_bank": [("scales.b.items[1]", 27, "'i9' is not in the bank's items")],
    "reverse_outside_scale": [("scales.a.reverse[0]", 21, "'i3' is not one of this scale's items")],
    "duplicate_item_id": [("items[3].id", 16, "duplicate item id 'i3'"),
                          ("scales.b.items[1]", 27, "'i4' is not in the bank's items")],
    "duplicate_scale_key": [("scales.b", 32, "duplicate key 'b' (first at line 26)")],
    "range_contradicts_scale": [("scales.a.range", 22, "expected [2.0, 10.0]")],
    "malformed_yaml": [("", 21, "malformed YAML")],
    "missing_required": [("version", 2, "required field is missing")],
    "min_answered_too_large": [("scales.a.missing.min_answered", 24,
                                "3 answered items required but the scale has only 2")],
    "cutoff_outside_range": [("norms.test.scales.a.cutoff", 48, "outside the scale's range 2..10")],
    "label_outside_scale": [("response_scale.labels.7", 10, "outside the response scale 1..5")],
    "text_in_number": [("response_scale.max", 9, "valid integer")],
    "form_unknown_scale": [("forms.short.scales[1]", 40, "'c' is not declared")],
    "several_problems": [("response_scale.max", 9, "valid integer"),
                         ("scales.a.revers", 21, "unknown field"),
                         ("scales.b.items[1]", 27, "'i9' is not in the bank's items")],
    "composite_unknown_component": [("scales.total.components[1]", 34, "'z' is not declared")],
    "impute_without_limit": [("scales.b.missing.max_missing", 31, "needs max_missing")],
}


def test_every_broken_file_is_covered():
    files = {p.stem.removeprefix("broken_") for p in BANKS.glob("broken_*.yaml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_bank_gives_its_own_error(name):
    path = BANKS / f"broken_{name}.yaml"
    with pytest.raises(BankValidationError) as info:
        load_instrument(path)
    err = info.value
    assert err.source == str(path)
    got = [(i.location, i.line) for i in err.issues]
    assert got == [(loc, line) for loc, line, _ in EXPECTED[name]]
    for issue, (_, _, words) in zip(err.issues, EXPECTED[name], strict=True):
        assert words in issue.message
        assert words in str(err)  # the message users see lists it too
    assert str(path) in str(err)


def test_valid_minimal_bank_loads_and_forms_restrict_scales():
    inst = load_instrument(BANKS / "valid_minimal.yaml")
    assert inst.scale_items("total") == ("i1", "i2", "i3", "i4")
    assert inst.is_reversed("total", "i2") and not inst.is_reversed("total", "i1")
    short = inst.with_form("short")
    assert short.item_ids == ("i1", "i3")
    assert short.scales["a"].items == ("i1",) and short.scales["a"].reverse == ()
    assert short.scale_range("a") == (1.0, 5.0)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(InstrumentNotFoundError, match="neither a shipped bank .*wai-sr"):
        load_instrument("wai-xx")


def test_unknown_form_is_a_clear_error():
    from psychometrics.exceptions import InstrumentError

    with pytest.raises(InstrumentError, match="no form 'long'; its forms are: standard, two_factor"):
        load_instrument("wai-sr").with_form("long")


def test_programmatic_construction_runs_the_same_checks():
    data = {
        "id": "x", "name": "x", "version": "1", "citation": "c", "licence": "l",
        "response_scale": {"min": 1, "max": 3, "provenance": {"source": "s", "verified": True}},
        "items": [{"id": "a", "source": "s", "verified": True}],
        "scales": {"s": {"name": "S", "items": ["a", "b"], "provenance": {"source": "s", "verified": True},
                         "missing": {"rule": "complete", "provenance": {"source": "s", "verified": True}}}},
    }
    with pytest.raises(ValidationError, match="'b' is not in the bank's items"):
        Instrument.model_validate(data)


def test_banks_are_frozen():
    inst = load_instrument("wai-sr")
    with pytest.raises(ValidationError):
        inst.name = "changed"


def test_empty_and_non_mapping_documents():
    with pytest.raises(BankValidationError, match="must be a YAML mapping"):
        parse_bank("")
    with pytest.raises(BankValidationError, match="must be a YAML mapping"):
        parse_bank("- a\n- b\n")
