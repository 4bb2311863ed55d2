"""The store and ingest on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sqlalchemy import func, select, text

from psychometrics.exceptions import DataValidationError
from psychometrics.scoring import score
from psychometrics.tracking.ingestion import ingest
from psychometrics.tracking.schema import (assessment_history, assessments, batches, metadata,
                                           patients, rejections)
from psychometrics.tracking.store import (StoreError, current_revision, head_revision, init_db,
                                          open_store)

TODAY = dt.date(2026, 1, 31)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def small(clinic_csv, n_patients=6) -> pd.DataFrame:
    df = pd.read_csv(clinic_csv, dtype={"date": str, "note": str})
    keep = sorted(df["id"].unique())[:n_patients]
    return df[df["id"].isin(keep)].reset_index(drop=True)


def test_migrations_give_the_declared_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    init_db(engine)                                   # idempotent
    assert current_revision(engine) == head_revision()


def test_open_store_refuses_an_uninitialised_database(tmp_path):
    with pytest.raises(StoreError, match="track init"):
        open_store(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_ingest_scores_with_the_bank_and_is_idempotent(engine, clinic_csv, tmp_path):
    df = small(clinic_csv)
    path = tmp_path / "a.csv"
    df.to_csv(path, index=False)
    first = ingest(engine, path, today=TODAY, signals=False)
    assert (first.n_rows, first.n_new, first.n_rejected) == (len(df), len(df), 0)
    assert first.rows["status"].eq("new").all()
    n_assess, n_pat = count(engine, assessments), count(engine, patients)
    assert n_assess == len(df) and n_pat == df["id"].nunique()

    again = ingest(engine, path, today=TODAY, signals=False)
    assert (again.n_unchanged, again.n_new, again.n_corrected, again.n_rejected) == \
        (len(df), 0, 0, 0)
    assert again.previous_batch == first.batch_id
    assert (count(engine, assessments), count(engine, patients)) == (n_assess, n_pat)
    assert again.rows["assessment_id"].tolist() == first.rows["assessment_id"].tolist()

    # the stored score of every row equals the scoring engine's on the same responses
    with engine.connect() as conn:
        stored = pd.DataFrame(conn.execute(
            select(patients.c.code, assessments.c.instrument, assessments.c.session,
                   assessments.c.score, assessments.c.scores)
            .join(patients, patients.c.id == assessments.c.patient_id)).all(),
            columns=["id", "instrument", "session", "score", "scores"])
    for name in ("oq-45.2", "wai-sr"):
        sub = df[df["instrument"] == name].reset_index(drop=True)
        ref = score(sub, name).scores["total"].to_numpy()
        got = sub[["id", "session"]].merge(stored[stored["instrument"] == name],
                                           on=["id", "session"], how="left")
        assert len(got) == len(sub)
        assert_allclose(got["score"].to_numpy(float), ref, rtol=0, atol=1e-12)
        assert_allclose([json.loads(s)["total"] for s in got["scores"]], ref, rtol=0, atol=1e-12)


def test_conflicting_resubmission_is_refused_naming_the_row(engine, clinic_csv):
    df = small(clinic_csv, 2)
    ingest(engine, df, today=TODAY, signals=False)
    changed = df.copy()
    r = int(np.flatnonzero(changed["instrument"] == "oq-45.2")[2])
    changed.loc[r, "oq_1"] = (changed.loc[r, "oq_1"] + 1) % 5
    with engine.connect() as conn:
        before = conn.execute(select(assessments.c.content_hash).order_by(assessments.c.id)
                              ).scalars().all()
    res = ingest(engine, changed, today=TODAY, signals=False)
    assert res.n_rejected == 1 and res.n_unchanged == len(df) - 1
    rej = res.rejected.iloc[0]
    assert rej["row"] == r
    assert "conflicts with stored assessment #" in rej["reason"]
    assert f"session {changed.loc[r, 'session']}" in rej["reason"]
    assert "--correct" in rej["reason"]
    with engine.connect() as conn:
        after = conn.execute(select(assessments.c.content_hash).order_by(assessments.c.id)
                             ).scalars().all()
        stored = conn.execute(select(rejections.c.row, rejections.c.reason)
                              .where(rejections.c.batch_id == res.batch_id)).all()
    assert after == before                              # nothing overwritten
    assert [(s.row, s.reason) for s in stored] == [(r, rej["reason"])]


def test_correction_is_recorded_with_its_history(engine, clinic_csv):
    df = small(clinic_csv, 2)
    first = ingest(engine, df, today=TODAY, signals=False)
    r = int(np.flatnonzero(df["instrument"] == "oq-45.2")[1])
    fixed = df.iloc[[r]].copy()
    fixed["oq_2"] = (fixed["oq_2"] + 2) % 5
    aid = int(first.rows.loc[r, "assessment_id"])
    with engine.connect() as conn:
        old = conn.execute(select(assessments).where(assessments.c.id == aid)).one()
    res = ingest(engine, fixed, mode="correct", today=TODAY, signals=False)
    assert (res.n_corrected, res.n_rejected) == (1, 0)
    assert int(res.rows.loc[0, "assessment_id"]) == aid
    with engine.connect() as conn:
        new = conn.execute(select(assessments).where(assessments.c.id == aid)).one()
        hist = conn.execute(select(assessment_history)
                            .where(assessment_history.c.assessment_id == aid)).all()
    assert new.revision == 2 and old.revision == 1
    assert json.loads(new.responses)[1] == int(fixed["oq_2"].iloc[0])
    ref = score(fixed.reset_index(drop=True), "oq-45.2").scores["total"].iloc[0]
    assert_allclose(new.score, ref, rtol=0, atol=1e-12)
    assert len(hist) == 1
    assert (hist[0].revision, hist[0].responses, hist[0].score) == \
        (1, old.responses, old.score)
    assert hist[0].replaced_by_batch == res.batch_id
    # the same correction again changes nothing
    again = ingest(engine, fixed, mode="correct", today=TODAY, signals=False)
    assert (again.n_unchanged, again.n_corrected) == (1, 0)
    assert count(engine, assessment_history) == 1


def test_every_row_accounted_for_with_bad_rows(engine, clinic_csv):
    df = small(clinic_csv, 3)
    oq = np.flatnonzero(df["instrument"] == "oq-45.2")
    bad = df.copy()
    bad["oq_7"] = bad["oq_7"].astype(object)
    bad.loc[oq[0], "oq_5"] = 7                                 # outside 0..4
    bad.loc[oq[1], "date"] = "2027-03-01"                      # after TODAY
    bad.loc[oq[2], "date"] = "31/02/2025"                      # not a date
    bad.loc[oq[3], "session"] = 0
    bad.loc[oq[4], "instrument"] = "oq-99"
    bad.loc[oq[5], "id"] = None
    bad.loc[oq[6], "oq_7"] = "often"                           # text
    res = ingest(engine, bad, today=TODAY, signals=False)
    assert res.n_rows == len(bad) == res.n_new + res.n_unchanged + res.n_corrected + \
        res.n_rejected
    rej = res.rejected.set_index("row")
    expect = {oq[0]: ("oq_5", "outside the response scale"), oq[1]: ("date", "in the future"),
              oq[2]: ("date", "YYYY-MM-DD"), oq[3]: ("session", "whole number"),
              oq[4]: ("instrument", "unknown instrument"), oq[5]: ("id", "id is missing"),
              oq[6]: ("oq_7", "")}
    assert sorted(rej.index) == sorted(int(k) for k in expect)
    for row, (col, words) in expect.items():
        assert rej.loc[row, "column"] == col
        assert words in rej.loc[row, "reason"]
    assert count(engine, assessments) == res.n_new
    assert count(engine, rejections) == res.n_rejected


def test_duplicate_rows_within_a_file(engine, clinic_csv):
    df = small(clinic_csv, 1)
    dup = pd.concat([df, df.iloc[[0]], df.iloc[[1]]], ignore_index=True)
    dup.loc[len(df) + 1, "oq_3"] = (dup.loc[len(df) + 1, "oq_3"] + 1) % 5
    dup.loc[len(df) + 1, "instrument"] = df.loc[1, "instrument"]
    res = ingest(engine, dup, today=TODAY, signals=False)
    rej = res.rejected.set_index("row")
    assert res.n_new == len(df) and res.n_rejected == 2
    assert "repeats row 0" in rej.loc[len(df), "reason"]
    assert "conflicts with row 1" in rej.loc[len(df) + 1, "reason"]


def test_malformed_files_are_refused_whole(engine, tmp_path):
    p = tmp_path / "broken.csv"
    p.write_text('id,therapist,instrument,session\n"P1,T1,oq-45.2,1\nP2,T1\n')
    with pytest.raises(DataValidationError, match="broken.csv"):
        ingest(engine, p, signals=False)
    p2 = tmp_path / "nocols.csv"
    p2.write_text("patient,when\nP1,1\n")
    with pytest.raises(DataValidationError, match=r"lacks the column\(s\) \['id', 'therapist'"):
        ingest(engine, p2, signals=False)
    p3 = tmp_path / "empty.csv"
    p3.write_text("")
    with pytest.raises(DataValidationError, match="empty"):
        ingest(engine, p3, signals=False)
    assert count(engine, assessments) == 0 and count(engine, batches) == 0


def test_unknown_patient_and_occasion_on_correction(engine, clinic_csv):
    df = small(clinic_csv, 1)
    ingest(engine, df, today=TODAY, signals=False)
    corr = df.iloc[[0, 1]].copy()
    corr.loc[corr.index[0], "id"] = "P999999"
    corr.loc[corr.index[1], "session"] = 40
    res = ingest(engine, corr, mode="correct", today=TODAY, signals=False)
    rej = res.rejected.set_index("row")
    assert "unknown patient 'P999999'" in rej.loc[0, "reason"]
    assert "to correct" in rej.loc[1, "reason"]
    assert count(engine, patients) == 1


def test_session_number_going_backwards(engine, clinic_csv):
    df = small(clinic_csv, 1)
    oq = df[df["instrument"] == "oq-45.2"].reset_index(drop=True)
    ingest(engine, oq.iloc[:3], today=TODAY, signals=False)
    late = oq.iloc[[3]].copy()
    late["date"] = oq.loc[1, "date"]                           # session 4 dated like session 2
    ok_row = oq.iloc[[4]] if len(oq) > 4 else None
    frame = pd.concat([late] + ([ok_row] if ok_row is not None else []), ignore_index=True)
    res = ingest(engine, frame, today=TODAY, signals=False)
    reason = res.rejected.set_index("row").loc[0, "reason"]
    assert "goes backwards in time" in reason and "session 4" in reason
    assert "session 3" in reason
    assert res.n_new == len(frame) - 1


def test_sql_and_html_in_free_text_are_stored_as_text(engine, clinic_csv):
    df = small(clinic_csv, 1).iloc[:2].copy()
    evil = "<script>alert('x')</script>'; DROP TABLE patients; --"
    df["note"] = [evil, "Robert'); DELETE FROM assessments;--"]
    df.loc[0, "id"] = "P0'; DROP TABLE assessments;--"
    df.loc[1, "id"] = df.loc[0, "id"]
    res = ingest(engine, df, today=TODAY, signals=False)
    assert res.n_new == 2
    with engine.connect() as conn:
        notes = conn.execute(select(assessments.c.note).order_by(assessments.c.session)
                             ).scalars().all()
        codes = conn.execute(select(patients.c.code)).scalars().all()
        tables = set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if engine.dialect.name ==
            "sqlite" else "SELECT tablename FROM pg_tables WHERE schemaname='public'")
        ).scalars())
    assert notes == [evil, "Robert'); DELETE FROM assessments;--"]
    assert codes == ["P0'; DROP TABLE assessments;--"]
    assert {"patients", "assessments"} <= tables
