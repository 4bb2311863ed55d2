"""APA number formatting: leading zeros, p values, minus sign, missing values."""
import math

import pytest

from psychometrics.report import apa

M = apa.MINUS


@pytest.mark.parametrize("x, expected", [
    (0.8749, ".87"), (0.875, ".88"), (-0.123, f"{M}.12"), (0.004, ".00"), (-0.004, ".00"),
    (0.999, "1.00"), (1.0, "1.00"), (-1.0, f"{M}1.00"), (0.05, ".05")])
def test_bounded_statistics_have_no_leading_zero(x, expected):
    assert apa.bounded(x) == expected


@pytest.mark.parametrize("x, expected", [
    (0.8749, "0.87"), (12.3, "12.30"), (-0.5, f"{M}0.50"), (-0.001, "0.00"), (1234.5678, "1234.57")])
def test_unbounded_statistics_keep_the_leading_zero(x, expected):
    assert apa.num(x) == expected


def test_decimals_are_two_by_default_and_adjustable():
    assert apa.num(3.14159) == "3.14"
    assert apa.num(3.14159, 3) == "3.142"
    assert apa.bounded(0.87654, 3) == ".877"


@pytest.mark.parametrize("p, expected", [
    (0.0004, "< .001"), (0.000999, "< .001"), (0.001, ".001"), (0.0234, ".023"),
    (0.5, ".500"), (1.0, "1.000")])
def test_p_values(p, expected):
    assert apa.pval(p) == expected


def test_missing_values_are_an_em_dash():
    for f in (apa.num, apa.bounded, apa.pval, apa.integer, apa.percent, apa.text):
        assert f(math.nan) == apa.EMPTY
        assert f(None) == apa.EMPTY
    assert apa.ci(math.nan, math.nan) == apa.EMPTY


def test_confidence_interval_brackets():
    assert apa.ci(0.781, 0.844, is_bounded=True) == "[.78, .84]"
    assert apa.ci(-0.2, 1.4) == f"[{M}0.20, 1.40]"


def test_integers_and_percentages():
    assert apa.integer(12345) == "12,345"
    assert apa.integer(7.0) == "7"
    assert apa.percent(0.1234) == "12.3"


def test_rounding_matches_round():
    # the report's numbers equal round(x, 2) printed APA style
    for x in (0.8349999, 0.835, 0.12549, 0.7251, 0.9999, 0.105):
        assert apa.bounded(x) == f"{round(x, 2):.2f}".lstrip("0")


def test_unknown_column_kind_is_an_error():
    with pytest.raises(ValueError, match="Unknown column kind 'pct'"):
        apa.formatter("pct")
