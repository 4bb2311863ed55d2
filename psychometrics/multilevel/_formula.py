"""A model-formula parser and design-matrix builder (no patsy/formulaic), following R.

Grammar (R's, enough for lme4's everyday mixed models)::

    formula   := lhs "~" rhs
    lhs       := NAME | call                       (e.g. log(y), cbind(successes, failures))
    rhs       := sum
    sum       := prod (("+" | "-") prod)*
    prod      := inter ("*" inter)*  |  inter "^" INT
    inter     := atom (":" atom)*
    atom      := "0" | "1" | "(" sum ")" | "(" sum ("|" | "||") group ")" | variable
    group     := NAME (("/" | ":") NAME)*        (nested a/b = a + a:b; interaction a:b)
    variable  := NAME | "`" any "`" | NAME "(" balanced ")"

``a*b`` expands to ``a + b + a:b`` (also for groups: ``(a + b) * c``), ``(a + b)^2``
to all terms of up to two factors, ``- 1`` or ``+ 0`` removes the intercept and
``- term`` removes a term. Terms are ordered as R orders them: by interaction order,
then as written.

Variables
---------
* A numeric column is a covariate; a string, boolean or ``pandas.Categorical`` column is a
  factor coded with treatment contrasts, R's reference level being the first level in
  sorted order (a Categorical's declared order). ``C(x)`` and ``factor(x)`` make any column a
  factor; ``C(x, Sum)`` / ``C(x, contr.sum)`` use sum (deviation) contrasts, the last level
  coded -1, as R's ``contr.sum``.
* As in R's ``model.matrix``, a factor in an interaction gets all its levels (indicator
  coding) when the term without it is not in the model (e.g. ``0 + f`` or ``x + x:f``).
* ``log``, ``log2``, ``log10``, ``log1p``, ``exp``, ``sqrt``, ``abs`` of an expression,
  ``I(expr)`` with ``+ - * / ^ **``, ``scale(x)`` (centred and divided by the SD, as R's
  ``scale``), ``poly(x, k)`` (R's orthonormal polynomials) and ``offset(expr)``.

Column names: ``x[level]`` (treatment), ``x[S.level]`` (sum contrasts), ``poly(x, 2)1`` ...
and ``a:b`` for interactions, the first factor varying fastest as in R.
The state needed to rebuild the same columns for new data (levels, poly coefficients,
scale centre) is kept in ``levels_cache`` (a dict), which :func:`build_design` fills.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, DataIssue, ModelSpecificationError, ModelSyntaxError
from ..io.validate import row_label

__all__ = ["ParsedFormula", "RandomTerm", "parse_formula", "parse_rhs", "build_design",
           "evaluate_expression", "type3_contrasts", "factor_kind"]

_TOKEN = re.compile(r"\s*(?:(\|\|)|(\*\*)|(`[^`]+`)|([A-Za-z_.][A-Za-z0-9_.]*)|(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(.))")


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term ``(expr | group)`` or ``(expr || group)``."""

    terms: tuple[tuple[str, ...], ...]   # each a tuple of factor names (interaction)
    intercept: bool
    group: str
    uncorrelated: bool


@dataclass(frozen=True)
class ParsedFormula:
    """Result of :func:`parse_formula`.

    ``response`` is the left-hand side as written (a column name or an expression such as
    ``log(y)`` or ``cbind(s, f)``); ``offsets`` the expressions inside ``offset(...)`` terms.
    """

    response: str
    terms: tuple[tuple[str, ...], ...]
    intercept: bool
    random: tuple[RandomTerm, ...] = field(default_factory=tuple)
    text: str = ""
    offsets: tuple[str, ...] = ()


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


def _is_name(tok) -> bool:
    return tok is not None and bool(re.match(r"^[A-Za-z_.]", tok))


def _join(tokens: list[str]) -> str:
    """Canonical text of a call from its tokens: ``poly(x, 2)``, ``I(x^2)``."""
    out = ""
    for t in tokens:
        if t == ",":
            out += ", "
        elif t in ("+", "-", "*") and out and not out.endswith("("):
            out += f" {t} "                  # R's deparse: spaces around + - *, none around / ^
        elif t == "**":
            out += "^"
        else:
            out += t
    return re.sub(r"\s+", " ", out).strip()


