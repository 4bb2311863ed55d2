"""instrument_reliability: every scale of a bank, checked against psych on therapy_sim."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import DataValidationError, ReliabilityWarning
from psychometrics.reliability import alpha, instrument_reliability
from tests.conftest import dataset
from tests.reliability._helpers import CLOSED, TOTAL, check, extra


@pytest.fixture(scope="module")
def therapy():
    return dataset("therapy_sim")


@pytest.fixture(scope="module")
def tables(therapy):
    return {"wai-sr": instrument_reliability(therapy, "wai-sr", ordinal=True),
            "pear": instrument_reliability(therapy, "pear")}


def _ref_scales():
    return {s["scale"]: s for s in extra()["therapy_scales"]}


@pytest.mark.parametrize("bank,scale", [
    ("wai-sr", "task"), ("wai-sr", "bond"), ("wai-sr", "goal"), ("wai-sr", "total"),
    ("pear", "f1"), ("pear", "f2"), ("pear", "total")])
def test_scale_rows_equal_psych(tables, bank, scale):
    ref = _ref_scales()[f"{bank.replace('-', '_')}_{scale}"]
    res = tables[bank]
    row = res.table.set_index("scale").loc[scale]
    assert row["n_items"] == len(ref["items"])
    assert list(res.alphas[scale].item_stats.index) == ref["items"]
    # psych::alpha(therapy[, items])$total
    for key, value in ref["total"].items():
        check(row[TOTAL[key]], value, f"{bank} {scale} {key}", **CLOSED)
    # psych::alpha(...)$feldt
    check(row["alpha_ci_lower"], ref["feldt"]["lower.ci"], "feldt lower", **CLOSED)
    check(row["alpha_ci_upper"], ref["feldt"]["upper.ci"], "feldt upper", **CLOSED)
    # psych::splitHalf(therapy[, items])
    sh = ref["splitHalf"]
    for theirs, ours in [("maxrb", "max_split_half"), ("minrb", "min_split_half"),
                         ("meanr", "mean_split_half"), ("lambda2", "lambda2")]:
        check(row[ours], sh[theirs], f"{bank} {scale} {theirs}", **CLOSED)
    # psych::alpha(...)$item.stats$r.drop and $alpha.drop$raw_alpha
    items = res.items[res.items["scale"] == scale].set_index("item")
    for item, value in ref["r.drop"].items():
        check(items.loc[item, "r_drop"], value, f"{scale} {item} r.drop", **CLOSED)
    for item, value in ref["alpha.drop"].items():
        check(items.loc[item, "alpha_if_dropped"], value, f"{scale} {item} alpha.drop", **CLOSED)


def test_goal_task_scale(tables):
    ref = _ref_scales()["wai_sr_goal_task"]
    # goal_task belongs to the bank's two-factor form
    res = instrument_reliability(dataset("therapy_sim"), "wai-sr", form="two_factor")
    row = res.table.set_index("scale").loc["goal_task"]
    check(row["raw_alpha"], ref["total"]["raw_alpha"], "goal_task", **CLOSED)


def test_ordinal_column(tables):
    t = tables["wai-sr"].table
    assert t["ordinal_alpha"].notna().all()
    assert tables["pear"].table["ordinal_alpha"].isna().all()


def test_reverse_keyed_bank_uses_response_scale(therapy):
    # WAI-S (1..7 scale) reverses wai_4 and wai_10 of its goal scale as 8 - x. The
    # simulated items are all positively keyed, so reversing them makes the
    # covariances negative: the warnings must say so, naming the scale.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = instrument_reliability(therapy, "wai-s")
    messages = [str(w.message) for w in caught if issubclass(w.category, ReliabilityWarning)]
    assert any("scale 'goal'" in m and "average covariance" in m for m in messages)
    assert any("scale 'total'" in m and "wai_4" in m for m in messages)
    items = ["wai_4", "wai_6", "wai_10", "wai_11"]
    with pytest.warns(ReliabilityWarning):
        direct = alpha(therapy[items], reverse=["wai_4", "wai_10"], response_range=(1, 7))
    assert "negative average covariance" in res.table.set_index("scale").loc["goal", "note"]
    row = res.table.set_index("scale").loc["goal"]
    check(row["raw_alpha"], direct.raw_alpha, "goal alpha", **CLOSED)
    check(row["mean"], direct.total["mean"].iloc[0], "goal mean", **CLOSED)
    assert row["n_reversed"] == 2
    it = res.items[res.items["scale"] == "goal"].set_index("item")
    check(it.loc["wai_4", "mean"], 8 - therapy["wai_4"].mean(), "reversed mean", **CLOSED)


def test_missing_item_columns_named(therapy):
    with pytest.raises(DataValidationError, match="wai_3"):
        instrument_reliability(therapy.drop(columns=["wai_3"]), "wai-sr")


def test_out_of_range_response_named(therapy):
    bad = therapy.copy()
    bad.loc[4, "pear_2"] = 9
    with pytest.raises(DataValidationError, match="outside the response scale") as err:
        instrument_reliability(bad, "pear")
    assert err.value.issues[0].column == "pear_2" and err.value.issues[0].row == 5   # data row


def test_unknown_scale(therapy):
    with pytest.raises(KeyError, match="nope"):
        instrument_reliability(therapy, "wai-sr", scales=["nope"])


def test_scale_subset_and_summary(therapy):
    res = instrument_reliability(therapy, "wai-sr", scales=["bond"])
    assert list(res.table["scale"]) == ["bond"]
    assert "bond" in res.summary().as_text()


def test_item_floor_ceiling(therapy):
    res = instrument_reliability(therapy, "pear", scales=["f2"])
    items = res.items.set_index("item")
    assert list(res.items.columns[:2]) == ["scale", "item"]
    for item in ["pear_7", "pear_8", "pear_9", "pear_10"]:
        col = therapy[item]
        check(items.loc[item, "prop_min"], (col == 1).mean(), f"{item} floor", **CLOSED)
        check(items.loc[item, "prop_max"], (col == 6).mean(), f"{item} ceiling", **CLOSED)
        check(items.loc[item, "prop_missing"], col.isna().mean(), f"{item} missing", **CLOSED)


def test_rows_without_any_answer_of_a_scale(therapy):
    from psychometrics.exceptions import DataQualityWarning

    d = therapy.copy()
    d.loc[[3, 9], ["pear_7", "pear_8", "pear_9", "pear_10"]] = np.nan
    with pytest.warns(DataQualityWarning, match="scale 'f2'.*2 row"):
        res = instrument_reliability(d, "pear", scales=["f2"])
    row = res.table.iloc[0]
    assert row["n_obs"] == len(d) - 2
    ref = alpha(d[["pear_7", "pear_8", "pear_9", "pear_10"]].drop(index=[3, 9]))
    check(row["ase"], ref.total["ase"].iloc[0], "ase without empty rows", **CLOSED)


def test_cli_command(tmp_path, capsys):
    import argparse

    from psychometrics.reliability import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    data = tmp_path / "pear.csv"
    dataset("therapy_sim").to_csv(data, index=False)
    out, items_out = tmp_path / "scales.csv", tmp_path / "items.csv"
    args = parser.parse_args(["reliability", str(data), "-i", "pear", "--out", str(out),
                              "--items-out", str(items_out)])
    assert args.func(args) == 0
    assert "Reliability of pear" in capsys.readouterr().out
    table = pd.read_csv(out)
    direct = instrument_reliability(dataset("therapy_sim"), "pear").table
    check(table["raw_alpha"].to_numpy(), direct["raw_alpha"].to_numpy(), "cli alpha", **CLOSED)
    assert len(pd.read_csv(items_out)) == 20
