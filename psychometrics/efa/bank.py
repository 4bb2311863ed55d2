"""Write a short form chosen by :func:`~psychometrics.efa.select_items` into an
item bank (instrument YAML) as a new form.

The bank's text is kept as it is (comments, anchors, order); the new form is
inserted under ``forms:`` (or a ``forms:`` section is added) and the result is
validated with the bank loader before it is returned or written.
"""
from __future__ import annotations

import os

from ..exceptions import ModelSpecificationError
from .selection import ShortForm

__all__ = ["short_form_to_bank"]


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
    from ..instruments.forms import add_form  # lazy: instruments is upstream

    if not isinstance(short_form, ShortForm):
        raise ModelSpecificationError(
            f"short_form_to_bank needs a ShortForm (from select_items); got "
            f"{type(short_form).__name__}.")
    return add_form(bank, form_id, short_form.items,
                    name=name or f"Short form ({len(short_form.items)} items, EFA selection)",
                    source=source or ("psychometrics.efa.select_items: "
                                      f"{short_form.rule.describe()}"),
                    note="chosen from an exploratory factor analysis; validate it in new data",
                    output=output)