def _cross(A, B):
    out = []
    for a in A:
        for b in B:
            t = tuple(dict.fromkeys(a + b))
            if not any(set(t) == set(x) for x in out):
                out.append(t)
    return out


def _union(*lists):
    out = []
    for lst in lists:
        for t in lst:
            if not any(set(t) == set(x) for x in out):
                out.append(t)
    return out


class _Parser:
    """Recursive-descent parser; an expression evaluates to a dict with keys
    ``terms`` (list of tuples), ``intercept`` (None | True | False), ``random``, ``offsets``."""

    def __init__(self, text: str, tokens: list[str]):
        self.text = text
        self.toks = tokens
        self.i = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

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

    def _balanced(self) -> list[str]:
        """Tokens from the current '(' to its matching ')', inclusive."""
        start = self.i
        depth = 0
        while True:
            t = self.peek()
            if t is None:
                raise ModelSyntaxError(f"Formula {self.text!r}: unclosed '('.", token="(")
            self.i += 1
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
                if depth == 0:
                    return self.toks[start:self.i]

    def variable(self) -> str:
        tok = self.take()
        if tok.startswith("`"):
            return tok[1:-1]
        if _is_name(tok):
            if self.peek() == "(":
                inner = self._balanced()
                return _join([tok] + inner)
            return tok
        raise ModelSyntaxError(f"Formula {self.text!r}: unexpected token {tok!r} where a variable "
                               "name was expected.", token=tok)

    @staticmethod
    def _node(terms=None, intercept=None, random=None, offsets=None):
        return {"terms": terms or [], "intercept": intercept, "random": random or [],
                "offsets": offsets or []}

    def atom(self):
        tok = self.peek()
        if tok is None:
            raise ModelSyntaxError(f"Formula {self.text!r} ends unexpectedly; a term is missing.",
                                   token=None)
        if tok in ("0", "1"):
            self.take()
            return self._node(intercept=(tok == "1"))
        if tok == "(":
            # random-effects term if a top-level '|' occurs inside
            j, depth, bar = self.i, 0, None
            while j < len(self.toks):
                t = self.toks[j]
                if t == "(":
                    depth += 1
                elif t == ")":
                    depth -= 1
                    if depth == 0:
                        break
                elif t in ("|", "||") and depth == 1 and bar is None:
                    bar = j
                j += 1
            if j >= len(self.toks):
                raise ModelSyntaxError(f"Formula {self.text!r}: unclosed '('.", token="(")
            if bar is not None:
                inner = self.toks[self.i + 1:bar]
                gtoks = self.toks[bar + 1:j]
                # one column name, or nested / interaction grouping factors a/b, a:b (issue 23)
                names_ok = len(gtoks) % 2 == 1 and all(
                    (_is_name(g) or g.startswith("`")) if k % 2 == 0 else g in ("/", ":")
                    for k, g in enumerate(gtoks))
                if not names_ok:
                    raise ModelSyntaxError(
                        f"Formula {self.text!r}: the grouping factor of a random-effects term must "
                        f"be a column name, or columns joined by '/' (nested, therapist/patient) "
                        f"or ':' (interaction), got {' '.join(gtoks)!r}.",
                        token=" ".join(gtoks) or None)
                group = "".join(g[1:-1] if g.startswith("`") else g for g in gtoks)
                if not inner:
                    raise ModelSyntaxError(f"Formula {self.text!r}: empty random-effects term.",
                                           token="|")
                sub = _Parser(self.text, inner)
                node = sub.sum()
                if sub.peek() is not None:
                    raise ModelSyntaxError(f"Formula {self.text!r}: unexpected token "
                                           f"{sub.peek()!r} in a random-effects term.",
                                           token=sub.peek())
                if node["random"]:
                    raise ModelSyntaxError(f"Formula {self.text!r}: nested random-effects terms.",
                                           token="(")
                self.i = j + 1
                intercept = True if node["intercept"] is None else node["intercept"]
                rt = RandomTerm(tuple(sorted(node["terms"], key=len)), intercept, group,
                                self.toks[bar] == "||")
                return self._node(random=[rt])
            self.take("(")
            node = self.sum()
            self.take(")")
            return node
        if _is_name(tok) and tok == "offset" and self.peek(1) == "(":
            self.take()
            inner = self._balanced()
            return self._node(offsets=[_join(inner[1:-1])])
        return self._node(terms=[(self.variable(),)])

    def inter(self):
        node = self.atom()
        while self.peek() == ":":
            self.take()
            rhs = self.atom()
            node = self._node(terms=_cross(node["terms"], rhs["terms"]),
                              random=node["random"] + rhs["random"])
        return node

    def prod(self):
        node = self.inter()
        if self.peek() in ("^", "**"):
            self.take()
            k = self.take()
            if not k.isdecimal():
                raise ModelSyntaxError(f"Formula {self.text!r}: '^' needs a whole number, got {k!r}.",
                                       token=k)
            base = node["terms"]
            out = list(base)
            for _ in range(int(k) - 1):
                out = _union(out, _cross(out, base))
            return self._node(terms=out)
        while self.peek() == "*":
            self.take()
            rhs = self.inter()
            node = self._node(terms=_union(node["terms"], rhs["terms"],
                                           _cross(node["terms"], rhs["terms"])),
                              random=node["random"] + rhs["random"])
        return node

    def sum(self):
        terms: list[tuple[str, ...]] = []
        random: list[RandomTerm] = []
        offsets: list[str] = []
        intercept = None
        sign = "+"
        first = True
        while True:
            if self.peek() is None or self.peek() == ")":
                if first:
                    raise ModelSyntaxError(f"Formula {self.text!r} has an empty right-hand side.",
                                           token=None)
                raise ModelSyntaxError(f"Formula {self.text!r} ends with {sign!r}; a term must "
                                       "follow it.", token=sign)
            if first and self.peek() in ("+", "-"):
                sign = self.take()
            node = self.prod()
            first = False
            if node["intercept"] is not None:
                intercept = node["intercept"] if sign == "+" else (not node["intercept"])
            if node["random"]:
                if sign == "-":
                    raise ModelSyntaxError(f"Formula {self.text!r}: cannot subtract a random term.",
                                           token="-")
                random.extend(node["random"])
            offsets.extend(node["offsets"])
            for t in node["terms"]:
                if sign == "-":
                    terms = [x for x in terms if set(x) != set(t)]
                elif not any(set(x) == set(t) for x in terms):
                    terms.append(t)
            nxt = self.peek()
            if nxt is None or nxt == ")":
                break
            if nxt not in ("+", "-"):
                raise ModelSyntaxError(f"Formula {self.text!r}: unexpected token {nxt!r}; terms "
                                       "are joined with '+'.", token=nxt)
            sign = self.take()
        return self._node(terms=terms, intercept=intercept, random=random, offsets=offsets)

    def rhs(self, default_intercept: bool = True):
        node = self.sum()
        if self.peek() is not None:
            raise ModelSyntaxError(f"Formula {self.text!r}: unexpected token {self.peek()!r}.",
                                   token=self.peek())
        terms = sorted(node["terms"], key=len)           # R: by interaction order (stable)
        intercept = default_intercept if node["intercept"] is None else node["intercept"]
        return terms, intercept, node["random"], node["offsets"]


