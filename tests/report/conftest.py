"""Fixtures of the report tests: a small data set and study files in a temp folder."""
from __future__ import annotations

from pathlib import Path

import pytest

import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "therapy_example.csv"


def example_subset(n_patients: int = 30) -> pd.DataFrame:
    """The first ``n_patients`` patients of the shipped example data (all their months)."""
    d = pd.read_csv(EXAMPLE)
    keep = list(dict.fromkeys(d["patient_id"]))[:n_patients]
    return d[d["patient_id"].isin(keep)].reset_index(drop=True)

STUDY = """\
name: small
title: Small test study
seed: 7
data:
  files: [data.csv]
  id: patient_id
  time: month
instruments:
  wai: {{bank: wai-sr, form: standard, label: WAI-SR}}
  pear: {{bank: pear, label: PEAR}}
  oq: {{bank: oq-45.2, label: OQ-45.2}}
analyses:
{analyses}
"""

ANALYSES = """\
  scoring: true
  item_distributions: {instruments: [wai]}
  descriptives: true
"""


@pytest.fixture(scope="session")
def small_data():
    return example_subset(30)


@pytest.fixture
def study_dir(tmp_path, small_data):
    """A folder with data.csv; ``write(analyses=..., text=...)`` writes study.yaml."""
    small_data.to_csv(tmp_path / "data.csv", index=False)

    def write(analyses: str = ANALYSES, text: str | None = None) -> Path:
        p = tmp_path / "study.yaml"
        p.write_text(text if text is not None else STUDY.format(analyses=analyses),
                     encoding="utf-8")
        return p

    write.dir = tmp_path
    return write
