"""Ingesting a file of assessments: validate, score with the bank, store idempotently.

An input file has one row per administration: ``id`` (patient), ``therapist``,
``instrument`` (a shipped bank, e.g. ``oq-45.2``, ``wai-sr``), ``session`` (1 = intake),
optionally ``date`` (ISO ``YYYY-MM-DD``), ``form`` and ``note`` (free text), and one column
per item (``oq_1`` ... ``oq_45``, ``wai_1`` ... ``wai_12``). Rows of several instruments may
share a file. The key of an assessment is (patient, instrument, session).

Every input row ends with one status in :attr:`IngestResult.rows`: ``new``, ``unchanged``
(the same content is already stored: ingesting a file twice changes nothing),
``corrected`` (``mode="correct"``: the stored version moves to ``assessment_history``) or
``rejected`` with the column, value and a sentence saying why and how to fix it.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine

from ..exceptions import DataIssue, DataValidationError
from ..io.files import read_responses
from ..results import Summary
from ..scoring import score as _score
from .instruments import instrument, known_instruments, role_of
from .schema import assessment_history, assessments, batches, patients, rejections

__all__ = ["ingest", "IngestResult", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"]

REQUIRED_COLUMNS = ("id", "therapist", "instrument", "session")
OPTIONAL_COLUMNS = ("date", "form", "note")
MAX_CODE = 64
MAX_NOTE = 10_000
STATUSES = ("new", "unchanged", "corrected", "rejected")


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did, row by row.

    Attributes
    ----------
    batch_id : int
        The ``batches`` row recording this ingest.
    source : str
        File name (or ``"<DataFrame>"``).
    sha256 : str
        Digest of the file's bytes.
    mode : {"add", "correct"}
    n_rows, n_new, n_unchanged, n_corrected, n_rejected : int
        ``n_rows == n_new + n_unchanged + n_corrected + n_rejected``.
    rows : DataFrame
        One row per input row: ``row`` (0-based data row; file line ``row + 2``), ``id``,
        ``instrument``, ``session``, ``status``, ``assessment_id``, ``column``, ``value``,
        ``reason``.
    previous_batch : int or None
        An earlier batch with the same file digest (the file was ingested before).
    assessment_ids : tuple of int
        Stored assessments that are new or corrected (their signals are due).
    """

    batch_id: int
    source: str
    sha256: str
    mode: str
    n_rows: int
    n_new: int
    n_unchanged: int
    n_corrected: int
    n_rejected: int
    rows: pd.DataFrame = field(repr=False)
    previous_batch: int | None = None
    assessment_ids: tuple = field(default=(), repr=False)

    @property
    def rejected(self) -> pd.DataFrame:
        """The rejected rows with their reasons."""
        return self.rows[self.rows["status"] == "rejected"].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The per-row table (``rows``)."""
        return self.rows

    def summary(self) -> Summary:
        header = [f"Source: {self.source} (sha256 {self.sha256[:12]}...), mode {self.mode}, "
                  f"batch {self.batch_id}",
                  f"Rows: {self.n_rows}; new {self.n_new}, unchanged {self.n_unchanged}, "
                  f"corrected {self.n_corrected}, rejected {self.n_rejected}"]
        if self.previous_batch is not None:
            header.append(f"This file was ingested before (batch {self.previous_batch}).")
        blocks = []
        if self.n_rejected:
            blocks.append(("Rejected rows", self.rejected[["row", "id", "instrument", "session",
                                                           "column", "value", "reason"]]))
        return Summary("Tracking ingest", tuple(header), tuple(blocks))


# --------------------------------------------------------------------------- reading
def _read(data: pd.DataFrame | str | os.PathLike,
          reading: dict | None = None) -> tuple[pd.DataFrame, str, str]:
    if isinstance(data, pd.DataFrame):
        raw = data.to_csv(index=False).encode()
        return data.reset_index(drop=True).copy(), "<DataFrame>", hashlib.sha256(raw).hexdigest()
    path = Path(data)
    if not path.is_file():
        raise DataValidationError(f"Assessment file {path} does not exist (or is not a file).")
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise DataValidationError(f"Assessment file {path} is empty; it needs a header row "
                                  f"with {', '.join(REQUIRED_COLUMNS)} and the item columns.")
    # the package's one file reader (encoding, separator, decimal comma, Excel, SPSS,
    # parquet), with the key columns kept as text as written
    try:
        frame = read_responses(path, na_values=("",), allow_empty=True,
                               text_columns=("id", "therapist", "instrument", "form", "note",
                                             "date"), **(reading or {}))
    except ValueError as exc:       # DataValidationError, or an unknown extension
        if isinstance(exc, DataValidationError):
            raise DataValidationError(f"Assessment file: {exc.summary} Nothing was "
                                      f"stored.", exc.issues, hint=exc.hint) from None
        raise DataValidationError(f"Assessment file {path}: {exc}") from None
    return frame, path.name, digest


def _check_columns(frame: pd.DataFrame, source: str) -> None:
    cols = [str(c) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if missing:
        raise DataValidationError(
            f"Assessment file {source} lacks the column(s) {missing}; it needs "
            f"{list(REQUIRED_COLUMNS)} (optional {list(OPTIONAL_COLUMNS)}) and one column per "
            f"item. Its columns are {cols[:15]}; nothing was stored.")
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DataValidationError(f"Assessment file {source} has repeated column names {dup}; "
                                  "nothing was stored.")


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    """A text column with surrounding blanks removed and empty cells as None."""
    if col not in frame.columns:
        return pd.Series([None] * len(frame), dtype=object)
    s = frame[col]
    missing = s.isna().to_numpy()
    out = s.astype(str).str.strip().astype(object)
    out[missing | (out == "").to_numpy()] = None
    return out.reset_index(drop=True)


def _json_lists(arr: np.ndarray) -> np.ndarray:
    """Each row of a float array as a JSON list (integers without a decimal point, NaN as
    null). Rows of single digits, the usual case, are built at once as bytes."""
    n, k = arr.shape
    out = np.empty(n, dtype=object)
    finite = np.isfinite(arr)
    simple = finite.all(axis=1) & ((arr >= 0) & (arr <= 9) & (arr == np.round(arr))).all(axis=1)
    if simple.any():
        buf = np.full((int(simple.sum()), 2 * k + 1), ord(","), dtype=np.uint8)
        buf[:, 0], buf[:, -1] = ord("["), ord("]")
        buf[:, 1:-1:2] = arr[simple].astype(np.uint8) + ord("0")
        w = 2 * k + 1
        text = buf.tobytes().decode("ascii")
        out[simple] = [text[j:j + w] for j in range(0, len(text), w)]
    for i in np.flatnonzero(~simple):
        out[i] = "[" + ",".join("null" if not np.isfinite(v) else
                                (str(int(v)) if v == round(v) else repr(float(v)))
                                for v in arr[i]) + "]"
    return out


def _bulk_insert(conn, table, rows: list[tuple], columns: list[str]) -> None:
    """executemany straight to the driver (SQLAlchemy's per-row parameter processing costs
    more than the database for half a million rows). Values must already be of the
    driver's types."""
    if not rows:
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=columns)
    sql = str(compiled)
    if compiled.positiontup is not None:            # qmark / format: positional
        order = [columns.index(c) for c in compiled.positiontup]
        params = rows if order == list(range(len(columns))) else \
            [tuple(r[j] for j in order) for r in rows]
    else:                                            # named / pyformat
        params = [dict(zip(columns, r)) for r in rows]
    conn.exec_driver_sql(sql, params)