def parse_rhs(text: str, default_intercept: bool = True):
    """Parse a right-hand side like ``"1 + x"`` (a leading ``~`` is allowed).

    Returns ``(terms, intercept, random_terms)``."""
    t = text.strip()
    if t.startswith("~"):
        t = t[1:]
    toks = _tokenize(t)
    p = _Parser(text, toks)
    terms, intercept, random, _ = p.rhs(default_intercept=default_intercept)
    return terms, intercept, random


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
    lp = _Parser(text, ltoks)
    ok = bool(ltoks) and (ltoks[0].startswith("`") or _is_name(ltoks[0]))
    response = None
    if ok:
        try:
            response = lp.variable()
        except ModelSyntaxError:
            ok = False
    if not ok or lp.peek() is not None:
        raise ModelSyntaxError(f"Formula {text!r}: the left-hand side must be a single column name"
                               f" or call such as log(y) or cbind(successes, failures), got "
                               f"{lhs.strip()!r}.", token=lhs.strip() or None)
    p = _Parser(text, _tokenize(rhs))
    terms, intercept, random, offsets = p.rhs()
    return ParsedFormula(response, tuple(terms), intercept, tuple(random), text, tuple(offsets))


# --------------------------------------------------------------------------- evaluation
_FUNCS = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs, "log2": np.log2,
          "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1}


