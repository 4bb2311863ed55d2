"""APA-style number formatting: the only place where numbers are rounded.

Rules (APA Publication Manual, 7th ed., sections 6.36 and 6.40):

* statistics that cannot exceed 1 in absolute value (correlations, proportions,
  alpha, omega, loadings in a standardised solution, CFI, RMSEA, SRMR, *p*)
  have no leading zero: ``.87``, ``-.12``;
* other statistics keep it: ``0.87``, ``12.30``;
* *p* values are given to three decimals, and below .001 as ``< .001``;
* two decimals by default;
* negative numbers use the minus sign U+2212 (``−.12``);
* a missing value is shown as an em dash.

Every function takes a float (NaN allowed) and returns a string; none of them
computes anything but the rounding.
"""
from __future__ import annotations

import math
from typing import Callable

import pandas as pd

__all__ = [
    "MINUS", "EMPTY", "num", "bounded", "pval", "integer", "percent", "ci",
    "stars", "formatter",
]

MINUS = "\u2212"
EMPTY = "\u2014"


def _missing(x) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def num(x, decimals: int = 2) -> str:
    """A statistic that can exceed 1: leading zero kept (``0.87``, ``−1.20``)."""
    if _missing(x):
        return EMPTY
    s = f"{float(x):.{decimals}f}"
    if float(s) == 0:
        s = s.lstrip("-")  # no "-0.00"
    return s.replace("-", MINUS)


def bounded(x, decimals: int = 2) -> str:
    """A statistic bounded by 1 in absolute value: no leading zero (``.87``, ``−.12``).

    Values that round to 1 in absolute value print as ``1.00``.
    """
    if _missing(x):
        return EMPTY
    s = f"{float(x):.{decimals}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    neg = s.startswith("-")
    body = s.lstrip("-")
    if body.startswith("0."):
        body = body[1:]
    return (MINUS if neg else "") + body


def pval(p, decimals: int = 3) -> str:
    """A *p* value: three decimals, no leading zero, ``< .001`` below .001."""
    if _missing(p):
        return EMPTY
    p = float(p)
    threshold = 10.0 ** (-decimals)
    if p < threshold:
        return "< " + bounded(threshold, decimals)
    return bounded(p, decimals)


def integer(x) -> str:
    """A count, with a thousands separator (``1,234``)."""
    if _missing(x):
        return EMPTY
    v = int(round(float(x)))
    return f"{v:,}".replace("-", MINUS)


def percent(x, decimals: int = 1) -> str:
    """A proportion (0..1) printed as a percentage (``12.5``; the % sign goes in the header)."""
    if _missing(x):
        return EMPTY
    return num(100.0 * float(x), decimals)


def ci(lower, upper, decimals: int = 2, is_bounded: bool = False) -> str:
    """A confidence interval in brackets: ``[.78, .84]`` or ``[0.12, 1.40]``."""
    if _missing(lower) and _missing(upper):
        return EMPTY
    f = bounded if is_bounded else num
    return f"[{f(lower, decimals)}, {f(upper, decimals)}]"


def stars(p) -> str:
    """Significance asterisks (* < .05, ** < .01, *** < .001), for notes only."""
    if _missing(p):
        return ""
    p = float(p)
    return "***" if p < .001 else "**" if p < .01 else "*" if p < .05 else ""


def text(x) -> str:
    """Any value as text; missing values as an em dash."""
    if _missing(x):
        return EMPTY
    return str(x)


_KINDS: dict[str, Callable] = {
    "num": num, "bounded": bounded, "p": pval, "int": integer, "percent": percent,
    "text": text,
}


def formatter(kind: str, decimals: int | None = None) -> Callable[[object], str]:
    """The formatting function for a column kind (``num``, ``bounded``, ``p``, ``int``,
    ``percent``, ``text``), with ``decimals`` fixed when given."""
    if kind not in _KINDS:
        raise ValueError(f"Unknown column kind {kind!r}; use one of {', '.join(_KINDS)}.")
    f = _KINDS[kind]
    if decimals is None or kind in ("int", "text"):
        return f
    return lambda x: f(x, decimals)
