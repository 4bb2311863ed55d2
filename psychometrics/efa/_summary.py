"""How the EFA results lay out their :class:`psychometrics.results.Summary`.

Computes nothing: a title, key-value information, tables and fit values, rounded for
display only.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..results import Summary

__all__ = ["Summary", "efa_summary"]


def efa_summary(title: str, info: dict[str, Any] | None = None,
                tables: list[tuple[str, pd.DataFrame]] = (), fit: dict[str, Any] | None = None,
                digits: int = 3) -> Summary:
    """The one summary type with an information block, the tables and a "Fit" block."""
    blocks: list[tuple] = []
    if info:
        blocks.append(("", dict(info)))
    blocks += [(name, df) for name, df in tables]
    if fit:
        blocks.append(("Fit", dict(fit)))
    return Summary(title=title, blocks=tuple(blocks), digits=digits)
