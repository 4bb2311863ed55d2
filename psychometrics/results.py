"""The one summary type of the package's results (text, HTML, LaTeX).

Every result's ``summary()`` returns :class:`Summary`; ``to_frame()`` returns its main tidy
table. New modules use this type; older modules are being moved onto it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

__all__ = ["Summary"]


@dataclass(frozen=True, eq=False)
class Summary:
    """Printable summary: a title, header lines and (heading, table-or-text) blocks.

    ``as_text()``, ``as_html()`` and ``as_latex()`` render the same content;
    numbers are rounded only here (``digits``), never in the result's tables.
    """

    title: str
    header: tuple[str, ...]
    blocks: tuple[tuple[str, object], ...]
    footer: tuple[str, ...] = ()
    digits: int = 4

    def _fmt(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.round(self.digits)
        for col in df.columns:
            if str(col).startswith("p_value"):
                out[col] = [f"{v:.3g}" if pd.notna(v) else "" for v in df[col]]
        return out

    def as_text(self) -> str:
        out = [self.title, *self.header]
        for head, body in self.blocks:
            out += ["", head]
            out.append(self._fmt(body).to_string(index=False) if isinstance(body, pd.DataFrame)
                       else str(body))
        if self.footer:
            out += ["", *self.footer]
        return "\n".join(out)

    def as_html(self) -> str:
        out = [f"<h3>{html.escape(self.title)}</h3>"]
        out += [f"<p>{html.escape(h)}</p>" for h in self.header]
        for head, body in self.blocks:
            out.append(f"<h4>{html.escape(head)}</h4>")
            out.append(self._fmt(body).to_html(index=False) if isinstance(body, pd.DataFrame)
                       else f"<pre>{html.escape(str(body))}</pre>")
        out += [f"<p>{html.escape(f)}</p>" for f in self.footer]
        return "\n".join(out)

    def as_latex(self) -> str:
        def esc(s: str) -> str:
            for a, b in [("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                         ("#", r"\#"), ("$", r"\$")]:
                s = s.replace(a, b)
            return s
        out = [rf"\paragraph{{{esc(self.title)}}}", *[esc(h) + r"\\" for h in self.header]]
        for head, body in self.blocks:
            out.append(rf"\subparagraph{{{esc(head)}}}")
            if isinstance(body, pd.DataFrame):
                cols = "l" * len(body.columns)
                lines = [rf"\begin{{tabular}}{{{cols}}}", " & ".join(esc(str(c)) for c in body.columns)
                         + r" \\ \hline"]
                for row in self._fmt(body).itertuples(index=False):
                    lines.append(" & ".join(esc(str(v)) for v in row) + r" \\")
                lines.append(r"\end{tabular}")
                out.append("\n".join(lines))
            else:
                out.append(esc(str(body)))
        out += [esc(f) + r"\\" for f in self.footer]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()
