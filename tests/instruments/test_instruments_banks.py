"""The shipped item banks: they load, and every fact matches ../shared/INSTRUMENTS.md.

``tests/data/INSTRUMENTS.md`` is a copy of the project's record of what is known
about the instruments, each fact tagged [V] (verified in a public source),
[U] (unverified) or [NF] (not found). The facts are read from that file with
regular expressions, so a change to the record that the banks do not follow
fails here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import psychometrics
from psychometrics.instruments import Instrument, load_instrument

FACTS = (Path(__file__).parents[1] / "data" / "INSTRUMENTS.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of one '## title' section of INSTRUMENTS.md."""
    m = re.search(rf"^## {re.escape(title)}\b.*?$(.*?)(?=^## |\Z)", FACTS, flags=re.M | re.S)
    assert m is not None, f"section {title!r} not found in INSTRUMENTS.md"
    return m.group(1)


def numbers(text: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", text)]


def fact_line(sec: str, start: str) -> str:
    """The bullet line of a section that starts with ``start``."""
    for line in sec.splitlines():
        if line.startswith(f"- {start}"):
            return line
    raise AssertionError(f"no line starting with {start!r}")


def tag(line: str) -> str:
    """'V', 'U' or 'NF' from a fact line."""
    m = re.search(r"\[(V|U|NF)\b", line)
    assert m is not None, line
    return m.group(1)


def keyed(inst: Instrument, scale: str) -> list[int]:
    return sorted(i.number for i in inst.items if i.id in inst.scales[scale].items)


def test_every_shipped_bank_loads():
    names = psychometrics.list_instruments()
    assert names == ["oq-45.2", "pear", "wai-s", "wai-sr"]
    for name in names:
        inst = psychometrics.load_instrument(name)
        assert isinstance(inst, Instrument)
        assert inst.id == name
        # No copyrighted item text is shipped.
        assert all(item.text is None for item in inst.items)


def test_load_is_case_insensitive_and_accepts_paths(tmp_path):
    assert load_instrument("WAI-SR").id == "wai-sr"
    path = Path(psychometrics.instruments.instrument_paths()["pear"])
    assert load_instrument(str(path)).id == "pear"


# --------------------------------------------------------------------------- WAI-SR
def test_wai_sr_facts():
    sec = section("WAI-SR")
    inst = load_instrument("wai-sr")
    line = fact_line(sec, "12 items, response scale 1-5")
    labels = re.search(r"1-5: (.*?)\. \[", line).group(1).split(", ")
    assert len(inst.items) == 12
    assert (inst.response_scale.min, inst.response_scale.max) == (1, 5)
    assert [inst.response_scale.labels[k] for k in range(1, 6)] == labels
    assert inst.response_scale.provenance.verified is (tag(line) == "V")

    line = fact_line(sec, "Subscales, 4 items each")
    for name, scale in (("Task", "task"), ("Bond", "bond"), ("Goal", "goal")):
        expected = numbers(re.search(rf"{name} ([\d, ]+)", line).group(1))
        assert keyed(inst, scale) == sorted(expected)
        assert inst.scales[scale].provenance.verified is (tag(line) == "V")
        assert inst.scale_range(scale) == (4.0, 20.0)
    assert "range 4-20, total 12-60" in line
    assert inst.scale_range("total") == (12.0, 60.0)

    line = fact_line(sec, "No reverse-keyed items")
    for scale in ("task", "bond", "goal"):
        assert inst.scales[scale].reverse == ()
        assert inst.scales[scale].reverse_provenance.verified is (tag(line) == "V")
    assert "Society for Psychotherapy Research" in fact_line(sec, "Copyright held by")
    assert "Society for Psychotherapy Research" in inst.licence


def test_wai_sr_two_factor_form():
    inst = load_instrument("wai-sr")
    two = inst.with_form("two_factor")
    assert list(two.scales) == ["bond", "goal_task"]
    assert sorted(two.scales["goal_task"].items) == sorted(
        inst.scales["goal"].items + inst.scales["task"].items)
    assert "Falkenstr" in section("WAI-SR")


# --------------------------------------------------------------------------- WAI-S
def test_wai_s_facts():
    sec = section("WAI-S")
    inst = load_instrument("wai-s")
    line = fact_line(sec, "12 items, 7-point scale")
    assert len(inst.items) == 12 and tag(line) == "V"
    assert (inst.response_scale.min, inst.response_scale.max) == (1, 7)
    assert inst.response_scale.labels[1] == "Never" and inst.response_scale.labels[7] == "Always"
    assert inst.scale_range("total") == (12.0, 84.0)

    line = fact_line(sec, "Items 4 and 10 are negatively worded")
    reversed_numbers = sorted(i.number for i in inst.items
                              if any(i.id in s.reverse for s in inst.scales.values()))
    assert reversed_numbers == numbers(line.split("[")[0])
    assert inst.scales["goal"].reverse_provenance.verified is (tag(line) == "V")

    line = fact_line(sec, "Subscales:")
    assert tag(line) == "U"
    for name, scale in (("Task", "task"), ("Bond", "bond"), ("Goal", "goal")):
        expected = numbers(re.search(rf"{name} ([\d, ]+)", line).group(1))
        assert keyed(inst, scale) == sorted(expected)
        assert inst.scales[scale].provenance.verified is False


def test_full_wai_key_is_not_shipped():
    line = fact_line(section("Full WAI"), "36 items")
    assert "[NF]" in line and "do not ship a key" in line
    assert not any(load_instrument(n).name.startswith("Working Alliance Inventory (36")
                   for n in psychometrics.list_instruments())
    assert all(len(load_instrument(n).items) != 36 for n in psychometrics.list_instruments())


# --------------------------------------------------------------------------- OQ-45.2
def test_oq45_facts():
    sec = section("OQ-45.2")
    inst = load_instrument("oq-45.2")
    line = fact_line(sec, "45 items scored 0-4")
    labels = re.search(r"0-4: (.*?)\. ", line).group(1).split(", ")
    assert len(inst.items) == 45
    assert [inst.response_scale.labels[k] for k in range(5)] == labels
    assert all(s.higher_is_worse for s in inst.scales.values())

    line = fact_line(sec, "Subscales:")
    for label, scale in (("Symptom Distress", "sd"), ("Interpersonal Relations", "ir"),
                         ("Social Role", "sr")):
        n, lo, hi = numbers(re.search(rf"{label} (\d+)(?: items)? \((\d+)-(\d+)\)", line).group(0))
        assert len(inst.scales[scale].items) == n
        assert inst.scale_range(scale) == (float(lo), float(hi))
    assert "total 0-180" in line and inst.scale_range("total") == (0.0, 180.0)

    line = fact_line(sec, "Item lists [U]")
    for label, scale in (("SD", "sd"), ("IR", "ir"), ("SR", "sr")):
        expected = numbers(re.search(rf"{label} ([\d, ]+)", line).group(1))
        assert keyed(inst, scale) == sorted(expected)
        assert inst.scales[scale].provenance.verified is False

    line = fact_line(sec, "Reverse-scored items")
    expected = numbers(line.split("(")[0].split(":")[1])
    assert len(expected) == 9
    got = sorted(i.number for i in inst.items
                 if any(i.id in s.reverse for s in inst.scales.values()))
    assert got == sorted(expected)
    for scale in ("sd", "ir", "sr"):
        assert inst.scales[scale].reverse_provenance.verified is (tag(line) == "V")

    line = fact_line(sec, "Missing items")
    for scale in ("sd", "ir", "sr"):
        rule = inst.scales[scale].missing
        assert rule.rule == "impute_rounded_mean"
        assert rule.provenance.verified is True
        # The limit of blanks is [NF]: declared, and flagged as a project default.
        assert "[NF]" in line and "project default" in rule.provenance.note

    line = fact_line(sec, "Reliable change: 14 points")
    us = inst.norms["us"].scales
    assert us["total"].rci == 14 and us["total"].cutoff == 64
    assert "63 functional / 64 dysfunctional" in line
    assert us["sd"].cutoff == 36 and "Symptom Distress cut-off 36" in line
    assert "ir" not in us and "sr" not in us  # IR and SR cut-offs are [NF]

    line = fact_line(sec, "Other norms exist")
    nl = inst.norms["nl"].scales["total"]
    assert (nl.rci, nl.cutoff) == (18, 56) and "Dutch RCI 18, cut-off 56" in line
    assert inst.norms["es"].scales["total"].cutoff == 54.5 and "54.5" in line
    assert inst.norms["es"].provenance.verified is False  # no citation recorded
    assert "American Professional Credentialing Services" in inst.licence


def test_oq30_key_is_not_shipped():
    assert "Its item key [NF]" in fact_line(section("OQ-45.2"), "OQ-30.2")
    assert not any("30" in n for n in psychometrics.list_instruments())


# --------------------------------------------------------------------------- PEAR
def test_pear_is_provisional_and_matches_example_design():
    line = fact_line(section("PEAR"), "PEAR is the measure")
    assert "10 items scored 1-6, items 1-6 on one factor and 7-10 on another" in line
    inst = load_instrument("pear")
    assert inst.provisional is True
    assert len(inst.items) == 10
    assert (inst.response_scale.min, inst.response_scale.max) == (1, 6)
    assert keyed(inst, "f1") == [1, 2, 3, 4, 5, 6]
    assert keyed(inst, "f2") == [7, 8, 9, 10]
    # Nothing about the real PEAR is claimed as verified.
    assert not any(i.verified for i in inst.items)
    assert not inst.response_scale.provenance.verified
    assert not any(s.provenance.verified for s in inst.scales.values())


def test_every_fact_has_a_source():
    for name in psychometrics.list_instruments():
        inst = load_instrument(name)
        assert inst.response_scale.provenance.source
        for item in inst.items:
            assert item.source
        for scale in inst.scales.values():
            assert scale.provenance.source
            if scale.reverse:
                assert scale.reverse_provenance is not None
            if scale.missing is not None:
                assert scale.missing.provenance.source
        for norm in inst.norms.values():
            for sn in norm.scales.values():
                assert sn.provenance.source


@pytest.mark.parametrize("name", ["wai-sr", "wai-s", "oq-45.2", "pear"])
def test_item_table_covers_every_item(name):
    inst = load_instrument(name)
    table = inst.item_table()
    assert list(table.columns) == ["item_id", "scale", "reverse", "min", "max"]
    assert set(table["item_id"]) == set(inst.item_ids)