def _split_call(factor: str):
    """``'poly(x, 2)'`` -> ``('poly', ['x', '2'])``; ``None`` for a plain name."""
    m = re.match(r"^([A-Za-z_.][A-Za-z0-9_.]*)\((.*)\)$", factor, re.S)
    if m is None:
        return None
    args, depth, cur = [], 0, ""
    for ch in m.group(2):
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        args.append(cur.strip())
    return m.group(1), args


def _column(data: pd.DataFrame, name: str, where: str) -> pd.Series:
    if name.startswith("`") and name.endswith("`"):
        name = name[1:-1]
    if name not in data.columns:
        raise ModelSpecificationError(f"Formula variable {name!r}{where} is not a column of data; "
                                      f"columns are {list(map(str, data.columns))}.")
    return data[name]


def _numeric(col: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(col):
        mask = (pd.to_numeric(col, errors="coerce").isna() & col.notna()).to_numpy()
        pos = np.flatnonzero(mask)
        # 1-based data rows (the position in data), with the index label where it differs
        raise DataValidationError(
            f"Column {name!r} used in an arithmetic formula expression is not numeric "
            f"(dtype {col.dtype}); {len(pos)} value(s) are not numbers.",
            [DataIssue(row=int(p) + 1, column=name, value=col.iat[p], problem="not a number",
                       index=row_label(int(p), col.index))
             for p in pos],
            hint=f"Convert {name!r} to numbers, or use it as a factor on its own.")
    return col.to_numpy(dtype=float, na_value=np.nan)


def evaluate_expression(data: pd.DataFrame, text: str) -> np.ndarray:
    """Evaluate a numeric expression over columns: ``log(y + 1)``, ``x^2``, ``a / b``.

    Only column names, numbers, ``+ - * / ^ **``, unary minus and the functions
    log, log2, log10, log1p, exp, expm1, sqrt, abs are allowed (no Python ``eval``)."""
    src = text.replace("^", "**")
    src = re.sub(r"`([^`]+)`", lambda m: f"__col[{m.group(1)!r}]", src)
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise ModelSyntaxError(f"Formula expression {text!r} is not valid: {exc.msg}.",
                               token=text) from None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return _numeric(_column(data, node.id, f" (in {text})"), node.id)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id == "__col":
            nm = node.slice.value if isinstance(node.slice, ast.Constant) else None
            return _numeric(_column(data, nm, f" (in {text})"), nm)
        if isinstance(node, ast.Attribute):
            # R names may contain dots: a.b is parsed as an attribute
            parts = []
            n = node
            while isinstance(n, ast.Attribute):
                parts.append(n.attr)
                n = n.value
            if isinstance(n, ast.Name):
                nm = ".".join([n.id] + parts[::-1])
                return _numeric(_column(data, nm, f" (in {text})"), nm)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                   ast.Div: np.divide, ast.Pow: np.power}
            for k, f in ops.items():
                if isinstance(node.op, k):
                    with np.errstate(all="ignore"):
                        return f(a, b)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in _FUNCS and len(node.args) == 1 and not node.keywords:
            with np.errstate(all="ignore"):
                return _FUNCS[node.func.id](ev(node.args[0]))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "I":
            return ev(node.args[0])
        raise ModelSyntaxError(
            f"Formula expression {text!r}: {ast.unparse(node)!r} is not supported (allowed: column "
            f"names, numbers, + - * / ^ and {', '.join(sorted(_FUNCS))}).", token=text)

    out = ev(tree)
    out = np.broadcast_to(np.asarray(out, dtype=float), (len(data),)).copy()
    return out


def _levels_of(col: pd.Series):
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    vals = pd.unique(col.dropna())
    return sorted(vals, key=lambda v: (str(type(v)), v))


def _is_factor_column(col: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col) \
        or isinstance(col.dtype, pd.CategoricalDtype)


def _lev_str(v) -> str:
    return str(v)


def factor_kind(data: pd.DataFrame, factor: str) -> str:
    """``"factor"`` or ``"numeric"``: how R's model frame classes this variable."""
    call = _split_call(factor)
    if call is not None and call[0] in ("C", "factor", "as.factor"):
        return "factor"
    if call is None:
        name = factor[1:-1] if factor.startswith("`") else factor
        if name in data.columns and _is_factor_column(data[name]):
            return "factor"
    return "numeric"


