"""Defined parameters (``name := expression``) and their delta-method standard errors.

The expression (R syntax: ``+ - * / ^``, ``exp log sqrt abs``) is checked
with :mod:`ast` (names, numbers, arithmetic and those functions only) and
evaluated on the labelled parameters. Its Jacobian is computed by complex
step, as lavaan's ``lav_func_jacobian_complex``.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from ..exceptions import ModelSyntaxError

__all__ = ["CompiledDefinition", "compile_definitions", "evaluate_definitions"]

_FUNCS = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "sin": np.sin,
          "cos": np.cos, "tanh": np.tanh}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant, ast.Call,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


@dataclass(frozen=True)
class CompiledDefinition:
    name: str
    expression: str   # as written (whitespace removed), lavaan's rhs
    code: object
    names: tuple[str, ...]
    line: int


def compile_definitions(definitions, labels: set[str]) -> tuple[CompiledDefinition, ...]:
    """Check and compile ``:=`` expressions; every name must be a label or an earlier definition."""
    out = []
    known = set(labels)
    for d in definitions:
        src = d.expression.replace("^", "**")
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError as exc:
            raise ModelSyntaxError(
                f"Model syntax line {d.line}: cannot read the expression {d.expression!r} of "
                f"defined parameter {d.name!r}.", line=d.line, token=d.expression) from exc
        used = []
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise ModelSyntaxError(
                    f"Model syntax line {d.line}: {type(node).__name__} is not allowed in the "
                    f"expression of {d.name!r}.", line=d.line, token=d.expression)
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
                    raise ModelSyntaxError(
                        f"Model syntax line {d.line}: only {', '.join(_FUNCS)} can be called in "
                        f"defined parameters.", line=d.line, token=d.expression)
            elif isinstance(node, ast.Name) and node.id not in _FUNCS:
                if node.id not in known:
                    raise ModelSyntaxError(
                        f"Model syntax line {d.line}: {node.id!r} in the definition of "
                        f"{d.name!r} is not a parameter label.", line=d.line, token=node.id)
                used.append(node.id)
        out.append(CompiledDefinition(d.name, d.expression, compile(tree, "<:=>", "eval"),
                                      tuple(used), d.line))
        known.add(d.name)
    return tuple(out)


def evaluate_definitions(defs, label_values: dict) -> dict:
    """Values of every defined parameter; ``label_values`` maps label -> value."""
    env = dict(label_values)
    out = {}
    for d in defs:
        val = eval(d.code, {"__builtins__": {}, **_FUNCS}, env)  # noqa: S307 (checked AST)
        env[d.name] = val
        out[d.name] = val
    return out
