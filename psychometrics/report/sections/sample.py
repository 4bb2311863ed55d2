"""Sample: patients, sessions per patient, assessments per occasion, missingness."""
from __future__ import annotations

from .. import apa
from ..model import Column, Paragraph, Table
from ._common import section

KEY, TITLE = "sample", "Sample"


def build(results):
    if results.get("sample") is None:  # not requested
        return None
    s = results.study

    def blocks(r):
        sess = r.sessions["n_sessions"]
        yield Paragraph(
            f"The data comprise {apa.integer(r.n_patients)} patients and "
            f"{apa.integer(r.n_sessions)} assessments ({s.data.time} "
            f"{apa.num(r.per_time['time'].min(), 0)} to {apa.num(r.per_time['time'].max(), 0)}); "
            f"patients had *M* = {apa.num(r.sessions_mean)} assessments (*SD* = "
            f"{apa.num(r.sessions_sd)}, range {apa.integer(sess.min())}\u2013"
            f"{apa.integer(sess.max())}).")
        yield Table("sample_per_time", "Patients Assessed at Each Occasion", r.per_time,
                    (Column("time", s.data.time.capitalize(), "num", decimals=0),
                     Column("n_patients", "n", "int", italic_label=True)),
                    note="*n* = number of patients with a row at that occasion.")
        yield Table("sample_missing", "Missing Item Responses by Instrument", r.missingness,
                    (Column("label", "Instrument", "text"),
                     Column("n_items", "Items", "int"),
                     Column("cells", "Item responses", "int"),
                     Column("prop_cells_missing", "% missing", "percent"),
                     Column("prop_rows_any_missing", "% assessments with any missing", "percent"),
                     Column("prop_rows_all_missing", "% assessments all missing", "percent")),
                    note="Percentages of all item responses and of all assessments (rows) in "
                         "the data.")

    return section(results, "sample", KEY, TITLE, blocks)
