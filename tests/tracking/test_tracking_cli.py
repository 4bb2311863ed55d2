"""``psychometrics track init|ingest|signals|export|user`` (``serve`` is the web page; it is
tested in test_web.py and test_browser.py through the same app)."""
from __future__ import annotations

import pandas as pd
from numpy.testing import assert_allclose

from psychometrics.cli import main
from psychometrics.scoring import score


def test_track_commands_end_to_end(tmp_path, clinic_csv, capsys):
    db = str(tmp_path / "c.db")
    assert main(["track", "init", "--db", db]) == 0
    assert main(["track", "init", "--db", db]) == 0
    assert "schema revision 0001" in capsys.readouterr().out

    assert main(["track", "ingest", str(clinic_csv), "--db", db, "--no-signals"]) == 0
    out = capsys.readouterr().out
    assert "new 1820, unchanged 0, corrected 0, rejected 0" in out

    assert main(["track", "ingest", str(clinic_csv), "--db", db, "--no-signals"]) == 0
    assert "new 0, unchanged 1820" in capsys.readouterr().out

    sig = tmp_path / "signals.csv"
    assert main(["track", "signals", "--db", db, "--out", str(sig)]) == 0
    out = capsys.readouterr().out
    assert "Expected recovery" in out and "alliance_rupture" in out
    assert len(pd.read_csv(sig)) > 0

    exp = tmp_path / "export.csv"
    assert main(["track", "export", str(exp), "--db", db, "--instrument", "oq-45.2"]) == 0
    back = pd.read_csv(exp)
    src = pd.read_csv(clinic_csv)
    src = src[src["instrument"] == "oq-45.2"]
    assert len(back) == len(src)
    # the exported items score to the exported totals with the package itself
    assert_allclose(score(back, "oq-45.2").scores["total"].to_numpy(),
                    back["total"].to_numpy(), rtol=0, atol=1e-12)
    assert {"id", "cluster", "time", "date", "revision"} <= set(back.columns)

    pw = tmp_path / "pw"
    pw.write_text("a-long-password\n")
    assert main(["track", "user", "ann", "--role", "therapist", "--therapist", "T000",
                 "--password-file", str(pw), "--db", db]) == 0
    capsys.readouterr()


def test_rejected_rows_exit_code_and_file(tmp_path, clinic_csv, capsys):
    db = str(tmp_path / "c.db")
    main(["track", "init", "--db", db])
    df = pd.read_csv(clinic_csv).head(5)
    assert df.loc[3, "instrument"] == "oq-45.2"
    df.loc[3, "oq_1"] = 11
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    rej = tmp_path / "rej.csv"
    assert main(["track", "ingest", str(bad), "--db", db, "--rejected", str(rej)]) == 1
    table = pd.read_csv(rej)
    assert table["row"].tolist() == [3] and "outside the response scale" in table["reason"][0]
    capsys.readouterr()


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["track", "ingest", str(tmp_path / "x.csv"), "--db",
                 str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no tracking store") and "track init" in err
    db = str(tmp_path / "c.db")
    main(["track", "init", "--db", db])
    assert main(["track", "ingest", str(tmp_path / "x.csv"), "--db", db]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_ingest_reads_a_semicolon_latin1_file_with_the_read_options(tmp_path, clinic_csv, capsys):
    # what European Excel writes: ';' separated, cp1252/latin-1 text (a therapist code with 'é')
    df = pd.read_csv(clinic_csv).head(40)
    df["therapist"] = df["therapist"].astype(str) + "é"
    src = tmp_path / "week.csv"
    df.to_csv(src, sep=";", index=False, encoding="latin-1")
    db = str(tmp_path / "c.db")
    assert main(["track", "init", "--db", db]) == 0
    assert main(["track", "ingest", str(src), "--db", db, "--no-signals"]) == 2
    assert "--encoding" in capsys.readouterr().err
    assert main(["track", "ingest", str(src), "--db", db, "--no-signals", "--sep", ";",
                 "--encoding", "latin-1"]) == 0
    assert "new 40, unchanged 0, corrected 0, rejected 0" in capsys.readouterr().out
