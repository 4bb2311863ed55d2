"""Write a short form chosen by :func:`~psychometrics.efa.select_items` into an
item bank (instrument YAML) as a new form.

The bank's text is kept as it is (comments, anchors, order); the new form is
inserted under ``forms:`` (or a ``forms:`` section is added) and the result is
validated with the bank loader before it is returned or written.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..exceptions import ModelSpecificationError
from .selection import ShortForm

__all__ = ["short_form_to_bank"]


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # noqa: D401 - PyYAML hook
        return True


def _form_block(form_id: str, form: dict) -> str:
    dumped = yaml.dump({form_id: form}, Dumper=_NoAliasDumper, sort_keys=False,
                       allow_unicode=True, default_flow_style=None, width=100)
    return "".join("  " + line + "\n" for line in dumped.splitlines())


def short_form_to_bank(short_form: ShortForm, bank: str | os.PathLike, form_id: str, *,
                       name: str | None = None, source: str | None = None,
                       output: str | os.PathLike | None = None) -> str:
    """Add ``short_form`` to an item bank as the form ``form_id``.

    Parameters
    ----------
    short_form : ShortForm
        From :func:`~psychometrics.efa.select_items`; its items must be the bank's
        item ids (name the data columns after the bank's items).
    bank : str or path
        A shipped bank name (``"wai-sr"``) or a YAML file.
    form_id : str
        Key of the new form (must not exist yet).
    name : str, optional
        Human-readable name of the form.
    source : str, optional
        Provenance ``source`` of the form (default: the selection rule).
    output : path, optional
        Write the new YAML there (never implicitly over the input bank).

    Returns
    -------
    str
        The bank's YAML text with the new form.

    Notes
    -----
    The form keeps the bank scales that contain at least one selected item,
    and composite scales whose components are all kept.  A ``min_answered``
    rule is carried over with the same number of allowed blanks
    (``min_answered_new = max(1, k_new - (k_old - min_answered_old))``); the
    form marks these rules and itself ``verified: false`` (derived, not
    published).

    Raises
    ------
    ModelSpecificationError
        Items not in the bank, an existing form id, no scale left.
    BankValidationError
        The resulting bank does not validate (the message lists why).
    """
    from ..instruments import load_instrument, parse_bank  # lazy: instruments is upstream

    if not isinstance(short_form, ShortForm):
        raise ModelSpecificationError(
            f"short_form_to_bank needs a ShortForm (from select_items); got "
            f"{type(short_form).__name__}.")
    inst = load_instrument(bank)
    path = Path(bank) if Path(str(bank)).suffix in (".yaml", ".yml") else None
    if path is None:
        from ..instruments import instrument_paths
        path = instrument_paths()[inst.id] if inst.id in instrument_paths() else \
            instrument_paths()[str(bank).lower()]
    text = Path(path).read_text(encoding="utf-8")
    bank_items = [it.id for it in inst.items]
    unknown = [i for i in short_form.items if i not in bank_items]
    if unknown:
        raise ModelSpecificationError(
            f"Item(s) {', '.join(unknown)} of the short form are not items of bank "
            f"{inst.id!r} (its items: {', '.join(bank_items[:12])}"
            f"{', ...' if len(bank_items) > 12 else ''}). Name the data columns after the "
            "bank's item ids before the factor analysis.")
    if form_id in inst.forms:
        raise ModelSpecificationError(
            f"Bank {inst.id!r} already has a form {form_id!r}; choose another form_id.")
    chosen = set(short_form.items)
    # keep the bank's item order
    items = [i for i in bank_items if i in chosen]
    kept: list[str] = []
    missing: dict[str, dict] = {}
    derived = {"source": "derived from the scale's rule for the short form", "verified": False,
               "note": "same number of allowed blanks as the full scale"}
    for sid, sc in inst.scales.items():
        if sc.items:
            k_new = len(set(sc.items) & chosen)
            if not k_new:
                continue
            kept.append(sid)
            rule = sc.missing
            if rule is not None and rule.rule == "min_answered" and rule.min_answered and \
                    k_new != len(sc.items):
                allowed = len(sc.items) - rule.min_answered
                missing[sid] = {"rule": "min_answered",
                                "min_answered": max(1, k_new - allowed),
                                "provenance": derived}
            elif rule is not None and rule.rule == "impute_rounded_mean" and \
                    rule.max_missing is not None and k_new != len(sc.items):
                missing[sid] = {"rule": "impute_rounded_mean",
                                "max_missing": min(rule.max_missing, max(0, k_new - 1)),
                                "provenance": derived}
    for sid, sc in inst.scales.items():
        if sc.components and all(c in kept for c in sc.components):
            kept.append(sid)
    if not kept:
        raise ModelSpecificationError(
            f"None of bank {inst.id!r}'s scales contains a selected item; nothing to declare.")
    form = {
        "name": name or f"Short form ({len(items)} items, EFA selection)",
        "items": items,
        "scales": kept,
    }
    if missing:
        form["missing"] = missing
    form["provenance"] = {
        "source": source or f"psychometrics.efa.select_items: {short_form.rule.describe()}",
        "verified": False,
        "note": "chosen from an exploratory factor analysis; validate it in new data",
    }
    block = _form_block(form_id, form)
    lines = text.splitlines(keepends=True)
    idx = next((k for k, ln in enumerate(lines) if ln.rstrip() in ("forms:",)), None)
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
            sep = "" if text.endswith("\n") else "\n"
            new_text = text + sep + "forms:\n" + block
    parse_bank(new_text, source=f"{path} + form {form_id}")   # raises BankValidationError
    if output is not None:
        out = Path(output)
        if out.resolve() == Path(path).resolve():
            raise ModelSpecificationError(
                "short_form_to_bank does not overwrite the input bank; give another output "
                "path (and replace the bank yourself after review).")
        out.write_text(new_text, encoding="utf-8")
    return new_text