# --------------------------------------------------------------------------- ingest
def ingest(engine: Engine, data: pd.DataFrame | str | os.PathLike, *,
           mode: Literal["add", "correct"] = "add", today: _dt.date | None = None,
           signals: bool = True, reading: dict | None = None) -> IngestResult:
    """Validate, score and store a file of assessments.

    Parameters
    ----------
    engine : Engine
        From :func:`psychometrics.tracking.open_store`.
    data : path or DataFrame
        CSV/TSV/parquet/xlsx with the columns described in the module docstring.
    mode : {"add", "correct"}, default "add"
        ``"add"``: new assessments are stored, identical re-submissions are counted as
        unchanged, and a re-submission with different content is rejected naming the
        stored assessment. ``"correct"``: every row must refer to a stored assessment;
        a row with different content replaces it, the old version is kept in the history.
    today : date, optional
        Dates after this day are rejected (default: the current UTC date).
    signals : bool, default True
        Compute the signals of the new and corrected assessments (and of later
        assessments of corrected patients) with the newest models.
    reading : dict, optional
        Options of :func:`psychometrics.io.read_responses` for the file (``sep``, ``decimal``,
        ``encoding``, ``sheet``; the command line's ``--sep/--decimal/--encoding/--sheet``).

    Returns
    -------
    IngestResult

    Raises
    ------
    DataValidationError
        The file cannot be read or lacks a required column (nothing is stored). Problems of
        single rows never raise: those rows are rejected and listed.
    """
    if mode not in ("add", "correct"):
        raise ValueError(f"The 'mode' parameter must be 'add' or 'correct'. Got {mode!r} instead.")
    today = today or _dt.datetime.now(_dt.timezone.utc).date()
    frame, source, digest = _read(data, reading)
    _check_columns(frame, source)
    n = len(frame)
    reason = np.full(n, None, dtype=object)
    rcol = np.full(n, None, dtype=object)
    rval = np.full(n, None, dtype=object)
    is_rej = np.zeros(n, dtype=bool)

    def reject(mask, column, values, text):
        """Reject rows in ``mask`` not yet rejected (the first reason of a row is kept)."""
        m = np.asarray(mask, dtype=bool) & ~is_rej
        if not m.any():
            return
        idx = np.flatnonzero(m)
        is_rej[idx] = True
        reason[idx] = text[idx] if isinstance(text, np.ndarray) else text
        rcol[idx] = column
        vals = np.asarray(values, dtype=object)
        rval[idx] = vals[idx]

    def reject_one(i, column, value, text):
        if not is_rej[i]:
            is_rej[i] = True
            reason[i], rcol[i], rval[i] = text, column, value

    pid = _text(frame, "id")
    ther = _text(frame, "therapist")
    inst = _text(frame, "instrument").map(lambda v: v.lower() if isinstance(v, str) else v)
    form_in = _text(frame, "form")
    note = _text(frame, "note")
    pid_a, ther_a, inst_a = pid.to_numpy(object), ther.to_numpy(object), inst.to_numpy(object)

    for col, s in (("id", pid), ("therapist", ther), ("instrument", inst)):
        blank = s.isna().to_numpy() | (s.fillna("") == "").to_numpy()
        reject(blank, col, s.to_numpy(object), f"the {col} is missing; every row needs one.")
        long = s.fillna("").str.len().to_numpy() > MAX_CODE
        reject(long, col, s.to_numpy(object), f"the {col} is longer than {MAX_CODE} characters.")
    known = set(known_instruments())
    reject(~inst.isin(known).to_numpy(), "instrument", inst_a,
           f"unknown instrument; the shipped banks are {sorted(known)}.")
    long_note = note.fillna("").str.len().to_numpy() > MAX_NOTE
    reject(long_note, "note", note.fillna("").str.slice(0, 40).to_numpy(object),
           f"the note is longer than {MAX_NOTE} characters.")

    sess_raw = frame["session"]
    sess = pd.to_numeric(sess_raw, errors="coerce").to_numpy(float)
    bad_sess = ~np.isfinite(sess) | (sess < 1) | (np.round(sess) != sess) | (sess > 1e6)
    reject(bad_sess, "session", sess_raw.to_numpy(object),
           "the session must be a whole number from 1 (intake) upwards.")
    session = np.where(bad_sess, -1, sess).astype(np.int64)

    if "date" in frame.columns:
        draw = _text(frame, "date")
        dates = pd.to_datetime(draw, errors="coerce", format="ISO8601")
        bad_date = draw.notna().to_numpy() & dates.isna().to_numpy()
        reject(bad_date, "date", draw.to_numpy(object),
               "the date is not a date in the form YYYY-MM-DD.")
        future = (dates > pd.Timestamp(today)).to_numpy()
        reject(future, "date", draw.to_numpy(object),
               f"the date lies in the future (after {today.isoformat()}); check the year.")
        date64 = dates.to_numpy("datetime64[ns]")
        date_s = dates.dt.strftime("%Y-%m-%d").to_numpy(object)
        date_s[pd.isna(dates).to_numpy()] = None
    else:
        date64 = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        date_s = np.full(n, None, dtype=object)

    # ---- score each instrument's rows with its bank (row problems -> rejected rows)
    scores_json = np.full(n, None, dtype=object)
    tracked = np.full(n, np.nan)
    resp_json = np.full(n, None, dtype=object)
    form_a = np.full(n, None, dtype=object)
    ok = ~is_rej
    for name in sorted(set(inst_a[ok])):
        spec = instrument(name)
        rows_i = np.flatnonzero(ok & (inst_a == name))
        forms = form_in.to_numpy(object)[rows_i]
        default = spec.default_form
        forms = np.array([f if f is not None else (default or "") for f in forms], dtype=object)
        for fname in sorted(set(forms)):
            idx = rows_i[forms == fname]
            if fname and fname not in spec.forms:
                reject(np.isin(np.arange(n), idx), "form", form_in.to_numpy(object),
                       f"{name} has no form {fname!r}; its forms are {list(spec.forms)}.")
                continue
            _score_rows(frame, idx, spec, fname or None, reject, scores_json, tracked,
                        resp_json, n)
            form_a[idx] = fname or ""

    # ---- content hash and duplicate keys within the file
    ok = ~is_rej
    key = pd.DataFrame({"id": pid_a, "instrument": inst_a, "session": session})
    content = np.full(n, None, dtype=object)
    okidx = np.flatnonzero(ok)
    note_a = note.to_numpy(object)
    content[okidx] = [
        hashlib.sha1(f"{a}|{f}|{d or ''}|{r}|{t or ''}".encode()).hexdigest()
        for a, f, d, r, t in zip(inst_a[okidx].tolist(), form_a[okidx].tolist(),
                                 date_s[okidx].tolist(), resp_json[okidx].tolist(),
                                 note_a[okidx].tolist())]
    sub = key.iloc[okidx]
    grp = sub.assign(_pos=okidx).groupby(["id", "instrument", "session"], sort=False)
    first = grp.cumcount().to_numpy() > 0
    if first.any():
        first_pos = grp["_pos"].transform("first").to_numpy()
        for j in np.flatnonzero(first):
            i, f = okidx[j], int(first_pos[j])
            same = content[i] == content[f]
            text = (f"repeats row {f} (file line {f + 2}) exactly; counted once there."
                    if same else f"conflicts with row {f} (file line {f + 2}): same patient, "
                    "instrument and session with different content; keep one of them.")
            reject_one(i, "session", int(session[i]), text)

    # ---- compare with the store
    ok = ~is_rej
    status = np.full(n, None, dtype=object)
    aid = np.full(n, None, dtype=object)
    with engine.begin() as conn:
        prev = conn.execute(select(batches.c.id).where(batches.c.sha256 == digest)
                            .order_by(batches.c.id)).scalars().first()
        codes = sorted(set(pid_a[ok]))
        known_p = _patients(conn, codes)                      # code -> (pid, therapist)
        stored = _stored(conn, [known_p[c][0] for c in codes if c in known_p])
        known_rows = ok & pd.Series(pid_a).isin(set(known_p)).to_numpy()
        if mode == "add":                       # rows of patients not stored yet are new
            status[ok & ~known_rows] = "new"
            loop = np.flatnonzero(known_rows).tolist()
        else:
            loop = np.flatnonzero(ok).tolist()
        for i in loop:
            code = pid_a[i]
            kp = known_p.get(code)
            if kp is not None and kp[1] != ther_a[i]:
                reject_one(i, "therapist", ther_a[i],
                       f"patient {code!r} is stored under therapist {kp[1]!r}, this row gives "
                       f"{ther_a[i]!r}; transfers are not ingested, correct the therapist.")
                continue
            if mode == "correct" and kp is None:
                reject_one(i, "id", code,
                       f"unknown patient {code!r}: a correction must refer to a stored "
                       "assessment (ingest new assessments without --correct).")
                continue
            rec = stored.get((kp[0], inst_a[i], int(session[i]))) if kp else None
            if rec is None:
                if mode == "correct":
                    reject_one(i, "session", int(session[i]),
                           f"no stored {inst_a[i]} assessment of patient {code!r} at session "
                           f"{session[i]} to correct.")
                    continue
                status[i] = "new"
            elif rec["content_hash"] == content[i]:
                status[i], aid[i] = "unchanged", rec["id"]
            elif mode == "correct":
                status[i], aid[i] = "corrected", rec["id"]
            else:
                reject_one(i, "session", int(session[i]),
                       f"conflicts with stored assessment #{rec['id']} ({inst_a[i]}, patient "
                       f"{code!r}, session {session[i]}, revision {rec['revision']}): the "
                       "content differs. To replace it, ingest the row with --correct "
                       "(mode='correct'); the stored version is kept in the history.")
        _check_order(ok & np.isin(status, ["new", "corrected"]), pid_a, inst_a, session,
                     date64, known_p, stored, reject_one)
        status[is_rej] = "rejected"

        now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
        counts = {s: int((status == s).sum()) for s in STATUSES}
        batch_id = conn.execute(insert(batches).values(
            filename=source[:255], sha256=digest, mode=mode, n_rows=n, n_new=counts["new"],
            n_unchanged=counts["unchanged"], n_corrected=counts["corrected"],
            n_rejected=counts["rejected"], created_at=now)).inserted_primary_key[0]

        new_idx = np.flatnonzero(status == "new")
        new_codes = sorted({pid_a[i] for i in new_idx} - set(known_p))
        if new_codes:
            first_ther = {}
            for i in new_idx:
                first_ther.setdefault(pid_a[i], ther_a[i])
            conn.execute(insert(patients), [{"code": c, "therapist": first_ther[c],
                                             "created_at": now} for c in new_codes])
            known_p.update(_patients(conn, new_codes))
            # two therapists for one new patient within this file: keep the first
        if len(new_idx):
            sqlite = conn.dialect.name == "sqlite"
            stamp = now.isoformat(sep=" ") if sqlite else now
            pids = [known_p[c][0] for c in pid_a[new_idx].tolist()]
            dates = (date_s[new_idx].tolist() if sqlite else
                     [None if pd.isna(d) else d.date() for d in pd.to_datetime(date64[new_idx])])
            sc = [None if v != v else v for v in tracked[new_idx].tolist()]
            cols = ["patient_id", "instrument", "form", "session", "date", "responses",
                    "scores", "score", "note", "content_hash", "revision", "batch_id",
                    "created_at"]
            m = len(new_idx)
            _bulk_insert(conn, assessments, list(zip(
                pids, inst_a[new_idx].tolist(), form_a[new_idx].tolist(),
                session[new_idx].tolist(), dates, resp_json[new_idx].tolist(),
                scores_json[new_idx].tolist(), sc, note_a[new_idx].tolist(),
                content[new_idx].tolist(), [1] * m, [batch_id] * m, [stamp] * m)), cols)
            ids = _stored(conn, sorted(set(pids)), ids_only=True)    # by the indexed key
            aid[new_idx] = [ids[k] for k in zip(pids, inst_a[new_idx].tolist(),
                                                session[new_idx].tolist())]
        corr_idx = np.flatnonzero(status == "corrected")
        if len(corr_idx):
            ids = [int(aid[i]) for i in corr_idx]
            old = {r.id: r for r in conn.execute(select(assessments).where(
                assessments.c.id.in_(ids)))}
            conn.execute(insert(assessment_history), [
                {"assessment_id": a, "revision": old[a].revision, "date": old[a].date,
                 "responses": old[a].responses, "scores": old[a].scores,
                 "score": old[a].score, "note": old[a].note, "batch_id": old[a].batch_id,
                 "replaced_by_batch": batch_id, "replaced_at": now} for a in ids])
            conn.execute(update(assessments).where(assessments.c.id == bindparam("a_id"))
                         .values(date=bindparam("date_"), form=bindparam("form"),
                                 responses=bindparam("responses"), scores=bindparam("scores"),
                                 score=bindparam("score"), note=bindparam("note"),
                                 content_hash=bindparam("content_hash"),
                                 revision=bindparam("revision"), batch_id=batch_id), [
                {"a_id": int(aid[i]), "date_": None if pd.isna(date64[i]) else
                 pd.Timestamp(date64[i]).date(), "form": form_a[i],
                 "responses": resp_json[i], "scores": scores_json[i],
                 "score": None if np.isnan(tracked[i]) else float(tracked[i]),
                 "note": note_a[i], "content_hash": content[i],
                 "revision": old[int(aid[i])].revision + 1} for i in corr_idx])
        rej_idx = np.flatnonzero(status == "rejected")
        if len(rej_idx):
            conn.execute(insert(rejections), [
                {"batch_id": batch_id, "row": int(i), "column": rcol[i],
                 "value": None if rval[i] is None else str(rval[i])[:200],
                 "reason": reason[i]} for i in rej_idx])

    rows = pd.DataFrame({
        "row": np.arange(n), "id": pid_a, "instrument": inst_a,
        "session": pd.array(np.where(session > 0, session, 0), dtype="Int64"),
        "status": pd.Categorical(status, categories=list(STATUSES)),
        "assessment_id": pd.array([None if a is None else int(a) for a in aid], dtype="Int64"),
        "column": rcol, "value": rval, "reason": reason})
    rows.loc[session <= 0, "session"] = pd.NA
    due = tuple(aid[np.isin(status, ["new", "corrected"])].tolist())
    result = IngestResult(batch_id, source, digest, mode, n, counts["new"],
                          counts["unchanged"], counts["corrected"], counts["rejected"], rows,
                          prev, due)
    if signals and due:
        from .signals import update_signals

        corrected_pat = {known_p[pid_a[i]][0] for i in corr_idx}
        update_signals(engine, list(due), later_of_patients=corrected_pat)
    return result


