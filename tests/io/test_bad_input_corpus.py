"""A replayable corpus of bad inputs through the command line (issue 12, "Done when").

Each case writes a few tiny files into a temporary folder and runs
``python -m psychometrics ...`` in a subprocess, exactly as a user would. The
common contract, asserted for every case:

* the process ends within ``BUDGET`` seconds (otherwise the case fails as a hang);
* the exit status is the CLI's: 2 for a refused input (``error: ...`` on stderr; argparse
  usage errors use 2 as well), 0 where the input is accepted with a warning (the
  warning text must be there);
* no ``Traceback`` on stdout or stderr;
* the message names the file (its basename) and, for a bad cell, the data row (1-based,
  header excluded), the column and the value;
* a case-specific substring: the fix the message suggests, or the precise problem.

Cases run as separate parametrised tests so pytest-xdist can spread them.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BUDGET = 60  # seconds per CLI process; a timeout is reported as a hang
ERROR = 2    # exit status of psychometrics.cli.main for the package's errors

WAI = [f"wai_{i}" for i in range(1, 13)]
HEADER = ",".join(["patient_id", "month", *WAI])


def rows(n: int = 8, sep: str = ",", start: int = 1) -> list[str]:
    """``n`` valid WAI-SR data rows (responses 1-5), deterministic."""
    out = []
    for r in range(start, start + n):
        vals = [str(1 + (r * 7 + k * 3) % 5) for k in range(12)]
        out.append(sep.join([str(100 + r), "1", *vals]))
    return out


def csv(*lines: str, n: int = 8) -> str:
    """A WAI-SR CSV: the header, ``lines`` (replacing the first len(lines) rows), then
    valid rows up to ``n``."""
    body = list(lines) + rows(max(n - len(lines), 0), start=len(lines) + 1)
    return "\n".join([HEADER, *body]) + "\n"


def good_row(i: int, **cells) -> str:
    vals = dict(zip(["patient_id", "month", *WAI], rows(1, start=i)[0].split(",")))
    vals.update({k: str(v) for k, v in cells.items()})
    return ",".join(vals[c] for c in ["patient_id", "month", *WAI])


GOOD = csv()

BANK_HEAD = """\
id: tiny
name: Tiny bank
version: "1"
citation: none
licence: none
response_scale:
  min: 1
  max: 5
  provenance: {source: test, verified: false}
items:
  - {id: a1, number: 1, source: test, verified: false}
  - {id: a2, number: 2, source: test, verified: false}
scales:
  total:
    name: Total
    items: [a1, a2]
    method: sum
    missing: {rule: complete, provenance: {source: test, verified: false}}
    provenance: {source: test, verified: false}
"""

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))

STUDY = """\
name: bad
data:
  files: [{data}]
  id: patient_id
  time: month
instruments:
  wai: {{bank: wai-sr}}
