"""The lavaan syntax parser and the parameter table (lavaan ``lavaanify``)."""
from __future__ import annotations

import numpy as np
import pytest

from psychometrics.exceptions import ModelSyntaxError
from psychometrics.sem import parse_model
from psychometrics.sem.partable import build_partable


def test_statements_and_modifiers():
    m = parse_model("""
        # a comment line
        f =~ x1 + 0.5*x2 + a*x3 + NA*x4   ! another comment
        f ~~ start(1.5)*f; y ~ b*f + 1
        d := a * b
    """)
    got = [(s.lhs, s.op, s.rhs) for s in m.statements]
    assert got == [("f", "=~", "x1"), ("f", "=~", "x2"), ("f", "=~", "x3"), ("f", "=~", "x4"),
                   ("f", "~~", "f"), ("y", "~", "f"), ("y", "~1", "")]
    mods = {s.rhs: s.modifier for s in m.statements}
    assert mods["x2"].fixed == (0.5,)
    assert mods["x3"].label == ("a",)
    assert mods["x4"].fixed == (None,)  # NA: free
    assert m.statements[4].modifier.start == (1.5,)
    assert m.statements[5].modifier.label == ("b",)
    assert m.definitions[0].name == "d" and m.definitions[0].expression == "a*b"


def test_statement_over_several_lines():
    m = parse_model("f =~ x1 + x2 +\n     x3\n  + x4\ng =~ x5 + x6 + x7")
    assert [s.rhs for s in m.statements if s.lhs == "f"] == ["x1", "x2", "x3", "x4"]
    assert [s.rhs for s in m.statements if s.lhs == "g"] == ["x5", "x6", "x7"]


def test_group_vectors():
    m = parse_model("f =~ x1 + c(a1, a2)*x2 + c(1, NA)*x3")
    assert m.statements[1].modifier.label == ("a1", "a2")
    assert m.statements[2].modifier.fixed == (1.0, None)


@pytest.mark.parametrize("text, line, token", [
    ("f =~ x1 + x2\ng =~ x3 + + x4", 2, "+"),
    ("f =~ x1 + x2\n\nx3 x4", 3, "x3 x4"),
    ("f =~ x1\ng ~*~ g", 2, "~*~"),   # scaling factors (ordinal) are not in fit()
    ("f =~ x1 + 2x2", 1, "2x2"),
    ("f =~ x1 + x2\nf =~ bad-name", 2, "bad-name"),
    ("f =~ x1 + x2\nd := a +* b", 3 - 1, "a+*b"),
])
def test_syntax_errors_name_line_and_token(text, line, token):
    with pytest.raises(ModelSyntaxError) as exc:
        pt = build_partable(parse_model(text))
        # definitions are compiled later; compile here for the ':=' case
        from psychometrics.sem.defined import compile_definitions
        compile_definitions(pt.definitions, set(pt.table["label"]) - {""})
    assert exc.value.line == line
    assert exc.value.token == token
    assert f"line {line}" in str(exc.value)


def test_empty_model():
    with pytest.raises(ModelSyntaxError, match="no model statements"):
        parse_model("# only a comment\n")


def test_partable_defaults_like_lavaan():
    # lavaanify("f =~ x1 + x2 + x3; g =~ x4 + x5 + x6", auto.var = TRUE, auto.fix.first = TRUE,
    #           auto.cov.lv.x = TRUE): 6 loadings, 6 + 2 variances, 1 covariance
    pt = build_partable(parse_model("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6"))
    t = pt.table
    assert list(zip(t["lhs"], t["op"], t["rhs"])) == [
        ("f", "=~", "x1"), ("f", "=~", "x2"), ("f", "=~", "x3"),
        ("g", "=~", "x4"), ("g", "=~", "x5"), ("g", "=~", "x6"),
        ("x1", "~~", "x1"), ("x2", "~~", "x2"), ("x3", "~~", "x3"),
        ("x4", "~~", "x4"), ("x5", "~~", "x5"), ("x6", "~~", "x6"),
        ("f", "~~", "f"), ("g", "~~", "g"), ("f", "~~", "g")]
    assert list(t["free"]) == [False, True, True, False, True, True] + [True] * 9
    assert pt.npar == 13
    assert list(t["plabel"])[:2] == [".p1.", ".p2."]


def test_partable_std_lv_and_labels():
    pt = build_partable(parse_model("f =~ a*x1 + a*x2 + x3"), std_lv=True)
    t = pt.table
    assert t.loc[t["op"] == "=~", "free"].all()
    assert t.loc[(t["lhs"] == "f") & (t["op"] == "~~"), "ustart"].item() == 1.0
    p = t.loc[t["op"] == "=~", "par"].to_numpy()
    assert p[0] == p[1] != p[2]


def test_group_equal_labels_and_latent_means():
    pt = build_partable(parse_model("f =~ x1 + x2 + x3"), ngroups=2, meanstructure=True,
                        group_equal=["loadings", "intercepts"])
    t = pt.table
    l2 = t[(t["op"] == "=~") & (t["rhs"] == "x2")]
    assert list(l2["label"]) == [".p2.", ".p2."] and l2["par"].nunique() == 1
    means = t[(t["op"] == "~1") & (t["lhs"] == "f")]
    assert list(means["free"]) == [False, True]  # free in group 2 (lavaan)


def test_group_equal_bad_value():
    from psychometrics.exceptions import ModelSpecificationError
    with pytest.raises(ModelSpecificationError, match="'group_equal'.*'loading'"):
        build_partable(parse_model("f =~ x1 + x2 + x3"), ngroups=2, group_equal=["loading"])


def test_equality_constraint_between_labels():
    pt = build_partable(parse_model("f =~ x1 + a*x2 + b*x3\na == b"))
    t = pt.table
    p = t.loc[t["op"] == "=~", "par"].to_numpy()
    assert p[1] == p[2]
    assert np.isnan(t["start"]).all()
