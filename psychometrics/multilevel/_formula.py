"""A small model-formula parser and design-matrix builder (no patsy/formulaic).

Grammar (a subset of R's, enough for linear mixed models)::

    formula   := response "~" rhs
    rhs       := term (("+" | "-") term)*
    term      := "0" | "1" | "(" re_expr ("|" | "||") group ")" | factor ((":" | "*") factor)*
    group     := NAME (("/" | ":") NAME)*   (nested a/b = a + a:b; interaction a:b)
    factor    := NAME | "`" any "`" | "C(" NAME ")"
    re_expr   := same as rhs (numeric predictors, "0"/"1" for the intercept)

``a*b`` expands to ``a + b + a:b``; ``- 1`` or ``+ 0`` removes the intercept.
Terms are ordered as R orders them: by interaction order, then as written.
``C(x)`` codes a categorical predictor with treatment (dummy) contrasts, the
first level in sorted order being the reference; its columns are named
``x[level]``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, DataIssue, ModelSpecificationError, ModelSyntaxError

__all__ = ["ParsedFormula", "RandomTerm", "parse_formula", "parse_rhs", "build_design"]

_TOKEN = re.compile(r"\s*(?:(\|\|)|(`[^`]+`)|(C\()|([A-Za-z_.][A-Za-z0-9_.]*)|(\d+(?:\.\d*)?)|(.))")


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term ``(expr | group)`` or ``(expr || group)``."""

    terms: tuple[tuple[str, ...], ...]   # each a tuple of factor names (interaction)
    intercept: bool
    group: str
    uncorrelated: bool


@dataclass(frozen=True)
class ParsedFormula:
    """Result of :func:`parse_formula`."""

    response: str
    terms: tuple[tuple[str, ...], ...]
    intercept: bool
    random: tuple[RandomTerm, ...] = field(default_factory=tuple)
    text: str = ""


def _tokenize(text: str) -> list[str]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:  # pragma: no cover - regex always matches a char
            break
        tok = m.group(m.lastindex)
        pos = m.end()
        if tok.isspace():
            continue
        out.append(tok)
    return out


class _Parser:
    def __init__(self, text: str, tokens: list[str]):
        self.text = text
        self.toks = tokens
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise ModelSyntaxError(f"Formula {self.text!r} ends unexpectedly"
                                   + (f"; expected {expected!r}." if expected else "."), token=None)
        if expected is not None and tok != expected:
            raise ModelSyntaxError(f"Formula {self.text!r}: expected {expected!r} but found {tok!r}.",
                                   token=tok)
        self.i += 1
        return tok

    def factor(self) -> str:
        tok = self.take()
        if tok == "C(":
            name = self.take()
            if name.startswith("`"):
                name = name[1:-1]
            if not re.match(r"^[A-Za-z_.`]", name):
                raise ModelSyntaxError(f"Formula {self.text!r}: C() needs a column name, got {name!r}.",
                                       token=name)
            self.take(")")
            return f"C({name})"
        if tok.startswith("`"):
            return tok[1:-1]
        if re.match(r"^[A-Za-z_.]", tok):
            return tok
        raise ModelSyntaxError(f"Formula {self.text!r}: unexpected token {tok!r} where a variable "
                               "name was expected.", token=tok)

    def term(self):
        """Returns ('int', bool) | ('random', RandomTerm) | ('fixed', list of tuples)."""
        tok = self.peek()
        if tok in ("0", "1"):
            self.take()
            return ("int", tok == "1")
        if tok == "(":
            self.take("(")
            start = self.i
            depth = 0
            while True:
                t = self.peek()
                if t is None:
                    raise ModelSyntaxError(f"Formula {self.text!r}: unclosed '('.", token="(")
                if t in ("|", "||") and depth == 0:
                    break
                if t in ("(", "C("):
                    depth += 1
                if t == ")":
                    if depth == 0:
                        raise ModelSyntaxError(
                            f"Formula {self.text!r}: parentheses must hold a random-effects term "
                            "like (1 + x | patient).", token=")")
                    depth -= 1
                self.i += 1
            inner = self.toks[start:self.i]
            bar = self.take()
            group = self.factor()
            # nested / interaction grouping factors: (1 | therapist/patient), (1 | therapist:patient)
            while self.peek() in ("/", ":"):
                group += self.take() + self.factor()
            self.take(")")
            sub = _Parser(self.text, inner)
            terms, intercept, random = sub.rhs(default_intercept=True)
            if random:
                raise ModelSyntaxError(f"Formula {self.text!r}: nested random-effects terms.", token="(")
            return ("random", RandomTerm(tuple(terms), intercept, group, bar == "||"))
        facs = [self.factor()]
        ops = []
        while self.peek() in (":", "*"):
            ops.append(self.take())
            facs.append(self.factor())
        if "*" not in ops:
            return ("fixed", [tuple(facs)])
        # expand a*b*c (with possible ':' groups) into all sub-interactions
        groups, cur = [], [facs[0]]
        for op, f in zip(ops, facs[1:]):
            if op == ":":
                cur.append(f)
            else:
                groups.append(tuple(cur))
                cur = [f]
        groups.append(tuple(cur))
        out = []
        n = len(groups)
        for mask in range(1, 2 ** n):
            t = []
            for j in range(n):
                if mask >> j & 1:
                    t.extend(groups[j])
            out.append(tuple(t))
        return ("fixed", out)

    def rhs(self, default_intercept: bool = True):
        terms: list[tuple[str, ...]] = []
        random: list[RandomTerm] = []
        intercept = default_intercept
        sign = "+"
        first = True
        while True:
            if self.peek() is None:
                if first:
                    raise ModelSyntaxError(f"Formula {self.text!r} has an empty right-hand side.",
                                           token=None)
                raise ModelSyntaxError(f"Formula {self.text!r} ends with {sign!r}; a term must "
                                       "follow it.", token=sign)
            if first and self.peek() in ("+", "-"):
                sign = self.take()
            kind, val = self.term()
            first = False
            if kind == "int":
                intercept = val if sign == "+" else (not val)
            elif kind == "random":
                if sign == "-":
                    raise ModelSyntaxError(f"Formula {self.text!r}: cannot subtract a random term.",
                                           token="-")
                random.append(val)
            else:
                for t in val:
                    if sign == "-":
                        terms = [x for x in terms if set(x) != set(t)]
                    elif not any(set(x) == set(t) for x in terms):
                        terms.append(t)
            nxt = self.peek()
            if nxt is None:
                break
            if nxt not in ("+", "-"):
                raise ModelSyntaxError(f"Formula {self.text!r}: unexpected token {nxt!r}; terms "
                                       "are joined with '+'.", token=nxt)
            sign = self.take()
        # R orders terms by interaction order (stable)
        terms.sort(key=len)
        return terms, intercept, random


