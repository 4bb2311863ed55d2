"""The validated item-data object: the one input form every analysis accepts.

:func:`item_data` turns a DataFrame (or a file, read with
:func:`~psychometrics.io.read_responses`) into an :class:`ItemData`:

* item columns mapped to item ids (of a bank, or named by the user),
* responses range-checked once against the bank's response scale
  (:func:`~psychometrics.io.validate.check_responses`),
* the ``id``, ``time`` and ``group`` columns typed (whole-number ids and
  times as integers, times as numbers, groups as text categories),
* every dropped row counted with its reason (``.dropped``), every offending
  cell listed (``.issues``), all with 1-based data rows.

Scoring, reliability, EFA, SEM, the multilevel models, IRT and the report
take an ``ItemData`` wherever they take a DataFrame. The same module holds
the two checks every entry point shares: :func:`as_frame` (unwrap an
``ItemData``, refuse an empty frame) and :func:`numeric_matrix` (a float
matrix from item columns, naming every non-numeric or infinite cell).
"""
from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataQualityWarning, DataValidationError, plain
from .validate import OUT_OF_RANGE, CheckedColumn, check_responses, describe_problem

__all__ = ["ItemData", "item_data", "as_frame", "numeric_matrix", "column_map",
           "iter_item_columns", "ISSUE_COLUMNS", "DROP_COLUMNS"]

#: Columns of :attr:`ItemData.issues`: ``data_row`` is 1-based (header excluded),
#: NA for an issue of a whole column.
ISSUE_COLUMNS = ["data_row", "index", "column", "item", "value", "problem", "action"]
#: Columns of :attr:`ItemData.dropped`.
DROP_COLUMNS = ["data_row", "index", "reason"]

_EMPTY_POS = np.empty(0, dtype=np.intp)


# =============================================================================== shared checks
def as_frame(data: Any, func: str, *, argname: str = "data", items_only: bool = False,
             arrays: bool = False, allow_empty_rows: bool = False) -> pd.DataFrame:
    """``data`` as a DataFrame for the function ``func``, refusing empty input.

    An :class:`ItemData` gives its responses (``items_only=True``: the item
    columns, named by item id) or :meth:`ItemData.to_frame` (id, time, group
    and the item columns). A 2-D array or nested list is accepted with
    ``arrays=True`` (columns ``V1, V2, ...``).

    Raises
    ------
    TypeError
        ``data`` is neither a DataFrame, an ``ItemData`` nor (with
        ``arrays``) a 2-D array.
    DataValidationError
        ``data`` has no columns, or no rows (unless ``allow_empty_rows``).
    """
    if isinstance(data, ItemData):
        df = data.responses if items_only else data.to_frame()
    elif isinstance(data, pd.DataFrame):
        df = data
    elif arrays and (isinstance(data, np.ndarray)
                     or (isinstance(data, Sequence) and not isinstance(data, (str, bytes)))):
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(f"The {argname}= argument of {func} must be a DataFrame or a 2-D "
                             f"array (rows x columns); got an array with {arr.ndim} "
                             f"dimension(s).")
        df = pd.DataFrame(arr, columns=[f"V{i + 1}" for i in range(arr.shape[1])])
    else:
        what = "a pandas DataFrame, an ItemData" + (" or a 2-D array" if arrays else "")
        raise TypeError(f"The {argname}= argument of {func} must be {what}. Got "
                        f"{type(data).__name__} instead.")
    n, p = df.shape
    if p == 0 or (n == 0 and not allow_empty_rows):
        raise DataValidationError(
            f"The {argname}= argument of {func} is empty ({n} row(s), {p} column(s)); "
            f"{func} needs one row per observation and a column for every variable it uses. "
            f"If the data came from a file, check that the file has data rows below its "
            f"header (psychometrics.io.read_responses refuses an empty file).")
    return df