analyses:
{analyses}
"""


def study(data: str = "data.csv", analyses: str = "  scoring: true\n") -> str:
    return STUDY.format(data=data, analyses=analyses)


@dataclass
class Case:
    name: str
    files: dict
    argv: list
    expect: list = field(default_factory=list)   # substrings of stdout+stderr
    rc: int = ERROR
    before: list = field(default_factory=list)   # argv run first (must succeed)


def score(data="data.csv", *extra):
    return ["score", data, "-i", "wai-sr", "--out", "scores.csv", *extra]


CASES = [
    # --- files that cannot be read ---------------------------------------------------
    Case("missing_file", {}, score("nope.csv"), ["No response file 'nope.csv'"]),
    Case("empty_file", {"data.csv": b""}, score(), ["data.csv is empty", "no header row"]),
    Case("header_only", {"data.csv": HEADER + "\n"}, score(),
         ["data.csv has a header", "but no data rows"]),
    Case("semicolon_decimal_comma",  # European Excel: read, and the 2,5 is seen as 2.5
         {"data.csv": "\n".join([HEADER.replace(",", ";"), "101;1;1;1;2,5" + ";1" * 9,
                                 *[r.replace(",", ";") for r in rows(5, start=2)]]) + "\n"},
         score(), ["data.csv", "data row 1", "wai_3", "value 2.5", "not a whole number"]),
    Case("extra_field", {"data.csv": csv(good_row(1) + ",9")}, score(),
         ["data.csv: data row 1 (line 2 of the file) has 15 fields but the header has 14",
          "--sep ';' --decimal ','"]),
    Case("extra_field_in_range",  # pandas would take the first column as the index and
         {"data.csv": csv(good_row(1) + ",3")}, score(),  # shift every column silently
         ["data.csv: data row 1 (line 2 of the file) has 15 fields"]),
    Case("latin1_with_encoding", {"data.csv": (HEADER + ",noté\n").encode("latin-1") + b"\n".join(
        (r + ",x").encode() for r in rows(4)) + b"\n"}, score("data.csv", "--encoding", "latin-1"),
         ["Scored 4 administration(s)"], rc=0),
    Case("out_of_range_set_missing", {"data.csv": csv(good_row(1), good_row(2, wai_3=9))},
         score("data.csv", "--invalid", "missing"),
         ["1 data issue(s) written to scores_issues.csv", "data_row counts from 1"], rc=0),
    Case("latin1_bytes", {"data.csv": (HEADER + ",noté\n").encode("latin-1") + b"\n".join(
        (r + ",x").encode() for r in rows(4)) + b"\n"}, score(),
         ["data.csv is not UTF-8", "byte 0xe9 in the header", "--encoding cp1252"]),
    Case("utf16_bom", {"data.csv": GOOD.encode("utf-16")}, score(),
         ["Scored 8 administration(s)"], rc=0),
    Case("binary_garbage_csv", {"data.csv": bytes(range(256)) * 8}, score(),
         ["data.csv contains a NUL character", "not a text file", "Save it as CSV UTF-8"]),
    Case("xlsx_not_zip", {"data.xlsx": b"this is not a zip file\n"}, score("data.xlsx"),
         ["data.xlsx cannot be read as an Excel workbook", "export it again"]),
    Case("truncated_sav", {"data.sav": b"$FL2@(#) IBM SPSS STATISTICS\x00\x00"}, score("data.sav"),
         ["data.sav cannot be read as an SPSS file", "export it again"]),
    Case("unknown_extension", {"data.foo": GOOD}, score("data.foo"),
         ["'data.foo'", "use one of .csv"]),
    Case("directory_as_data", {"data.csv/x": ""}, score(),
         ["directory 'data.csv' holds no *.parquet files"]),
    # --- bad cells ----------------------------------------------------------------------
    Case("out_of_range", {"data.csv": csv(good_row(1), good_row(2, wai_3=9))}, score(),
         ["data.csv", "data row 2, column 'wai_3', value 9: outside the response scale 1..5",
          "--invalid missing"]),
    Case("non_numeric", {"data.csv": csv(good_row(1), good_row(2), good_row(3, wai_5="often"))},
         score(),
         ["data.csv", "data row 3, column 'wai_5', value 'often': text in a numeric column",
          "--invalid missing"]),
    Case("fraction_on_integer_scale", {"data.csv": csv(good_row(1, wai_2="2.5"))}, score(),
         ["data.csv", "data row 1, column 'wai_2', value 2.5: not a whole number"]),
    Case("negative_response", {"data.csv": csv(good_row(1), good_row(2, wai_12="-1"))}, score(),
         ["data.csv", "data row 2, column 'wai_12', value -1: outside"]),
    Case("duplicate_columns", {"data.csv": GOOD.replace("wai_12", "wai_11", 1)}, score(),
         ["data.csv: the column name 'wai_11' occurs twice in the header (columns 13 and 14)",
          "rename one"]),
    Case("item_column_missing", {"data.csv": GOOD.replace(",wai_12", ",other", 1)}, score(),
         ["data.csv", "item 'wai_12' of wai-sr has no column 'wai_12'",
          "rename the column"]),
    Case("empty_item_column_warns",
         {"data.csv": "\n".join([HEADER, *[good_row(i, wai_5="") for i in range(1, 9)]]) + "\n"},
         score(),
         ["warning: 1 item column(s) have no response in any of the 8 rows: wai_5"], rc=0),
    Case("only_nans", {"data.csv": "\n".join([HEADER, *[",".join([str(i), "1"] + [""] * 12)
                                                      for i in range(1, 6)]]) + "\n"},
         score(), ["warning: 12 item column(s) have no response in any of the 5 rows"], rc=0),
    Case("huge_field", {"data.csv": csv(good_row(1, wai_4="9" * 200_000))}, score(),
         ["data.csv", "data row 1, column 'wai_4', value '9999",
          "... (200,000 characters)"]),
    Case("very_long_line", {"data.csv": HEADER + "," + ",".join(f"x{i}" for i in range(20000))
                            + "\n" + "\n".join(r + "," * 20000 for r in rows(3)) + "\n"},
         score(), ["Scored 3 administration(s)"], rc=0),
    # --- id / time columns ----------------------------------------------------------------
    Case("id_column_missing", {"data.csv": GOOD}, score("data.csv", "--id", "pid"),
         ["data.csv: The 'id' column 'pid' is not in the data", "its columns are"]),
    Case("duplicate_id_time", {"data.csv": csv(good_row(1), good_row(1))},
         score("data.csv", "--id", "patient_id", "--time", "month"),
         ["data.csv", "(patient_id=101, month=1) occurs in data rows [1, 2]",
          "remove the repeat"]),
    # --- banks ----------------------------------------------------------------------------
    Case("unknown_bank", {"data.csv": GOOD}, ["score", "data.csv", "-i", "no-such-bank",
                                              "--out", "s.csv"],
         ["No instrument named 'no-such-bank'", "a shipped bank (oq-45.2, pear, wai-s, wai-sr)"]),
    Case("bank_yaml_syntax", {"bank.yaml": BANK_HEAD + "items: [a1\n"},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "line 21", "malformed YAML"]),
    Case("bank_alias_bomb", {"bank.yaml": ALIAS_BOMB}, ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "'alias bomb'", "Write the values out"]),
    Case("bank_python_tag", {"bank.yaml": BANK_HEAD + "extra: !!python/object:os.system {}\n"},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "line 20", "'!!python/object:os.system' is not allowed",
          "remove the tag"]),
    Case("bank_unknown_field", {"bank.yaml": BANK_HEAD + "colour: blue\n"},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "line 20, colour: unknown field", "check its spelling"]),
    Case("bank_duplicate_key", {"bank.yaml": BANK_HEAD + "name: Again\n"},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "line 20, name: duplicate key 'name' (first at line 2)"]),
    Case("bank_latin1",
         {"bank.yaml": BANK_HEAD.replace("Tiny bank", "Tiny bänk").encode("latin-1")},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "not UTF-8 text: byte 0xe4 on line 2", "Save the file as UTF-8"]),
    Case("bank_scale_unknown_item", {"bank.yaml": BANK_HEAD.replace("[a1, a2]", "[a1, a3]")},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "scales.total.items[1]: item 'a3' is not in the bank's items"]),
    Case("bank_not_mapping", {"bank.yaml": "- just\n- a list\n"},
         ["instruments", "validate", "bank.yaml"],
         ["bank.yaml", "must be a YAML mapping with id, name, items, scales"]),
    Case("bank_path_for_score", {"data.csv": GOOD, "bank.yaml": "id: [\n"},
         ["score", "data.csv", "-i", "bank.yaml", "--out", "s.csv"],
         ["Item bank bank.yaml", "line 2", "malformed YAML"]),
    # --- study files ----------------------------------------------------------------------
    Case("study_missing_data", {"study.yaml": study("gone.csv")},
         ["report", "study.yaml", "--check"],
         ["study.yaml", "data.files[0]: data file 'gone.csv' does not exist"]),
    Case("study_path_outside", {"data.csv": GOOD, "sub/study.yaml": study("../data.csv")},
         ["report", "sub/study.yaml", "--check"],
         ["study.yaml", "data file '../data.csv' lies outside", "--allow-outside-paths"]),
    Case("study_output_outside", {"data.csv": GOOD, "study.yaml": study() + "output: ../../x\n"},
         ["report", "study.yaml", "--check"],
         ["study.yaml", "line 11, output: output folder '../../x' lies outside",
          "--allow-outside-paths"]),
    Case("study_unknown_analysis", {"data.csv": GOOD, "study.yaml": study(
        analyses="  scoring: true\n  astrology: true\n")}, ["report", "study.yaml", "--check"],
         ["study.yaml", "line 10, analyses.astrology: unknown field", "check its spelling"]),
    Case("study_wrong_type", {"data.csv": GOOD, "study.yaml": study().replace(
        "name: bad", "name: bad\nseed: seven")}, ["report", "study.yaml", "--check"],
         ["study.yaml", "line 2, seed: Input should be a valid integer", "(got 'seven')"]),
    Case("study_yaml_syntax", {"study.yaml": "name: [bad\n"}, ["report", "study.yaml", "--check"],
         ["study.yaml", "line 2", "malformed YAML"]),
    Case("study_alias_bomb", {"study.yaml": ALIAS_BOMB}, ["report", "study.yaml", "--check"],
         ["study.yaml", "'alias bomb'", "Write the values out"]),
    Case("study_unknown_bank",
         {"data.csv": GOOD, "study.yaml": study().replace("wai-sr", "wai-xx")},
         ["report", "study.yaml", "--check"],
         ["study.yaml", "instruments.wai.bank: instrument 'wai-xx' is neither a shipped bank"]),
    Case("study_empty", {"study.yaml": ""}, ["report", "study.yaml", "--check"],
         ["study.yaml", "must be a YAML mapping with name, data, instruments, analyses"]),
    Case("study_bad_cell", {"data.csv": csv(good_row(1), good_row(2, wai_7=8)),
                            "study.yaml": study()}, ["report", "study.yaml", "--check"],
         ["study.yaml", "column 'wai_7'", "e.g. 8 in data row 2 of data.csv",
          "leave the cells blank"]),
    Case("study_bad_cell_unsorted",  # the file's row, not the row after sorting by id, time
         {"data.csv": "\n".join([HEADER, good_row(2, wai_7=8), good_row(1)]) + "\n",
          "study.yaml": study()}, ["report", "study.yaml", "--check"],
         ["column 'wai_7'", "e.g. 8 in data row 1 of data.csv", "leave the cells blank"]),
    Case("study_id_blank", {"data.csv": "\n".join([HEADER, good_row(2), good_row(3, patient_id=""),
                                                   good_row(1)]) + "\n", "study.yaml": study()},
         ["report", "study.yaml", "--check"], ["blank in 1 data row(s) of data.csv (2)"]),
    Case("study_time_non_numeric", {"data.csv": csv(good_row(1), good_row(2, month="first")),
                                    "study.yaml": study()}, ["report", "study.yaml", "--check"],
         ["study.yaml", "time column 'month' must hold numbers",
          "found 'first' in data row 2 of data.csv"]),
    Case("study_id_missing",
         {"data.csv": GOOD.replace("patient_id", "pid", 1), "study.yaml": study()},
         ["report", "study.yaml", "--check"],
         ["study.yaml", "data.id: column 'patient_id' is not in data file 'data.csv'",
          "its columns: pid"]),
    # --- reliability / efa / irt -----------------------------------------------------------
    Case("reliability_out_of_range", {"data.csv": csv(good_row(1), good_row(2, wai_1=0))},
         ["reliability", "data.csv", "-i", "wai-sr"],
         ["data.csv", "data row 2, column 'wai_1', value 0: outside", "--invalid missing"]),
    Case("reliability_header_only", {"data.csv": HEADER + "\n"},
         ["reliability", "data.csv", "-i", "wai-sr"], ["data.csv has a header", "no data rows"]),
    Case("reliability_one_row", {"data.csv": csv(n=1)},
         ["reliability", "data.csv", "-i", "wai-sr"], ["data.csv", "1 data row(s)", "at least 2"]),
    Case("efa_more_items_than_rows", {"data.csv": csv(n=5)}, ["efa", "fit", "data.csv", "-k", "2",
                                                              "--items", *WAI],
         ["data.csv", "only 5 rows for 12 items; at least 13 are needed", "Drop redundant items"]),
    Case("efa_one_row", {"data.csv": csv(n=1)}, ["efa", "fit", "data.csv", "--factors", "1",
                                                 "--items", *WAI],
         ["data.csv", "Too few rows for FactorAnalysis: 1 row(s)", "at least 3"]),
    Case("efa_unknown_item", {"data.csv": GOOD}, ["efa", "fit", "data.csv", "--factors", "1",
                                                  "--items", "wai_1", "nope"],
         ["Data file data.csv has no column(s) nope", "its columns are patient_id"]),
    Case("efa_non_numeric", {"data.csv": csv(good_row(1, wai_2="x"))},
         ["efa", "fit", "data.csv", "--factors", "1", "--items", *WAI],
         ["data.csv", "data row 1, column 'wai_2', value 'x': not a number",
          "Recode the responses as numbers"]),
    Case("efa_empty", {"data.csv": b""}, ["efa", "omega", "data.csv"], ["data.csv is empty"]),
    Case("irt_non_numeric", {"data.csv": csv(good_row(1, wai_2="x"))},
         ["irt", "fit", "data.csv", "--items", *WAI],
         ["data.csv", "data row 1, column 'wai_2', value 'x': not a number",
          "Recode the responses to whole-number category codes"]),
    Case("irt_header_only", {"data.csv": HEADER + "\n"},
         ["irt", "fit", "data.csv", "--items", *WAI],
         ["data.csv has a header", "no data rows"]),
    Case("irt_fraction", {"data.csv": csv(good_row(1, wai_2="2.5"))},
         ["irt", "fit", "data.csv", "--items", *WAI],
         ["data.csv", "data row 1, column 'wai_2', value 2.5: not a whole number",
          "Recode the responses"]),
    # --- power / track ----------------------------------------------------------------------
    Case("power_yaml_syntax", {"design.yaml": "grid: [\n"}, ["power", "design.yaml", "--out", "o"],
         ["design file 'design.yaml' cannot be used", "line 2", "malformed YAML"]),
    Case("power_alias_bomb", {"design.yaml": ALIAS_BOMB}, ["power", "design.yaml", "--out", "o"],
         ["design.yaml", "alias bomb", "Write the values out"]),
    Case("power_missing", {}, ["power", "nope.yaml", "--out", "o"],
         ["Cannot read the design file 'nope.yaml': No such file"]),
    Case("track_ingest_empty", {"a.csv": b""}, ["track", "ingest", "a.csv", "--db", "t.db",
                                                "--no-signals"],
         ["Assessment file a.csv is empty", "needs a header row with id, therapist"],
         before=["track", "init", "--db", "t.db"]),
    Case("track_ingest_garbage", {"a.csv": bytes(range(256)) * 4},
         ["track", "ingest", "a.csv", "--db", "t.db", "--no-signals"],
         ["a.csv contains a NUL character", "Nothing was stored"],
         before=["track", "init", "--db", "t.db"]),
]


def run_case(case: Case, folder: Path) -> tuple[int | None, str]:
    for name, content in case.files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    env = dict(os.environ, PYTHONWARNINGS="default", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    if case.before:
        subprocess.run([sys.executable, "-m", "psychometrics", *case.before], cwd=folder,
                       capture_output=True, timeout=BUDGET, env=env, check=True)
    try:
        proc = subprocess.run([sys.executable, "-m", "psychometrics", *case.argv], cwd=folder,
                              capture_output=True, text=True, timeout=BUDGET, env=env,
                              errors="replace")
    except subprocess.TimeoutExpired:
        return None, ""
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case, tmp_path):
    rc, text = run_case(case, tmp_path)
    assert rc is not None, f"hang: no answer within {BUDGET} s"
    assert "Traceback" not in text, text
    assert rc == case.rc, text
    if case.rc == ERROR:
        assert "error:" in text, text
    for s in case.expect:
        assert s in text, f"{s!r} not in:\n{text}"


def test_case_names_are_unique():
    assert len({c.name for c in CASES}) == len(CASES)
