"""The report's document model: sections made of paragraphs, tables and figures.

Sections are built from result objects by ``sections/*.py``; the renderers
(HTML, DOCX) and the exporters (CSV, LaTeX, PNG, SVG) read only these objects.
A :class:`Table` keeps the unrounded numbers (``data``) and says per column how
to format them; rounding happens when a renderer asks for :meth:`Table.cells`.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Literal, Union

import pandas as pd

from . import apa

__all__ = ["Column", "Table", "Figure", "Paragraph", "Section", "Report", "Block"]

Kind = Literal["num", "bounded", "p", "int", "percent", "text"]


_SUB = re.compile(r"_\{([^}]*)\}")


def plain(label: str) -> str:
    """A label without its subscript markup: ``\u03c9_{t}`` -> ``\u03c9t``."""
    return _SUB.sub(r"\1", label)


def split_sub(label: str) -> list[tuple[str, bool]]:
    """A label as (text, is_subscript) pieces."""
    out, pos = [], 0
    for m in _SUB.finditer(label):
        if m.start() > pos:
            out.append((label[pos:m.start()], False))
        out.append((m.group(1), True))
        pos = m.end()
    if pos < len(label):
        out.append((label[pos:], False))
    return out


@dataclass(frozen=True)
class Column:
    """One table column: the key in ``Table.data``, its header and its format.

    ``label`` may mark a subscript as ``_{t}`` (``\u03c9_{t}``).

    ``kind`` picks the APA formatter (see :mod:`psychometrics.report.apa`);
    ``ci`` names a (lower, upper) pair of keys to print as an interval instead.
    """

    key: str
    label: str
    kind: Kind = "num"
    decimals: int | None = None
    ci: tuple[str, str] | None = None
    span: tuple[str, str] | None = None
    italic_label: bool = False  # statistical symbols (M, SD, n, p) are italic in APA
    repeat: bool = True  # False: a value equal to the row above (same group) is left blank

    @property
    def keys(self) -> tuple[str, ...]:
        return self.ci or self.span or (self.key,)

    def format(self, row: pd.Series) -> str:
        if self.span is not None:
            f = apa.formatter(self.kind, self.decimals)
            lo, hi = f(row[self.span[0]]), f(row[self.span[1]])
            return apa.EMPTY if lo == hi == apa.EMPTY else f"{lo}\u2013{hi}"
        if self.ci is not None:
            d = 2 if self.decimals is None else self.decimals
            return apa.ci(row[self.ci[0]], row[self.ci[1]], d, is_bounded=self.kind == "bounded")
        return apa.formatter(self.kind, self.decimals)(row[self.key])


@dataclass(frozen=True)
class Table:
    """An APA table: number assigned at rendering, italic title, optional note.

    Parameters
    ----------
    key : str
        File-name stem for the exported CSV/LaTeX (``reliability_alpha``).
    title : str
        The table's title (italic, title case, under "Table N").
    data : DataFrame
        Unrounded values, one row per table row.
    columns : sequence of Column
        Columns to show, in order, with their formats.
    note : str, optional
        General note printed under the table after "*Note.*".
    group_by : str, optional
        A key of ``data`` whose changes start a new block of rows, shown as a
        spanning row (e.g. the instrument).
    """

    key: str
    title: str
    data: pd.DataFrame
    columns: tuple[Column, ...]
    note: str | None = None
    group_by: str | None = None

    def __post_init__(self):
        missing = [k for c in self.columns for k in c.keys if k not in self.data.columns]
        if self.group_by is not None and self.group_by not in self.data.columns:
            missing.append(self.group_by)
        if missing:
            raise KeyError(f"Table {self.key!r}: columns {missing} are not in its data "
                           f"(has {list(self.data.columns)}).")

    @property
    def headers(self) -> list[str]:
        """Column labels as plain text (subscript markup ``_{t}`` removed)."""
        return [plain(c.label) for c in self.columns]

    def cells(self) -> list[list[str]]:
        """The formatted body: a list of rows of strings (no group rows). A column with
        ``repeat=False`` shows a value only where it changes within a group."""
        out, prev, prev_group = [], None, object()
        for _, row in self.data.iterrows():
            cells = [c.format(row) for c in self.columns]
            group = row[self.group_by] if self.group_by is not None else None
            shown = list(cells)
            if prev is not None and group == prev_group:
                for j, c in enumerate(self.columns):
                    if not c.repeat and cells[j] == prev[j]:
                        shown[j] = ""
            out.append(shown)
            prev, prev_group = cells, group
        return out

    def rows(self) -> list[tuple[str | None, list[str]]]:
        """Rows with group headings: ``(group_label, cells)``; group_label is not
        None on the first row of a new group (render it as a spanning row first)."""
        out = []
        last = object()
        for (_, row), cells in zip(self.data.iterrows(), self.cells()):
            label = None
            if self.group_by is not None and row[self.group_by] != last:
                label = str(row[self.group_by])
                last = row[self.group_by]
            out.append((label, cells))
        return out

    def formatted_frame(self) -> pd.DataFrame:
        """The table as shown (strings), with the group column first if any."""
        cells = self.cells()
        df = pd.DataFrame(cells, columns=self.headers, dtype=object)
        if self.group_by is not None:
            df.insert(0, self.group_by, [str(v) for v in self.data[self.group_by]])
        return df


def _serif_fonts() -> list[str]:
    """Times-like serif fonts installed here, best first (DejaVu Serif ships with
    matplotlib, so the list is never empty): figures match the report's serif body."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    wanted = ["Times New Roman", "Liberation Serif", "Nimbus Roman", "TeX Gyre Termes",
              "DejaVu Serif"]
    return [f for f in wanted if f in have] or ["DejaVu Serif"]