def _factor_spec(data: pd.DataFrame, factor: str, state: dict):
    """(codes, levels, contrast, label) for a factor variable."""
    call = _split_call(factor)
    contrast = "treatment"
    if call is not None:
        fname, args = call
        if not args:
            raise ModelSyntaxError(f"{factor}: a column name is needed inside the parentheses.",
                                   token=factor)
        name = args[0]
        if fname == "C" and len(args) > 1:
            c = args[1].replace("contr.", "").lower()
            if c in ("sum", "deviation"):
                contrast = "sum"
            elif c in ("treatment",):
                contrast = "treatment"
            else:
                raise ModelSpecificationError(
                    f"{factor}: contrasts {args[1]!r} are not supported; use Treatment or Sum.")
        label = name[1:-1] if name.startswith("`") else name
    else:
        name = factor
        label = name[1:-1] if name.startswith("`") else name
    col = _column(data, label, f" (in {factor})" if call else "")
    key = ("levels", factor)
    if key not in state:
        state[key] = _levels_of(col)
    levels = state[key]
    if len(levels) < 2:
        raise ModelSpecificationError(f"Factor {factor} has fewer than two levels "
                                      f"({[_lev_str(v) for v in levels]}) among the rows of data.")
    vals = col.astype(object).to_numpy()
    notna = col.notna().to_numpy()
    try:
        codes = pd.Categorical(vals, categories=levels).codes.astype(np.int64)
    except (TypeError, ValueError):      # pragma: no cover - unorderable mixed levels
        lookup = {v: i for i, v in enumerate(levels)}
        codes = np.array([lookup.get(v, -1) for v in vals], dtype=np.int64)
    codes[(codes < 0) & notna] = -2
    if (codes == -2).any():
        pos = np.flatnonzero(codes == -2)
        bad = [_lev_str(vals[i]) for i in pos[:5]]
        rows = ", ".join(str(int(i) + 1) for i in pos[:5]) + (" ..." if len(pos) > 5 else "")
        raise ModelSpecificationError(
            f"Factor {factor} has level(s) {bad} that the fitted model did not have "
            f"(levels {[_lev_str(v) for v in levels]}), in data row(s) {rows} (data rows are "
            f"numbered from 1 at the first row below the header).")
    return codes, levels, contrast, label


def _poly(x: np.ndarray, degree: int, state: dict, key):
    """R's ``poly(x, degree)``: orthonormal polynomials by the three-term recurrence
    (coefficients alpha, norm2 kept for new data, as ``predict.poly``)."""
    if key not in state:
        ok = np.isfinite(x)
        if not ok.all():
            pos = np.flatnonzero(~ok)
            rows = ", ".join(str(int(i) + 1) for i in pos[:5]) + (" ..." if len(pos) > 5 else "")
            raise ModelSpecificationError(f"{key[1]}: missing values are not allowed in poly() "
                                          f"(as in R); drop those rows first (data row(s) "
                                          f"{rows}, numbered from 1 at the first row below "
                                          f"the header).")
        if degree >= len(np.unique(x)):
            raise ModelSpecificationError(f"{key[1]}: 'degree' must be less than the number of "
                                          "unique points.")
        xbar = x.mean()
        xc = x - xbar
        V = np.vander(xc, degree + 1, increasing=True)
        Q, R = np.linalg.qr(V)
        raw = Q * np.diag(R)
        norm2 = np.sum(raw ** 2, axis=0)
        alpha = (np.sum(xc[:, None] * raw ** 2, axis=0) / norm2 + xbar)[:degree]
        state[key] = (alpha, np.concatenate([[1.0], norm2]))
    alpha, norm2 = state[key]
    n = len(x)
    Z = np.empty((n, degree + 1))
    Z[:, 0] = 1.0
    Z[:, 1] = x - alpha[0]
    for i in range(1, degree):
        Z[:, i + 1] = (x - alpha[i]) * Z[:, i] - (norm2[i + 1] / norm2[i]) * Z[:, i - 1]
    return Z[:, 1:] / np.sqrt(norm2[2:])