def _score_rows(frame, idx, spec, form, reject, scores_json, tracked, resp_json, n) -> None:
    """Score rows ``idx`` of one instrument and form; rows with bad responses are rejected."""
    role = role_of(spec.id)
    item_ids = [it.id for it in spec.items]
    present = [c for c in item_ids if c in frame.columns]
    if not present:
        reject(np.isin(np.arange(n), idx), "instrument", np.full(n, spec.id, dtype=object),
               f"the file has none of the {spec.id} item columns ({item_ids[0]} ... "
               f"{item_ids[-1]}).")
        return
    sub = frame.iloc[idx][present].reset_index(drop=True)
    try:
        res = _score(sub, spec, form=form)
    except DataValidationError as exc:
        # DataIssue rows are 1-based data rows; position = data row - 1
        rows = sorted({i.position for i in exc.issues if i.position is not None})
        if not rows:          # a problem of the whole group (e.g. a missing item column)
            reject(np.isin(np.arange(n), idx), "instrument",
                   np.full(n, spec.id, dtype=object), exc.summary)
            return
        by_row: dict[int, DataIssue] = {}
        for iss in exc.issues:
            if iss.position is not None:
                by_row.setdefault(iss.position, iss)
        for r, iss in by_row.items():
            mask = np.zeros(n, dtype=bool)
            mask[idx[r]] = True
            vals = np.full(n, iss.value, dtype=object)
            reject(mask, iss.column, vals, f"{spec.id}: {iss.problem}")
        keep = np.setdiff1d(np.arange(len(idx)), rows)
        if len(keep):
            _score_rows(frame, idx[keep], spec, form, reject, scores_json, tracked, resp_json, n)
        return
    sc = res.scores
    scale_cols = [c for c in sc.columns if c in spec.scales]
    vals = sc[scale_cols].to_numpy(float)
    tracked[idx] = sc[role.scale].to_numpy(float) if role.scale in sc.columns else np.nan
    scores_json[idx] = pd.DataFrame(vals, columns=scale_cols).to_json(
        orient="records", lines=True, double_precision=15).splitlines()
    arr = np.column_stack([pd.to_numeric(sub[c], errors="coerce").to_numpy(float)
                           if c in sub.columns else np.full(len(sub), np.nan)
                           for c in item_ids])
    resp_json[idx] = _json_lists(arr)


