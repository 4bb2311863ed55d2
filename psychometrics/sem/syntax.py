"""Parser for lavaan model syntax.

Turns model text into a list of :class:`Statement` objects (one per
``lhs op rhs`` term) plus :class:`Definition` objects for ``:=`` lines. The
parser knows nothing about data or identification; :mod:`.partable` turns its
output into the parameter table.

Supported: ``=~`` (loadings), ``~`` (regressions), ``~~`` (variances and
covariances), ``~ 1`` (intercepts), ``:=`` (defined parameters), ``==``
(equality between labels), modifiers ``0.5*x`` (fixed), ``NA*x`` (free),
``a*x`` (label), ``start(0.5)*x``, ``equal("a")*x``, per-group vectors
``c(a, b)*x``, comments (``#`` or ``!``), ``;`` separators and statements
continued over several lines. Thresholds of ordered indicators: ``x1 | t1 + t2`` with
the same modifiers (``x1 | a*t1 + 0*t2``); each term is named ``t<k>`` (the k-th
threshold).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..exceptions import ModelSyntaxError

__all__ = ["Statement", "Definition", "Constraint", "ParsedModel", "parse_model"]

# longest operators first
_OPERATORS = ["=~", "~~", ":=", "==", "<~", "~*~", "~", "|", "<", ">"]
_SUPPORTED = {"=~", "~~", "~", ":=", "==", "<", ">", "<~", "|"}
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_THRESHOLD = re.compile(r"^t([1-9][0-9]*)$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Modifier:
    """Per-term modifiers; each is a tuple with one entry per group (or one for all)."""

    fixed: tuple | None = None  # float, or None meaning NA (free)
    label: tuple | None = None
    start: tuple | None = None


@dataclass(frozen=True)
class Statement:
    """One ``lhs op rhs`` relation from the syntax (``rhs == ""`` for ``~1``)."""

    lhs: str
    op: str
    rhs: str
    line: int
    modifier: Modifier = field(default_factory=Modifier)


@dataclass(frozen=True)
class Definition:
    """A defined parameter ``name := expression``."""

    name: str
    expression: str
    line: int


@dataclass(frozen=True)
class Constraint:
    """A constraint ``lhs == rhs``, ``lhs < rhs`` or ``lhs > rhs`` between labels or
    expressions (R syntax)."""

    lhs: str
    rhs: str
    line: int
    op: str = "=="


@dataclass(frozen=True)
class ParsedModel:
    statements: tuple[Statement, ...]
    definitions: tuple[Definition, ...]
    constraints: tuple[Constraint, ...]


def _strip_comment(line: str) -> str:
    out = []
    quote = None
    for ch in line:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "#!":
            break
        out.append(ch)
    return "".join(out)


_CONT_END = ("+", "*", "=~", "~", "~~", ":=", "==", ",", "(", "-", "/", "^", "<", ">")
_CONT_START = ("+", "*", "=~", "~", ":=", "==", ",", ")", "-", "/", "^", "<", ">")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Split text into statements, joining continuation lines; keep 1-based line numbers."""
    pieces: list[tuple[int, str]] = []
    for i, raw in enumerate(text.splitlines(), start=1):
        body = _strip_comment(raw)
        for part in body.split(";"):
            part = part.strip()
            if part:
                pieces.append((i, part))
    out: list[tuple[int, str]] = []
    for line_no, part in pieces:
        if out:
            prev_line, prev = out[-1]
            depth = prev.count("(") - prev.count(")")
            if prev.endswith(_CONT_END) or part.startswith(_CONT_START) or depth > 0:
                out[-1] = (prev_line, prev + " " + part)
                continue
        out.append((line_no, part))
    return out


def _find_operator(stmt: str, line: int) -> tuple[str, int]:
    depth = 0
    quote = None
    i = 0
    while i < len(stmt):
        ch = stmt[i]
        if quote:
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for op in _OPERATORS:
                if stmt.startswith(op, i):
                    return op, i
        i += 1
    raise ModelSyntaxError(
        f"Model syntax line {line}: no operator (=~, ~, ~~, :=, ==) found in {stmt!r}.",
        line=line, token=stmt)


def _split_top(s: str, sep: str) -> list[str]:
    parts, depth, cur, quote = [], 0, [], None
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _parse_scalar(tok: str, line: int, kind: str):
    tok = tok.strip()
    if tok == "NA":
        return ("na", None)
    if _NUMBER.match(tok):
        return ("num", float(tok))
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "\"'":
        return ("label", tok[1:-1])
    if _NAME.match(tok):
        return ("label", tok)
    raise ModelSyntaxError(
        f"Model syntax line {line}: cannot read {kind} modifier {tok!r}.", line=line, token=tok)


