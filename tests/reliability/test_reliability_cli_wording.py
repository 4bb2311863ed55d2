"""psychometrics reliability: the title and the repeated-id warning read well."""
import argparse
from pathlib import Path

import pandas as pd

from psychometrics.reliability import cli

ROOT = Path(__file__).resolve().parents[2]


def _run(argv, capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reliability", str(ROOT / "examples" / "therapy_example.csv")] + argv)
    assert args.func(args) == 0
    return capsys.readouterr()


def test_title_names_version_and_form(capsys):
    out = _run(["-i", "wai-sr"], capsys).out
    assert "Reliability of wai-sr (version SR, form standard)" in out
    assert "(SR (standard))" not in out


def test_title_without_form(capsys):
    assert "Reliability of pear (version provisional-0.1)\n" in _run(["-i", "pear"], capsys).out


def test_repeated_id_warning_names_the_column(capsys):
    err = _run(["-i", "pear"], capsys).err
    assert "--id patient_id --occasion all" in err
    assert "{c}" not in err