def _patients(conn, codes) -> dict:
    out = {}
    for k in range(0, len(codes), 900):
        chunk = codes[k:k + 900]
        for r in conn.execute(select(patients.c.code, patients.c.id, patients.c.therapist)
                              .where(patients.c.code.in_(chunk))):
            out[r.code] = (r.id, r.therapist)
    return out


def _stored(conn, pids, ids_only: bool = False) -> dict:
    """(patient_id, instrument, session) -> stored row facts (or only the id)."""
    out = {}
    a = assessments.c
    cols = (a.patient_id, a.instrument, a.session, a.id) + (
        () if ids_only else (a.content_hash, a.revision, a.date))
    for k in range(0, len(pids), 900):
        q = select(*cols).where(a.patient_id.in_(pids[k:k + 900]))
        if ids_only:
            out.update({(p, i, s): x for p, i, s, x in conn.execute(q)})
        else:
            for p, i, s, x, h, rev, d in conn.execute(q):
                out[(p, i, s)] = {"id": x, "content_hash": h, "revision": rev, "date": d}
    return out


def _check_order(cand, pid_a, inst_a, session, date64, known_p, stored, reject_one) -> None:
    """Reject candidate rows whose session number goes backwards in time.

    Per patient and instrument, sessions ordered by number must have non-decreasing dates,
    over the stored rows and the candidates together (a candidate replaces a stored row of
    the same key). Undated rows are not compared.
    """
    idx = np.flatnonzero(cand & ~np.isnat(date64))
    if not len(idx):
        return
    rec = []
    if stored:
        touched = set(zip(pid_a[idx].tolist(), inst_a[idx].tolist()))
        cand_keys = set(zip(pid_a[idx].tolist(), inst_a[idx].tolist(),
                            session[idx].tolist()))
        inv = {v[0]: c for c, v in known_p.items()}
        for (p, ins, s), r in stored.items():
            code = inv.get(p)
            if (code, ins) in touched and (code, ins, s) not in cand_keys \
                    and r["date"] is not None:
                rec.append((code, ins, s, pd.Timestamp(r["date"]), -1))
    df = pd.DataFrame(rec, columns=["id", "instrument", "session", "date", "row"])
    df = pd.concat([df.astype({"date": "datetime64[ns]"}),
                    pd.DataFrame({"id": pid_a[idx], "instrument": inst_a[idx],
                                  "session": session[idx], "date": date64[idx], "row": idx})],
                   ignore_index=True)
    df = df.sort_values(["id", "instrument", "session"], kind="stable").reset_index(drop=True)
    keys = [df["id"], df["instrument"]]
    prev_max = df["date"].groupby(keys).cummax().groupby(keys).shift(1)
    rev = df.iloc[::-1]
    rkeys = [rev["id"], rev["instrument"]]
    next_min = rev["date"].groupby(rkeys).cummin().groupby(rkeys).shift(1).iloc[::-1]
    bad = (df["row"] >= 0) & ((df["date"] < prev_max) | (df["date"] > next_min))
    for k in np.flatnonzero(bad.to_numpy()):
        r = df.iloc[k]
        same = df[(df["id"] == r["id"]) & (df["instrument"] == r["instrument"])]
        other = same[((same["session"] < r["session"]) & (same["date"] > r["date"]))
                     | ((same["session"] > r["session"]) & (same["date"] < r["date"]))].iloc[0]
        reject_one(int(r["row"]), "session", int(r["session"]),
                   f"the session number goes backwards in time: session {int(r['session'])} is "
                   f"dated {r['date'].date()}, but session {int(other['session'])} of the same "
                   f"patient and instrument is dated {other['date'].date()}; correct the "
                   "session number or the date.")