@dataclass(frozen=True)
class Figure:
    """A figure drawn by ``draw`` (a function returning a matplotlib Figure).

    The drawing runs once, on first use; :attr:`png` and :attr:`svg` hold the
    rendered bytes/text for the renderers and exporters.
    """

    key: str
    title: str
    draw: Callable[[], object]
    note: str | None = None
    dpi: int = 200

    @cached_property
    def _rendered(self) -> tuple[bytes, str]:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        with matplotlib.rc_context({"svg.hashsalt": "psychometrics", "svg.fonttype": "none",
                                    "font.size": 9, "font.family": "serif",
                                    "font.serif": _serif_fonts(),
                                    "axes.spines.top": False,
                                    "axes.spines.right": False}):
            fig = self.draw()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=self.dpi, bbox_inches="tight",
                        metadata={"Software": None})
            sbuf = io.StringIO()
            fig.savefig(sbuf, format="svg", bbox_inches="tight", metadata={"Date": None})
            plt.close(fig)
        return buf.getvalue(), sbuf.getvalue()

    @property
    def png(self) -> bytes:
        return self._rendered[0]

    @property
    def svg(self) -> str:
        return self._rendered[1]


@dataclass(frozen=True)
class Paragraph:
    """Running text. ``kind="error"`` marks a section's failure message,
    ``"code"`` preformatted text (the study file), ``"heading"`` a sub-heading
    (Heading 2 in Word, ``h3`` in HTML), ``"draft"`` a methods or results paragraph
    drafted from the section's tables for the author to check and edit."""

    text: str
    kind: Literal["text", "error", "warning", "code", "heading", "draft"] = "text"


Block = Union[Paragraph, Table, Figure]


@dataclass(frozen=True)
class Section:
    """A report section. ``error`` set means the analysis failed: the section is
    still rendered, with the reason in place of its content."""

    key: str
    title: str
    blocks: tuple[Block, ...] = ()
    error: str | None = None

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    @classmethod
    def failed(cls, key: str, title: str, reason: str) -> "Section":
        return cls(key, title, (Paragraph(f"This section could not be produced: {reason}",
                                          kind="error"),), error=reason)


@dataclass(frozen=True)
class Report:
    """The whole document: title, front matter and sections in order."""

    title: str
    sections: tuple[Section, ...]
    subtitle: str | None = None
    meta: dict = field(default_factory=dict)
    #: sections of the separate supplement (reproducibility material, verbatim warnings)
    supplement: tuple[Section, ...] = ()

    def supplement_report(self) -> "Report":
        """The supplement as a document of its own (same renderers)."""
        return Report(title=f"Supplementary Material: {self.title}", sections=self.supplement,
                      subtitle="Reproducibility material and the technical messages of the "
                               "analyses behind the report.",
                      meta={k: v for k, v in self.meta.items() if k != "notice"})

    def numbered(self) -> tuple[dict[int, int], dict[int, int]]:
        """Table and figure numbers in document order, keyed by ``id()`` of the block."""
        tabs, figs = {}, {}
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Table):
                    tabs[id(b)] = len(tabs) + 1
                elif isinstance(b, Figure):
                    figs[id(b)] = len(figs) + 1
        return tabs, figs

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]