def numeric_matrix(df: pd.DataFrame, func: str, *, argname: str = "data",
                   max_listed: int = 20) -> np.ndarray:
    """The item columns of ``df`` as a float matrix (NaN = missing).

    Numeric text (``"3"``) becomes the number, blanks NaN. Text that is not a
    number, booleans and infinite values are errors naming each cell by its
    1-based data row and column.
    """
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataValidationError(f"The {argname}= argument of {func} has repeated column "
                                  f"names {dup}; give every column its own name.")
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
           for t in df.dtypes):
        x = df.to_numpy(dtype=float, na_value=np.nan)
    else:
        issues: list[DataIssue] = []
        cols = []
        for name, c in zip(names, df.columns):
            s = df[c]
            if pd.api.types.is_bool_dtype(s):
                issues.append(DataIssue(None, name, None, "a true/false column, not item "
                                                          "responses; code the answers as "
                                                          "numbers."))
                cols.append(np.full(len(s), np.nan))
                continue
            if pd.api.types.is_numeric_dtype(s):
                cols.append(s.to_numpy(dtype=float, na_value=np.nan))
                continue
            obj = s.astype(object)
            blank = obj.isna().to_numpy() | obj.map(
                lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
            conv = pd.to_numeric(obj.where(~blank, np.nan), errors="coerce")
            bad = np.flatnonzero(conv.isna().to_numpy() & ~blank)
            for pos in bad:
                issues.append(DataIssue(int(pos) + 1, name, obj.iat[pos],
                                        "not a number; item responses must be numbers (or "
                                        "blank for a missing answer)."))
            cols.append(conv.to_numpy(dtype=float, na_value=np.nan))
        if issues:
            raise DataValidationError(
                f"The {argname}= argument of {func} has {len(issues)} non-numeric value(s).",
                issues, max_listed=max_listed,
                hint="Recode the responses as numbers (psychometrics.io.item_data with the "
                     "instrument maps SPSS value labels), or leave the columns out.")
        x = np.column_stack(cols) if cols else np.empty((len(df), 0))
    inf = np.isinf(x)
    if inf.any():
        rows, cols_ = np.nonzero(inf)
        issues = [DataIssue(int(r) + 1, names[c], float(x[r, c]), "infinite value")
                  for r, c in zip(rows, cols_)]
        raise DataValidationError(f"The {argname}= argument of {func} contains {len(issues)} "
                                  f"infinite value(s).", issues, max_listed=max_listed,
                                  hint="Replace them with NaN (missing) or valid responses.")
    return x


# =============================================================================== column mapping
def column_map(columns: Mapping[str, str] | None, items: Sequence[str], all_items: Sequence[str],
               bank: str, func: str = "score") -> dict[str, str]:
    """Item id -> data column: the item id itself unless ``columns`` maps it.

    ``items`` are the items used (a form's), ``all_items`` every item of the
    bank (a key of ``columns`` may name any of them).
    """
    colmap = {i: i for i in items}
    if columns is None:
        return colmap
    if not isinstance(columns, Mapping):
        raise TypeError(f"The 'columns' parameter of {func} must map item ids to column names, "
                        f"e.g. {{'{items[0] if items else 'item'}': 'Q1'}}. "
                        f"Got {type(columns).__name__}.")
    unknown = [k for k in columns if k not in all_items]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(str(k), list(all_items), n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(f"The 'columns' parameter maps {', '.join(hints)}, which "
                         f"{'is' if len(unknown) == 1 else 'are'} not an item of "
                         f"{bank}; its keys must be item ids such as "
                         f"{list(all_items[:3])}.")
    for k, v in columns.items():
        if k in colmap:
            colmap[k] = v
    seen: dict[str, str] = {}
    for k, v in colmap.items():
        if v in seen:
            raise ValueError(f"The 'columns' parameter maps items {seen[v]!r} and {k!r} to the "
                             f"same column {v!r}; each item needs its own column.")
        seen[v] = k
    return colmap


def missing_column_problem(iid: str, col: str, columns, colmap: Mapping[str, str],
                           bank: str) -> str:
    """Why item ``iid`` has no column, with the closest column name as a hint."""
    taken = {str(c) for c in colmap.values()}
    close = difflib.get_close_matches(str(col), [str(c) for c in columns if str(c) not in taken],
                                      n=1)
    lower = {str(c).casefold(): str(c) for c in columns}
    hint = ""
    if str(col).casefold() in lower:
        hint = f" (the data have {lower[str(col).casefold()]!r}: names are case-sensitive)"
    elif close:
        hint = f" (did you mean {close[0]!r}?)"
    return (f"item column missing: item {iid!r} of {bank} has no column {col!r} "
            f"in the data{hint}; rename the column or map it with columns={{{iid!r}: ...}}.")


def iter_item_columns(data: pd.DataFrame, items: Sequence[str], colmap: Mapping[str, str],
                      lo: float, hi: float, integer: bool, bank: str
                      ) -> Iterator[tuple[str, str, CheckedColumn | None, str | None]]:
    """Check the item columns one at a time: ``(item, column, checked, problem)``.

    ``checked`` is None when the column is absent or repeated (``problem``
    says which, with a hint). The one place where responses are compared with
    a response scale: :func:`item_data` and the scoring engine both read
    their columns through it, one column at a time (so that scoring millions
    of rows never holds every item at once).
    """
    dup_cols = set(data.columns[data.columns.duplicated()])
    for iid in items:
        col = colmap[iid]
        if col in dup_cols:
            yield iid, col, None, (f"the column {col!r} occurs more than once in the data; "
                                   f"rename one so that item {iid!r} has a single column.")
        elif col not in data.columns:
            yield iid, col, None, missing_column_problem(iid, col, data.columns, colmap, bank)
        else:
            yield iid, col, check_responses(data[col], lo, hi, integer), None


def cell_issue_frame(bad_cells, index: pd.Index, lo: float, hi: float,
                     action: str) -> pd.DataFrame | None:
    """Issue rows (:data:`ISSUE_COLUMNS`) for the invalid cells of checked columns.

    ``bad_cells``: ``(positions, column, item, values, kinds)`` per column;
    rows are sorted by data row, then column order.
    """
    if not bad_cells:
        return None
    rows = np.concatenate([b[0] for b in bad_cells])
    order_col = np.concatenate([np.full(len(b[0]), k) for k, b in enumerate(bad_cells)])
    order = np.lexsort((order_col, rows))
    cols = np.array([b[1] for b in bad_cells], dtype=object)[order_col[order]]
    items = np.array([b[2] for b in bad_cells], dtype=object)[order_col[order]]
    vals = np.empty(len(rows), dtype=object)
    vals[:] = [v for b in bad_cells for v in b[3]]
    kinds = np.array([k for b in bad_cells for k in b[4]], dtype=object)
    msg = {k: describe_problem(k, lo, hi) for k in set(kinds.tolist())}
    problems = np.array([msg[k] for k in kinds[order].tolist()], dtype=object)
    r = rows[order]
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return pd.DataFrame({
        "data_row": r + 1, "index": r if default else index[r].to_numpy(dtype=object),
        "column": cols, "item": items, "value": vals[order], "problem": problems,
        "action": action})


# =============================================================================== the object
@dataclass(frozen=True, eq=False)
class ItemData:
    """Item responses checked once, ready for every analysis.

    Build it with :func:`item_data`. Every analysis of the package accepts it
    in place of a DataFrame: scoring uses the checked columns as they are
    (nothing is checked twice), reliability, EFA and IRT use
    :attr:`responses`, SEM and the multilevel models :meth:`to_frame`.

    Attributes
    ----------
    items : tuple of str
        Item ids, in bank order (the columns of :attr:`responses`).
    columns : dict
        Item id -> the data column it came from.
    instrument : Instrument or None
        The bank (as its form uses it); None for items named by the user.
    id, time, group : str or None
        Names of the key columns (kept under their own names).
    keys : DataFrame
        The id, time and group columns, typed, with the kept rows' index.
    scale : tuple or None
        ``(min, max, integer)`` of the response scale the items were checked
        against; None when no scale was given (responses only checked to be
        numbers).
    issues : DataFrame
        Columns :data:`ISSUE_COLUMNS`: every invalid cell (set missing under
        ``invalid="missing"``) and every absent item column.
    dropped : DataFrame
        Columns :data:`DROP_COLUMNS`: every input row left out, with its reason.
    n_input : int
        Rows of the input; ``n_input == len(self) + len(dropped)``.
    data_rows : numpy.ndarray
        The 1-based data row of every kept row.
    source : str or None
        The file read, if any.
    """

    items: tuple[str, ...]
    columns: dict[str, str]
    instrument: Any
    id: str | None
    time: str | None
    group: str | None
    keys: pd.DataFrame
    scale: tuple[float, float, bool] | None
    issues: pd.DataFrame
    dropped: pd.DataFrame
    n_input: int
    data_rows: np.ndarray
    source: str | None = None
    _checked: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def n_obs(self) -> int:
        """Rows kept."""
        return len(self.keys)

    @property
    def index(self) -> pd.Index:
        return self.keys.index

    @cached_property
    def responses(self) -> pd.DataFrame:
        """Item responses as float (NaN = blank or set missing), columns = item ids."""
        return pd.DataFrame({i: np.asarray(self._checked[i].values, dtype=np.float64)
                             for i in self.items}, index=self.keys.index, columns=list(self.items))

    def to_frame(self) -> pd.DataFrame:
        """The key columns (id, time, group) followed by the item columns."""
        return pd.concat([self.keys, self.responses], axis=1)

    def checked(self, item: str) -> CheckedColumn:
        """The checked column of ``item`` (values, blanks, int8 codes)."""
        return self._checked[item]

    def iter_checked(self) -> Iterator[tuple[str, str, CheckedColumn, None]]:
        """``(item, item, checked, None)`` per item, as :func:`iter_item_columns`
        yields them (the columns are already named by item id)."""
        for i in self.items:
            yield i, i, self._checked[i], None

    def __repr__(self) -> str:
        bank = getattr(self.instrument, "id", None)
        return (f"ItemData({len(self.items)} items{' of ' + bank if bank else ''}, "
                f"{self.n_obs} rows, {len(self.dropped)} dropped, {len(self.issues)} issues)")


def item_data(data: pd.DataFrame | str | os.PathLike, instrument: Any = None, *,
              form: str | None = None, items: Sequence[str] | None = None,
              columns: Mapping[str, str] | None = None, scale: tuple | None = None,
              id: str | None = None, time: str | None = None, group: str | None = None,
              invalid: Literal["raise", "missing"] = "raise", drop_empty: bool = False,
              missing_keys: Literal["raise", "drop"] = "raise",
              **read_options) -> ItemData:
    """Validate item responses once for every analysis.

    Parameters
    ----------
    data : DataFrame or path
        Wide data: one row per administration, one column per item. A path is
        read with :func:`~psychometrics.io.read_responses` (SPSS value labels
        mapped onto the instrument's response scale); ``read_options`` are
        passed on (``sep``, ``decimal``, ``encoding``, ``sheet`` ...).
    instrument : str, path or Instrument, optional
        The bank: its items (of ``form``) and response scale. Without it,
        ``items`` names the item columns and ``scale`` their range.
    form : str, optional
        A form of the bank (default its ``default_form``).
    items : sequence of str, optional
        Without a bank: the item columns. With one: a subset of its item ids.
    columns : mapping, optional
        Item id -> data column, where the column is named differently.
    scale : (min, max) or (min, max, integer), optional
        Response scale when no bank is given; without it, item responses are
        only checked to be numbers.
    id, time, group : str, optional
        Patient, occasion and group columns. ``id``: whole numbers become
        integers, text stays text; ``time`` must hold numbers; ``group`` is
        text. A blank key is an error (``missing_keys="raise"``) or drops the
        row (``"drop"``, counted in ``.dropped``).
    invalid : {"raise", "missing"}, default "raise"
        Responses outside the scale, fractions on an integer scale, text and
        absent item columns: one :class:`DataValidationError` listing every
        cell, or each set missing and listed in ``.issues``.
    drop_empty : bool, default False
        Drop rows in which no item is answered (counted in ``.dropped``).
    missing_keys : {"raise", "drop"}, default "raise"

    Returns
    -------
    ItemData

    Raises
    ------
    DataValidationError
        Invalid cells or absent columns (``invalid="raise"``), blank or
        non-numeric keys, an empty input. Rows are 1-based data rows.
    """
    if invalid not in ("raise", "missing"):
        raise ValueError(f"The 'invalid' parameter of item_data must be 'raise' or 'missing'. "
                         f"Got {invalid!r} instead.")
    if missing_keys not in ("raise", "drop"):
        raise ValueError(f"The 'missing_keys' parameter of item_data must be 'raise' or "
                         f"'drop'. Got {missing_keys!r} instead.")
    source = None
    inst = None
    full_ids: list[str] = []
    if instrument is not None:
        inst, full_ids = _resolve_instrument(instrument, form)
    if isinstance(data, (str, os.PathLike)):
        from .files import read_responses

        data = read_responses(data, instrument=inst, **read_options)
        source = data.attrs.get("source")
    elif read_options:
        raise TypeError(f"item_data got reading options {sorted(read_options)} but data= is "
                        f"not a file path.")
    if isinstance(data, ItemData):
        data = data.to_frame()
    df = as_frame(data, "item_data")

    # ----------------------------------------------------------------- items and scale
    if inst is not None:
        all_items = full_ids
        use = list(inst.item_ids)
        if items is not None:
            unknown = [i for i in items if i not in use]
            if unknown:
                raise ValueError(f"The 'items' parameter of item_data names {unknown}, which "
                                 f"are not items of {inst.id}"
                                 + (f" (form {form})" if form else "") + ".")
            use = [i for i in use if i in set(items)]
        rs = inst.response_scale
        lo, hi, integer = float(rs.min), float(rs.max), bool(rs.integer)
        bank = inst.id
    else:
        if items is None:
            keys = {c for c in (id, time, group) if c is not None}
            items = [c for c in df.columns if c not in keys]
            if columns:
                items = list(columns)
        use = [str(i) for i in items]
        all_items = use
        bank = "the items"
        if scale is not None:
            if len(scale) not in (2, 3):
                raise ValueError("The 'scale' parameter of item_data must be (min, max) or "
                                 f"(min, max, integer). Got {scale!r} instead.")
            lo, hi = float(scale[0]), float(scale[1])
            integer = bool(scale[2]) if len(scale) == 3 else (lo.is_integer()
                                                              and hi.is_integer())
            if not lo < hi:
                raise ValueError(f"The 'scale' parameter of item_data must have min < max. "
                                 f"Got {scale!r} instead.")
        else:
            lo, hi, integer = -np.inf, np.inf, False
    if not use:
        raise ValueError("item_data found no item columns: pass instrument= or items=.")
    colmap = column_map(columns, use, all_items, bank, "item_data")
    for arg, col in (("id", id), ("time", time), ("group", group)):
        if col is not None and col not in df.columns:
            raise ValueError(f"The {arg!r} column {col!r} is not in the data; its columns are "
                             f"{_preview(df.columns)}.")
        if col is not None and col in colmap.values():
            raise ValueError(f"The {arg!r} column {col!r} is also an item column; an item "
                             f"cannot be the {arg}.")

    n = len(df)
    action = "set missing" if invalid == "missing" else "none (error)"
    # ----------------------------------------------------------------- keys
    key_frame, key_issues, key_missing = _type_keys(df, id, time, group)
    # ----------------------------------------------------------------- responses
    checked: dict[str, CheckedColumn] = {}
    bad_cells = []
    column_issues = []
    for iid, col, chk, problem in iter_item_columns(df, use, colmap, lo, hi, integer, bank):
        if chk is None:
            column_issues.append({"data_row": pd.NA, "index": pd.NA, "column": col, "item": iid,
                                  "value": "(no such column)", "problem": problem,
                                  "action": ("every row blank for this item"
                                             if invalid == "missing" else "none (error)")})
            chk = CheckedColumn(np.full(n, np.nan), np.ones(n, dtype=bool), _EMPTY_POS, [], [],
                                np.zeros(n, dtype=np.int8) if integer and np.isfinite(lo)
                                else None)
        else:
            if not np.isfinite(lo):     # no scale: still no infinite "responses"
                chk = _infinite_as_bad(chk)
            if chk.n_bad:
                bad_cells.append((chk.bad_rows, col, iid, chk.bad_values, chk.bad_kinds))
                chk = CheckedColumn(chk.values, chk.missing, _EMPTY_POS, [], [], chk.codes)
        checked[iid] = chk
    parts = [pd.DataFrame(column_issues, columns=ISSUE_COLUMNS)] if column_issues else []
    cells = cell_issue_frame(bad_cells, df.index, lo, hi, action)
    if cells is not None:
        parts.append(cells)
    problems = list(key_issues)
    if key_missing and missing_keys == "raise":
        problems.extend(_key_missing_issues(df, key_missing, id, time, group))
    if parts and invalid == "raise":
        frame = pd.concat(parts, ignore_index=True)
        problems = _as_data_issues(frame) + problems
    if problems:
        n_bad_rows = len({i.row for i in problems if i.row is not None})
        raise DataValidationError(
            f"The responses to {bank} have {len(problems)} problem(s)"
            + (f" in {n_bad_rows} of {n} data row(s)" if n_bad_rows else "") + ":",
            problems,
            hint=("Fix the data as described, or pass invalid='missing' to treat each "
                  "offending cell as blank (each is then listed in .issues)."
                  if parts else ""))
    issues = (pd.concat(parts, ignore_index=True) if parts
              else pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS}))

    # ----------------------------------------------------------------- dropped rows
    drop = np.zeros(n, dtype=bool)
    reasons = np.empty(n, dtype=object)
    if key_missing:
        for name, mask in key_missing.items():
            new = mask & ~drop
            reasons[new] = f"{name} missing"
            drop |= mask
    if drop_empty:
        empty = np.ones(n, dtype=bool)
        for chk in checked.values():
            if chk.missing is None:
                empty[:] = False
                break
            empty &= chk.missing
        new = empty & ~drop
        reasons[new] = "no item answered"
        drop |= empty
    pos = np.flatnonzero(drop)
    dropped = pd.DataFrame({"data_row": pos + 1,
                            "index": df.index[pos].to_numpy(dtype=object),
                            "reason": reasons[pos]}, columns=DROP_COLUMNS)
    keep_rows = np.arange(1, n + 1)
    if len(pos):
        keep = ~drop
        checked = {i: _subset(c, keep) for i, c in checked.items()}
        key_frame = key_frame.loc[keep]
        keep_rows = keep_rows[keep]
        counts = dropped["reason"].value_counts()
        warnings.warn(f"item_data: {len(pos)} of {n} row(s) left out ("
                      + "; ".join(f"{k}: {v}" for k, v in counts.items())
                      + "); see .dropped for their data rows.", DataQualityWarning,
                      stacklevel=2)
        if not keep.any():
            raise DataValidationError(f"item_data: every one of the {n} data row(s) was left "
                                      f"out (" + "; ".join(f"{k}: {v}" for k, v in
                                                           counts.items()) + ").")
    return ItemData(items=tuple(use), columns=dict(colmap),
                    instrument=inst, id=id, time=time, group=group, keys=key_frame,
                    scale=(lo, hi, integer) if np.isfinite(lo) else None, issues=issues,
                    dropped=dropped, n_input=n, data_rows=keep_rows, source=source,
                    _checked=checked)