def _numeric_values(data: pd.DataFrame, factor: str, state: dict):
    """(matrix n x k, names) for a numeric variable or function of variables."""
    call = _split_call(factor)
    if call is not None and call[0] == "poly":
        args = call[1]
        deg = 1
        rest = [a for a in args[1:]]
        for a in rest:
            a2 = a.replace(" ", "")
            if a2.startswith("raw="):
                if a2[4:] not in ("FALSE", "F"):
                    raise ModelSpecificationError(f"{factor}: only orthogonal polynomials "
                                                  "(raw = FALSE) are supported; use I(x^2) for raw.")
            elif a2.startswith("degree="):
                if not a2[7:].isdecimal():
                    raise ModelSpecificationError(f"{factor}: 'degree' must be a whole number, "
                                                  f"got {a2[7:]!r}.")
                deg = int(a2[7:])
            elif a2.isdecimal():
                deg = int(a2)
            else:
                raise ModelSpecificationError(f"{factor}: unsupported argument {a!r}.")
        x = evaluate_expression(data, args[0])
        mat = _poly(x, deg, state, ("poly", factor))
        return mat, [f"{factor}{j}" for j in range(1, deg + 1)]
    if call is not None and call[0] == "scale":
        args = call[1]
        center = scale = True
        for a in args[1:]:
            a2 = a.replace(" ", "")
            if a2 in ("center=FALSE", "center=F"):
                center = False
            elif a2 in ("scale=FALSE", "scale=F"):
                scale = False
            elif a2 not in ("center=TRUE", "scale=TRUE", "center=T", "scale=T"):
                raise ModelSpecificationError(f"{factor}: unsupported argument {a!r}.")
        x = evaluate_expression(data, args[0])
        key = ("scale", factor)
        if key not in state:
            ok = np.isfinite(x)
            c = float(x[ok].mean()) if center else 0.0
            s = float(np.sqrt(np.sum((x[ok] - c) ** 2) / (ok.sum() - 1))) if scale else 1.0
            state[key] = (c, s)
        c, s = state[key]
        return ((x - c) / s).reshape(-1, 1), [factor]
    if call is None:
        name = factor[1:-1] if factor.startswith("`") else factor
        col = _column(data, name, "")
        return _numeric(col, name).reshape(-1, 1), [name]
    if call[0] in _FUNCS or call[0] == "I":
        return evaluate_expression(data, factor).reshape(-1, 1), [factor]
    raise ModelSyntaxError(f"Formula function {call[0]!r} in {factor!r} is not supported; use one "
                           f"of C, factor, I, poly, scale, offset, {', '.join(sorted(_FUNCS))}.",
                           token=factor)


def _factor_matrix(codes, levels, contrast, label, full: bool):
    n = len(codes)
    k = len(levels)
    ind = np.zeros((n, k))
    ok = codes >= 0
    ind[np.flatnonzero(ok), codes[ok]] = 1.0
    if full:
        mat, names = ind, [f"{label}[{_lev_str(v)}]" for v in levels]
    elif contrast == "sum":
        mat = ind[:, :-1] - ind[:, [-1]]
        names = [f"{label}[S.{_lev_str(v)}]" for v in levels[:-1]]
    else:
        mat, names = ind[:, 1:], [f"{label}[{_lev_str(v)}]" for v in levels[1:]]
    mat[~ok] = np.nan
    return mat, names


def _term_label(term) -> str:
    return ":".join(term)


def build_design(data: pd.DataFrame, terms, intercept: bool, levels_cache: dict | None = None,
                 coding: str | None = None):
    """Build a design matrix for the given terms (R's ``model.matrix``).

    ``coding``: None (the formula's contrasts), ``"treatment"`` (treatment contrasts for every
    factor) or ``"full"`` (every factor with all its levels, lmerTest's ``get_rdX``).

    Returns
    -------
    X : ndarray (n, p)
    names : list of str
    term_cols : dict term label -> list of column indices (for anova)
    """
    state = {} if levels_cache is None else levels_cache
    n = len(data)
    cols = []
    names = []
    term_cols: dict[str, list[int]] = {}
    if intercept and coding != "full":
        cols.append(np.ones((n, 1)))
        names.append("(Intercept)")
    present = [frozenset(t) for t in terms] + ([frozenset()] if intercept else [])
    for term in terms:
        mat, nm = None, None
        for fac in term:
            if factor_kind(data, fac) == "factor":
                codes, levels, contrast, label = _factor_spec(data, fac, state)
                if coding == "full":
                    full = True
                else:
                    full = frozenset(f for f in term if f != fac) not in present
                if coding == "treatment":
                    contrast = "treatment"
                m2, n2 = _factor_matrix(codes, levels, contrast, label, full)
            else:
                m2, n2 = _numeric_values(data, fac, state)
            if mat is None:
                mat, nm = m2, n2
            else:   # R: the first factor varies fastest
                mat = np.einsum("ni,nj->nji", mat, m2).reshape(n, -1)
                nm = [f"{a}:{b}" for b in n2 for a in nm]
        label = _term_label(term)
        term_cols[label] = list(range(len(names), len(names) + len(nm)))
        cols.append(mat)
        names.extend(nm)
    if coding == "full" and intercept:
        cols.insert(0, np.ones((n, 1)))
        names.insert(0, "(Intercept)")
        term_cols = {k: [j + 1 for j in v] for k, v in term_cols.items()}
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    return X, names, term_cols