def parse_rhs(text: str, default_intercept: bool = True):
    """Parse a right-hand side like ``"1 + x"`` (a leading ``~`` is allowed)."""
    t = text.strip()
    if t.startswith("~"):
        t = t[1:]
    toks = _tokenize(t)
    p = _Parser(text, toks)
    out = p.rhs(default_intercept=default_intercept)
    return out


def parse_formula(text: str) -> ParsedFormula:
    """Parse ``"y ~ x1 + x2 + x1:x2 + (1 + x1 | id)"``.

    Raises
    ------
    ModelSyntaxError
        When the formula has no ``~``, an empty side, or an unexpected token;
        the message quotes the formula and the token.
    """
    if not isinstance(text, str):
        raise ModelSyntaxError(f"The 'formula' argument must be a string like 'y ~ x', got "
                               f"{type(text).__name__}.")
    if text.count("~") != 1:
        raise ModelSyntaxError(f"Formula {text!r} must contain exactly one '~' separating the "
                               "outcome from the predictors, e.g. 'oq_next ~ wai_within'.", token="~")
    lhs, rhs = text.split("~")
    ltoks = _tokenize(lhs)
    if len(ltoks) != 1:
        raise ModelSyntaxError(f"Formula {text!r}: the left-hand side must be a single column name,"
                               f" got {lhs.strip()!r}.", token=lhs.strip() or None)
    response = ltoks[0][1:-1] if ltoks[0].startswith("`") else ltoks[0]
    p = _Parser(text, _tokenize(rhs))
    terms, intercept, random = p.rhs()
    return ParsedFormula(response, tuple(terms), intercept, tuple(random), text)


def _column_values(data: pd.DataFrame, factor: str, levels_cache: dict):
    """Return (matrix n x k, names) for one factor."""
    if factor.startswith("C(") and factor.endswith(")"):
        name = factor[2:-1]
        if name not in data.columns:
            raise ModelSpecificationError(f"Formula variable {name!r} (in {factor}) is not a column "
                                          f"of data; columns are {list(map(str, data.columns))}.")
        col = data[name]
        if factor not in levels_cache:
            levels_cache[factor] = sorted(pd.unique(col.dropna()), key=lambda v: (str(type(v)), v))
        levels = levels_cache[factor]
        if len(levels) < 2:
            raise ModelSpecificationError(f"Categorical predictor {factor} has fewer than two levels.")
        vals = col.to_numpy()
        mat = np.column_stack([(vals == lev).astype(float) for lev in levels[1:]])
        mat[pd.isna(col).to_numpy()] = np.nan
        return mat, [f"{name}[{lev}]" for lev in levels[1:]]
    if factor not in data.columns:
        raise ModelSpecificationError(f"Formula variable {factor!r} is not a column of data; columns "
                                      f"are {list(map(str, data.columns))}.")
    col = data[factor]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
        raise DataValidationError(
            f"Column {factor!r} used in the formula is not numeric (dtype {col.dtype}).",
            [DataIssue(row=idx, column=factor, value=v, problem="not a number")
             for idx, v in bad.head(20).items()],
            hint=f"Convert it to numbers, or write C({factor}) in the formula to treat it as categorical.",
        )
    return col.to_numpy(dtype=float, na_value=np.nan).reshape(-1, 1), [factor]


def build_design(data: pd.DataFrame, terms, intercept: bool, levels_cache: dict | None = None):
    """Build a design matrix for the given terms.

    Returns
    -------
    X : ndarray (n, p)
    names : list of str
    term_cols : dict term label -> list of column indices (for anova)
    """
    levels_cache = {} if levels_cache is None else levels_cache
    n = len(data)
    cols = []
    names = []
    term_cols: dict[str, list[int]] = {}
    if intercept:
        cols.append(np.ones((n, 1)))
        names.append("(Intercept)")
    for term in terms:
        mat, nm = None, None
        for fac in term:
            m2, n2 = _column_values(data, fac, levels_cache)
            if mat is None:
                mat, nm = m2, n2
            else:
                mat = np.einsum("ni,nj->nij", mat, m2).reshape(n, -1)
                nm = [f"{a}:{b}" for a in nm for b in n2]
        label = ":".join(term)
        term_cols[label] = list(range(len(names), len(names) + len(nm)))
        cols.append(mat)
        names.extend(nm)
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    return X, names, term_cols