def _parse_modifier(tok: str, line: int, mod: dict) -> None:
    tok = tok.strip()
    m = re.match(r"^(start|equal|label|c)\s*\((.*)\)$", tok, flags=re.S)
    if m:
        fun, inner = m.group(1), m.group(2)
        values = [_parse_scalar(v, line, fun) for v in _split_top(inner, ",")]
        if fun == "start":
            if any(k != "num" for k, _ in values):
                raise ModelSyntaxError(
                    f"Model syntax line {line}: start() needs numbers, got {tok!r}.",
                    line=line, token=tok)
            mod["start"] = tuple(v for _, v in values)
            return
        if fun in ("equal", "label"):
            mod["label"] = tuple(str(v) for _, v in values)
            return
        # c(...): numbers/NA -> fixed, names -> labels
        kinds = {k for k, _ in values}
        if kinds <= {"num", "na"}:
            mod["fixed"] = tuple(v for _, v in values)
        elif kinds == {"label"}:
            mod["label"] = tuple(v for _, v in values)
        else:
            raise ModelSyntaxError(
                f"Model syntax line {line}: c() mixes numbers and labels in {tok!r}.",
                line=line, token=tok)
        return
    kind, value = _parse_scalar(tok, line, "a")
    if kind == "num":
        mod["fixed"] = (value,)
    elif kind == "na":
        mod["fixed"] = (None,)
    else:
        mod["label"] = (value,)


def _check_name(name: str, line: int, stmt: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ModelSyntaxError(
            f"Model syntax line {line}: {name!r} is not a valid variable name in {stmt!r}.",
            line=line, token=name or stmt)
    return name


def parse_model(text: str) -> ParsedModel:
    """Parse lavaan model syntax.

    Parameters
    ----------
    text : str
        The model in lavaan syntax.

    Returns
    -------
    ParsedModel
        Statements in syntax order (one per right-hand-side term), definitions
        (``:=``) and constraints (``==``).

    Raises
    ------
    ModelSyntaxError
        With the 1-based ``line`` and offending ``token``.
    """
    if not isinstance(text, str):
        raise ModelSyntaxError(f"The model argument must be a string of lavaan syntax, "
                               f"got {type(text).__name__}.")
    statements: list[Statement] = []
    definitions: list[Definition] = []
    constraints: list[Constraint] = []
    for line, stmt in _logical_lines(text):
        op, pos = _find_operator(stmt, line)
        lhs_txt, rhs_txt = stmt[:pos].strip(), stmt[pos + len(op):].strip()
        if op not in _SUPPORTED:
            raise ModelSyntaxError(
                f"Model syntax line {line}: operator {op!r} is not supported "
                f"(supported: =~, <~, ~, ~~, |, :=, ==, <, >).", line=line, token=op)
        if not lhs_txt:
            raise ModelSyntaxError(f"Model syntax line {line}: nothing left of {op!r} in {stmt!r}.",
                                   line=line, token=op)
        if not rhs_txt:
            raise ModelSyntaxError(f"Model syntax line {line}: nothing right of {op!r} in {stmt!r}.",
                                   line=line, token=op)
        if op == ":=":
            name = _check_name(lhs_txt, line, stmt)
            definitions.append(Definition(name, re.sub(r"\s+", "", rhs_txt), line))
            continue
        if op in ("==", "<", ">"):
            constraints.append(Constraint(re.sub(r"\s+", "", lhs_txt),
                                          re.sub(r"\s+", "", rhs_txt), line, op))
            continue
        lhs_names = [_check_name(x, line, stmt) for x in _split_top(lhs_txt, "+")]
        if op == "|" and len(lhs_names) != 1:
            raise ModelSyntaxError(
                f"Model syntax line {line}: thresholds belong to one variable; write one "
                f"'x | t1 + t2' statement per variable in {stmt!r}.", line=line, token=lhs_txt)
        terms = _split_top(rhs_txt, "+")
        parsed_terms = []
        for term in terms:
            term = term.strip()
            if not term:
                raise ModelSyntaxError(
                    f"Model syntax line {line}: empty term (stray '+') in {stmt!r}.",
                    line=line, token="+")
            parts = _split_top(term, "*")
            var = parts[-1].strip()
            mod: dict = {}
            for p in parts[:-1]:
                _parse_modifier(p, line, mod)
            this_op = op
            rhs = var
            if op == "|":
                if not _THRESHOLD.match(var):
                    raise ModelSyntaxError(
                        f"Model syntax line {line}: threshold {var!r} of {lhs_names[0]!r} must "
                        f"be named t1, t2, ... (the first, second, ... threshold), as in "
                        f"'{lhs_names[0]} | t1 + t2'.", line=line, token=var)
                parsed_terms.append((op, var, Modifier(**mod)))
                continue
            if var == "1" or (_NUMBER.match(var) and float(var) == 1.0 and op == "~"):
                if op != "~":
                    raise ModelSyntaxError(
                        f"Model syntax line {line}: '1' is only allowed after '~' (intercepts).",
                        line=line, token=var)
                this_op, rhs = "~1", ""
            else:
                if _NUMBER.match(var):
                    raise ModelSyntaxError(
                        f"Model syntax line {line}: number {var!r} where a variable name is "
                        f"expected (write e.g. 0.5*{lhs_names[0]}... as 0.5*varname).",
                        line=line, token=var)
                rhs = _check_name(var, line, stmt)
            parsed_terms.append((this_op, rhs, Modifier(**mod)))
        # several left-hand sides: all terms of the first, then of the next (lavaan order)
        for lhs in lhs_names:
            for this_op, rhs, mod in parsed_terms:
                statements.append(Statement(lhs, this_op, rhs, line, mod))
    if not statements:
        raise ModelSyntaxError("The model syntax contains no model statements (=~, ~, ~~).")
    return ParsedModel(tuple(statements), tuple(definitions), tuple(constraints))
