"""The one summary type of the package's results (text, HTML, LaTeX, DOCX).

Every result's ``summary()`` returns :class:`Summary`; ``to_frame()`` returns its main tidy
table (see ``docs/conventions.md``). A summary computes nothing: it lays out numbers the
result already holds and rounds them for display only.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Summary"]


def format_value(v: Any, digits: int = 4) -> str:
    """One scalar for display: integers as integers, NaN as "NaN", tiny/huge in e-notation."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.{digits}e}"
        if v.is_integer() and abs(v) < 1e6:
            return str(int(v))
        return f"{v:.{digits}f}"
    return str(v)


def _show_index(df: pd.DataFrame) -> bool:
    """Print the index unless it is the default 0..n-1 range."""
    return not (isinstance(df.index, pd.RangeIndex) and df.index.name is None
                and df.index.start == 0 and df.index.step == 1)


_LATEX = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#",
          "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}"}


def _latex_escape(s: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in s)


@dataclass(frozen=True, eq=False)
class Summary:
    """Printable summary: a title, header lines, blocks and footer lines.

    Each block is ``(heading, body)`` or ``(heading, body, text)``. ``body`` is a
    DataFrame (a table; its index is shown unless it is the default range), a mapping
    (``key: value`` lines, a two-column table in HTML/LaTeX/DOCX) or a string (shown as
    is). The optional ``text`` is a ready-made plain-text rendering of ``body`` used by
    ``as_text`` only (e.g. the lavaan-style layout of SEM estimates).

    ``as_text()``, ``as_html()``, ``as_latex()`` and ``as_docx()`` render the same content;
    numbers are rounded only here (``digits``), never in the result's tables.
    """

    title: str
    header: tuple[str, ...] = ()
    blocks: tuple[tuple, ...] = ()
    footer: tuple[str, ...] = ()
    digits: int = 4

    # ------------------------------------------------------------------ helpers
    def _fmt(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.round(self.digits)
        for col in df.columns:
            if str(col).startswith("p_value") or str(col) in ("pvalue", "p"):
                out[col] = [f"{v:.3g}" if isinstance(v, (int, float)) and pd.notna(v)
                            else ("" if not isinstance(v, str) else v) for v in df[col]]
        return out

    def _items(self):
        for blk in self.blocks:
            head, body = blk[0], blk[1]
            text = blk[2] if len(blk) > 2 else None
            yield head, body, text

    def block(self, heading: str) -> Any:
        """The body of the first block whose heading is ``heading`` (KeyError if none)."""
        for head, body, _ in self._items():
            if head == heading:
                return body
        raise KeyError(f"The summary has no block {heading!r}; blocks: "
                       f"{[h for h, _, _ in self._items()]}.")

    # ------------------------------------------------------------------ renderers
    def as_text(self) -> str:
        out = [self.title, "=" * len(self.title), *self.header]
        for head, body, text in self._items():
            out.append("")
            if head:
                out.append(head)
            if text is not None:
                out.append(text)
            elif isinstance(body, pd.DataFrame):
                out.append(self._fmt(body).to_string(index=_show_index(body), na_rep=""))
            elif isinstance(body, Mapping):
                w = max((len(str(k)) for k in body), default=0)
                out += [f"  {str(k):<{w}}  {format_value(v, self.digits)}" for k, v in body.items()]
            else:
                out.append(str(body))
        if self.footer:
            out += ["", *self.footer]
        return "\n".join(out)

    def as_html(self) -> str:
        out = [f"<h3>{html.escape(self.title)}</h3>"]
        out += [f"<p>{html.escape(h)}</p>" for h in self.header]
        for head, body, _ in self._items():
            if head:
                out.append(f"<h4>{html.escape(head)}</h4>")
            if isinstance(body, pd.DataFrame):
                out.append(self._fmt(body).to_html(index=_show_index(body), na_rep=""))
            elif isinstance(body, Mapping):
                out.append("<table>" + "".join(
                    f"<tr><th>{html.escape(str(k))}</th>"
                    f"<td>{html.escape(format_value(v, self.digits))}</td></tr>"
                    for k, v in body.items()) + "</table>")
            else:
                out.append(f"<pre>{html.escape(str(body))}</pre>")
        out += [f"<p>{html.escape(f)}</p>" for f in self.footer]
        return "\n".join(out)

    def as_latex(self) -> str:
        esc = _latex_escape
        out = [rf"\paragraph{{{esc(self.title)}}}", *[esc(h) + r"\\" for h in self.header]]
        for head, body, _ in self._items():
            if head:
                out.append(rf"\subparagraph{{{esc(head)}}}")
            if isinstance(body, pd.DataFrame):
                df = self._fmt(body)
                if _show_index(body):
                    df = df.reset_index()
                lines = [rf"\begin{{tabular}}{{{'l' * len(df.columns)}}}",
                         " & ".join(esc(str(c)) for c in df.columns) + r" \\ \hline"]
                for row in df.itertuples(index=False):
                    lines.append(" & ".join("" if (not isinstance(v, str) and pd.isna(v))
                                            else esc(str(v)) for v in row) + r" \\")
                lines.append(r"\end{tabular}")
                out.append("\n".join(lines))
            elif isinstance(body, Mapping):
                lines = [r"\begin{tabular}{lr}"]
                lines += [f"{esc(str(k))} & {esc(format_value(v, self.digits))} " + r"\\"
                          for k, v in body.items()]
                lines.append(r"\end{tabular}")
                out.append("\n".join(lines))
            else:
                out.append(r"\begin{verbatim}" + "\n" + str(body) + "\n" + r"\end{verbatim}")
        out += [esc(f) + r"\\" for f in self.footer]
        return "\n".join(out)

    def as_docx(self, document=None):
        """Add the summary to a python-docx ``Document`` (a new one if none) and return it."""
        import docx  # lazy: python-docx is needed only here

        doc = document if document is not None else docx.Document()
        doc.add_heading(self.title, level=2)
        for h in self.header:
            doc.add_paragraph(h)
        for head, body, _ in self._items():
            if head:
                doc.add_heading(head, level=3)
            if isinstance(body, pd.DataFrame):
                df = self._fmt(body)
                if _show_index(body):
                    df = df.reset_index()
                t = doc.add_table(rows=1, cols=len(df.columns))
                for cell, c in zip(t.rows[0].cells, df.columns):
                    cell.text = str(c)
                for row in df.itertuples(index=False):
                    cells = t.add_row().cells
                    for cell, v in zip(cells, row):
                        cell.text = "" if (not isinstance(v, str) and pd.isna(v)) else str(v)
            elif isinstance(body, Mapping):
                t = doc.add_table(rows=0, cols=2)
                for k, v in body.items():
                    cells = t.add_row().cells
                    cells[0].text, cells[1].text = str(k), format_value(v, self.digits)
            else:
                doc.add_paragraph(str(body))
        for f in self.footer:
            doc.add_paragraph(f)
        return doc

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:  # notebooks display the summary
        return self.as_html()