# =============================================================================== helpers
def _resolve_instrument(instrument, form):
    from ..instruments import Instrument, load_instrument
    from ..exceptions import InstrumentError

    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    if form is not None and form not in inst.forms:
        known = ", ".join(sorted(inst.forms)) or "none"
        raise InstrumentError(f"Instrument {inst.id!r} has no form {form!r}; its forms are: "
                              f"{known}.")
    return inst.with_form(form), list(inst.item_ids)


def _preview(cols, n: int = 12) -> str:
    cols = [str(c) for c in cols]
    return str(cols[:n])[:-1] + (", ...]" if len(cols) > n else "]")


def _blank(s: pd.Series) -> np.ndarray:
    m = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        m = m | s.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return m


def _type_keys(df: pd.DataFrame, id, time, group):
    """Typed key columns, problems (non-numeric times) and the blank-key masks."""
    out = {}
    issues: list[DataIssue] = []
    missing: dict[str, np.ndarray] = {}
    for what, col in (("id", id), ("time", time), ("group", group)):
        if col is None:
            continue
        s = df[col]
        blank = _blank(s)
        if blank.any():
            missing[what] = blank
        if what == "time":
            num = pd.to_numeric(s.where(~blank, np.nan), errors="coerce")
            bad = np.flatnonzero(num.isna().to_numpy() & ~blank)
            for pos in bad:
                issues.append(DataIssue(int(pos) + 1, col, s.iat[pos],
                                        "the time column must hold numbers (occasion number, "
                                        "week, month); correct the value.",
                                        _label(pos, df.index)))
            s = num
        elif what == "group":
            s = s.astype(object).where(~blank, None).map(
                lambda v: v if v is None or isinstance(v, str) else str(plain(v)))
        s = _whole_to_int(s) if what in ("id", "time") else s
        out[col] = s
    keys = pd.DataFrame(out, index=df.index)
    return keys, issues, missing


