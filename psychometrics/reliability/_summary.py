"""How the reliability results lay out their :class:`psychometrics.results.Summary`."""
from __future__ import annotations

import pandas as pd

from ..results import Summary

__all__ = ["Summary", "reliability_summary"]


def reliability_summary(title: str, tables: dict[str, pd.DataFrame] | None = None,
                        notes: tuple[str, ...] = (), digits: int = 3) -> Summary:
    """The one summary type with named tables and "Note:" lines."""
    return Summary(title=title, blocks=tuple((k, v) for k, v in (tables or {}).items()),
                   footer=tuple(f"Note: {n}" for n in notes), digits=digits)
