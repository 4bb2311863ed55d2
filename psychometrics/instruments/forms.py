"""Add a form (a version of an instrument: a subset of its items) to an item bank.

Used by the short forms chosen from an EFA (:func:`psychometrics.efa.short_form_to_bank`)
and from item information (:func:`psychometrics.irt.short_form_to_bank`). The bank's text is
kept as it is (comments, anchors, order); the new form is inserted under ``forms:`` (or a
``forms:`` section is added) and the result is validated with the bank loader before it is
returned or written.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import yaml

from ..exceptions import ModelSpecificationError

__all__ = ["add_form"]


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # noqa: D401 - PyYAML hook
        return True


def _form_block(form_id: str, form: dict) -> str:
    dumped = yaml.dump({form_id: form}, Dumper=_NoAliasDumper, sort_keys=False,
                       allow_unicode=True, default_flow_style=None, width=100)
    return "".join("  " + line + "\n" for line in dumped.splitlines())


def add_form(bank: str | os.PathLike, form_id: str, items: Sequence[str], *, name: str,
             source: str, note: str, output: str | os.PathLike | None = None) -> str:
    """The bank's YAML text with a new form of ``items``.

    The form keeps the bank scales that contain at least one of the items, and composite
    scales whose components are all kept. A ``min_answered`` rule is carried over with the
    same number of allowed blanks (``max(1, k_new - (k_old - min_answered_old))``) and an
    ``impute_rounded_mean`` rule with at most ``k_new - 1`` blanks; these rules and the form
    are marked ``verified: false`` (derived, not published).

    Raises
    ------
    ModelSpecificationError
        Items not in the bank, an existing form id, no scale left, writing over the bank.
    BankValidationError
        The resulting bank does not validate (the message lists why).
    """
    from .loader import instrument_paths, load_instrument, parse_bank

    inst = load_instrument(bank)
    path = Path(bank) if Path(str(bank)).suffix in (".yaml", ".yml") else None
    if path is None:
        shipped = instrument_paths()
        path = shipped[inst.id] if inst.id in shipped else shipped[str(bank).lower()]
    text = Path(path).read_text(encoding="utf-8")
    bank_items = [it.id for it in inst.items]
    unknown = [i for i in items if i not in bank_items]
    if unknown:
        raise ModelSpecificationError(
            f"Item(s) {', '.join(unknown)} of the short form are not items of bank "
            f"{inst.id!r} (its items: {', '.join(bank_items[:12])}"
            f"{', ...' if len(bank_items) > 12 else ''}). Name the data columns after the "
            "bank's item ids before the analysis.")
    if form_id in inst.forms:
        raise ModelSpecificationError(
            f"Bank {inst.id!r} already has a form {form_id!r}; choose another form_id.")
    chosen = set(items)
    kept: list[str] = []
    missing: dict[str, dict] = {}
    derived = {"source": "derived from the scale's rule for the short form", "verified": False,
               "note": "same number of allowed blanks as the full scale"}
    for sid, sc in inst.scales.items():
        if not sc.items:
            continue
        k_new = len(set(sc.items) & chosen)
        if not k_new:
            continue
        kept.append(sid)
        rule = sc.missing
        if rule is None or k_new == len(sc.items):
            continue
        if rule.rule == "min_answered" and rule.min_answered:
            allowed = len(sc.items) - rule.min_answered
            missing[sid] = {"rule": "min_answered", "min_answered": max(1, k_new - allowed),
                            "provenance": derived}
        elif rule.rule == "impute_rounded_mean" and rule.max_missing is not None:
            missing[sid] = {"rule": "impute_rounded_mean",
                            "max_missing": min(rule.max_missing, max(0, k_new - 1)),
                            "provenance": derived}
    for sid, sc in inst.scales.items():
        if sc.components and all(c in kept for c in sc.components):
            kept.append(sid)
    if not kept:
        raise ModelSpecificationError(
            f"None of bank {inst.id!r}'s scales contains a selected item; nothing to declare.")
    form = {"name": name, "items": [i for i in bank_items if i in chosen], "scales": kept}
    if missing:
        form["missing"] = missing
    form["provenance"] = {"source": source, "verified": False, "note": note}
    block = _form_block(form_id, form)
    lines = text.splitlines(keepends=True)
    idx = next((k for k, ln in enumerate(lines) if ln.rstrip() == "forms:"), None)
    if idx is not None:
        new_text = "".join(lines[: idx + 1]) + block + "".join(lines[idx + 1:])
    else:
        inline_empty = next((k for k, ln in enumerate(lines)
                             if ln.startswith("forms:") and ln.split(":", 1)[1].strip()
                             in ("{}", "")), None)
        if inline_empty is not None:
            lines[inline_empty] = "forms:\n" + block
            new_text = "".join(lines)
        else:
            new_text = text + ("" if text.endswith("\n") else "\n") + "forms:\n" + block
    parse_bank(new_text, source=f"{path} + form {form_id}")   # raises BankValidationError
    if output is not None:
        out = Path(output)
        if out.resolve() == Path(path).resolve():
            raise ModelSpecificationError(
                "short_form_to_bank does not overwrite the input bank; give another output "
                "path (and replace the bank yourself after review).")
        out.write_text(new_text, encoding="utf-8")
    return new_text
