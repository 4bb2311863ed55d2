"""A small printable summary shared by the reliability results."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Summary"]


@dataclass(frozen=True)
class Summary:
    """Title, named tables and notes; rendered by ``as_text``/``as_html``.

    Numbers are rounded only here, for display (``digits``); the result objects
    keep them unrounded.
    """

    title: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    digits: int = 3

    def as_text(self) -> str:
        out = [self.title, "=" * len(self.title)]
        for name, tab in self.tables.items():
            out += ["", name, tab.round(self.digits).to_string()]
        if self.notes:
            out += [""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(out)

    def as_html(self) -> str:
        parts = [f"<h3>{self.title}</h3>"]
        for name, tab in self.tables.items():
            parts += [f"<h4>{name}</h4>", tab.round(self.digits).to_html()]
        parts += [f"<p>Note: {n}</p>" for n in self.notes]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.as_html()