# --------------------------------------------------------------------------- type III contrasts
def _zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest |x|."""
    x = np.asarray(x, dtype=float)
    mx = float(np.max(np.abs(x))) if x.size else 0.0
    d = max(0, digits - int(math.ceil(math.log10(mx)))) if mx > 0 else digits
    return np.round(x, d)


def _resid(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(A, B, rcond=None)
    return B - A @ coef


def type3_contrasts(frame: pd.DataFrame, terms, intercept: bool, levels_cache: dict,
                    X: np.ndarray, names) -> dict:
    """lmerTest's type III contrasts (``get_contrasts_type3``), one matrix per term.

    Each term's hypothesis is built on treatment coding: the full-rank design is regressed on
    the design with every factor coded by all its levels (``rdX``), and a term's columns are
    made orthogonal to those of every term containing it (same numeric variables, more
    factors). A main effect that also appears in an interaction is therefore tested as the
    average over the other factor's levels (e.g. the mean slope of ``month`` over the
    conditions), not at the reference level. Other codings (sum contrasts) are mapped onto
    the model's own columns. ``frame`` holds the rows used by the fit.
    """
    terms = [tuple(t) for t in terms]
    labels = [_term_label(t) for t in terms]
    if X.shape[1] <= 1 or len(terms) <= 1:
        out = {}
        for lab, t in zip(labels, terms):
            cols = [j for j, nm in enumerate(names) if nm != "(Intercept)"] if len(terms) == 1 else []
            L = np.zeros((len(cols), X.shape[1]))
            L[range(len(cols)), cols] = 1.0
            out[lab] = L
        return out
    Xt, tnames, tcols = build_design(frame, terms, intercept, levels_cache, coding="treatment")
    rdX, rnames, _ = build_design(frame, terms, intercept, levels_cache, coding="full")
    coef, *_ = np.linalg.lstsq(Xt, rdX, rcond=None)      # ginv(Xt) %*% rdX
    L = _zapsmall(coef.T)                                 # rows rdX columns, cols Xt columns
    kinds = {f: factor_kind(frame, f) for t in terms for f in t}
    vars_ = {lab: set(t) for lab, t in zip(labels, terms)}
    nums = {lab: {f for f in t if kinds[f] == "numeric"} for lab, t in zip(labels, terms)}
    order = sorted(range(len(terms)), key=lambda i: -len(terms[i]))
    for i in order:
        lab = labels[i]
        contains = [lb for lb in labels if vars_[lab] < vars_[lb] and nums[lab] == nums[lb]]
        if contains:
            cc = [j for lb in contains for j in tcols[lb]]
            L[:, tcols[lab]] = _zapsmall(_resid(L[:, cc], L[:, tcols[lab]]))
    rpos = {nm: j for j, nm in enumerate(rnames)}
    missing = [nm for nm in tnames if nm not in rpos]
    if missing:   # pragma: no cover - both designs are built with one naming scheme
        raise ModelSpecificationError(f"Type III contrasts: columns {missing} not found.")
    L = L[[rpos[nm] for nm in tnames], :]
    same = list(tnames) == list(names) and np.allclose(Xt, X, equal_nan=True)
    if not same:
        mcoef, *_ = np.linalg.lstsq(Xt, X, rcond=None)
        mapping = _zapsmall(mcoef)
    out = {}
    for lab in labels:
        Lt = L[:, tcols[lab]].T
        Lt = Lt[np.sum(np.abs(Lt), axis=1) > 1e-8]
        out[lab] = Lt if same else Lt @ mapping
    return out
