"""A small printable summary shared by the EFA result objects.

Computes nothing: it only lays out numbers the result already holds (rounded
for display only).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


def _fmt(v: Any, digits: int) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int,)) and not isinstance(v, bool):
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


@dataclass(frozen=True)
class Summary:
    """Text/HTML rendering of a result: a title, key-value info, tables, fit values."""

    title: str
    info: dict[str, Any] = field(default_factory=dict)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    fit: dict[str, Any] = field(default_factory=dict)
    digits: int = 3

    def as_text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for k, v in self.info.items():
            lines.append(f"{k:>22}: {_fmt(v, self.digits)}")
        for name, df in self.tables:
            lines += ["", name, "-" * len(name),
                      df.to_string(float_format=lambda x: f"{x:.{self.digits}f}")]
        if self.fit:
            lines += ["", "Fit", "---"]
            for k, v in self.fit.items():
                lines.append(f"{k:>22}: {_fmt(v, self.digits + 1)}")
        return "\n".join(lines)

    def as_html(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>", "<table>"]
        for k, v in self.info.items():
            parts.append(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v, self.digits))}"
                         "</td></tr>")
        parts.append("</table>")
        for name, df in self.tables:
            parts.append(f"<h4>{html.escape(name)}</h4>")
            parts.append(df.to_html(float_format=lambda x: f"{x:.{self.digits}f}"))
        if self.fit:
            parts.append("<h4>Fit</h4><table>")
            for k, v in self.fit.items():
                parts.append(f"<tr><th>{html.escape(k)}</th>"
                             f"<td>{html.escape(_fmt(v, self.digits + 1))}</td></tr>")
            parts.append("</table>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()