def _whole_to_int(s: pd.Series) -> pd.Series:
    if s.dtype.kind == "f" and len(s) and s.notna().all():
        v = s.to_numpy()
        if np.isfinite(v).all() and (v == np.round(v)).all() and np.abs(v).max() < 2 ** 53:
            return s.astype(np.int64)
    return s


def _label(pos: int, index: pd.Index):
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return None
    return index[pos]


def _key_missing_issues(df, key_missing, id, time, group) -> list[DataIssue]:
    names = {"id": id, "time": time, "group": group}
    out = []
    for what, mask in key_missing.items():
        for pos in np.flatnonzero(mask):
            out.append(DataIssue(int(pos) + 1, names[what], None,
                                 f"the {what} is missing; fill it in, or pass "
                                 f"missing_keys='drop' to leave such rows out (they are then "
                                 f"counted in .dropped).", _label(pos, df.index)))
    return out


def _as_data_issues(frame: pd.DataFrame) -> list[DataIssue]:
    out = []
    for rec in frame.itertuples(index=False):
        row = None if pd.isna(rec.data_row) else int(rec.data_row)
        label = None
        if row is not None and rec.index is not None and not pd.isna(rec.index) \
                and rec.index != row - 1:
            label = rec.index
        out.append(DataIssue(row if row is not None else "all", rec.column, rec.value,
                             rec.problem, label))
    return out


def _infinite_as_bad(c: CheckedColumn) -> CheckedColumn:
    """Infinite values of a column checked without a scale become invalid cells."""
    vals = np.asarray(c.values, dtype=np.float64)
    inf = np.isinf(vals)
    if not inf.any():
        return c
    pos = np.flatnonzero(inf)
    new_vals = vals.copy()
    new_vals[pos] = np.nan
    missing = inf if c.missing is None else (c.missing | inf)
    rows = np.concatenate([c.bad_rows, pos])
    order = np.argsort(rows, kind="stable")
    values = list(c.bad_values) + vals[pos].tolist()
    kinds = list(c.bad_kinds) + [OUT_OF_RANGE] * len(pos)
    return CheckedColumn(new_vals, missing, rows[order], [values[k] for k in order],
                         [kinds[k] for k in order], c.codes)


def _subset(c: CheckedColumn, keep: np.ndarray) -> CheckedColumn:
    return CheckedColumn(c.values[keep], None if c.missing is None else c.missing[keep],
                         _EMPTY_POS, [], [], None if c.codes is None else c.codes[keep])
