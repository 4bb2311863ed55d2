"""CFA syntax written from an item bank (``psychometrics.instruments``).

``cfa_model(instrument, form)`` declares one factor per item-based scale of the
form, named by the scale id, measured by the scale's items (bank order, except that
the first item not reverse-keyed is moved to the front: the marker whose loading is
fixed to 1, so that each factor points the way its scale is scored). Scales
made of other scales (a total) become second-order factors when
``higher_order=True`` and are left out otherwise. Reverse-keyed items need no
recoding: their loadings are simply negative.
"""
from __future__ import annotations

from ..exceptions import ModelSpecificationError

__all__ = ["cfa_model", "factor_scales", "omega_model"]


def _split_scales(inst) -> tuple[dict, dict]:
    """The form's item-based scales (the factors) and its composites (scale -> parts)."""
    item_scales = {sid: s for sid, s in inst.scales.items() if s.items}
    comp_scales = {sid: list(s.components) for sid, s in inst.scales.items() if s.components}
    # an item-based scale whose items are exactly the union of two or more other
    # item-based scales (a total written out item by item) is a composite as well
    for sid, s in list(item_scales.items()):
        parts = [o for o, so in item_scales.items()
                 if o != sid and set(so.items) < set(s.items)]
        covered = set().union(*(set(item_scales[o].items) for o in parts)) if parts else set()
        if len(parts) >= 2 and covered == set(s.items):
            comp_scales[sid] = parts
            del item_scales[sid]
    return item_scales, comp_scales


def _resolve(instrument):
    if isinstance(instrument, str):
        from ..instruments import load_instrument
        instrument = load_instrument(instrument)
    return instrument


def factor_scales(instrument, form: str | None = None) -> list[str]:
    """The scales that are factors of :func:`cfa_model` (bank order): the item-based scales,
    without composites (scales made of other scales, or a total written out item by item as
    the union of two or more of them). ``form=None`` takes the instrument as given."""
    inst = _resolve(instrument)
    return list(_split_scales(inst.with_form(form) if form is not None else inst)[0])


def omega_model(instrument, scale: str, form: str | None = None) -> str:
    """lavaan syntax whose defined parameter ``omega`` is the reliability of the keyed sum
    score of ``scale`` (fit it with ``std_lv=True``).

    One factor per component (a composite scale) or a single factor; with factor sums
    ``L_f = sum_i s_i lambda_i`` (``s_i = -1`` for reverse-keyed items) and factor
    correlations ``phi_fg``::

        omega = sum_fg L_f L_g phi_fg / (sum_fg L_f L_g phi_fg + sum_i theta_i)

    (Raykov, 1997; ``semTools::compRelSEM`` for a total score). ``form=None`` takes the
    instrument as given.
    """
    inst = _resolve(instrument)
    inst = inst.with_form(form) if form is not None else inst
    if scale not in inst.scales:
        raise ModelSpecificationError(
            f"{scale!r} is not a scale of {inst.id}; its scales: {', '.join(inst.scales)}.")
    sc = inst.scales[scale]
    groups = ([(c, list(inst.scales[c].items)) for c in sc.components] if sc.components
              else [("f", list(sc.items))])
    lines, sums, resid = [], [], []
    k = 0
    for j, (_, items) in enumerate(groups):
        terms, sterms = [], []
        for it in items:
            k += 1
            terms.append(f"l{k}*{it}")
            sterms.append(("-" if inst.is_reversed(scale, it) else "+") + f"l{k}")
            lines.append(f"{it} ~~ e{k}*{it}")
            resid.append(f"e{k}")
        lines.insert(j, f"F{j + 1} =~ " + " + ".join(terms))
        sums.append("(" + "".join(sterms).lstrip("+") + ")")
    true_parts = [f"{s}^2" for s in sums]
    for a in range(len(groups)):
        for b in range(a + 1, len(groups)):
            lines.append(f"F{a + 1} ~~ c{a + 1}{b + 1}*F{b + 1}")
            true_parts.append(f"2*c{a + 1}{b + 1}*{sums[a]}*{sums[b]}")
    true = " + ".join(true_parts)
    lines.append(f"omega := ({true}) / ({true} + {' + '.join(resid)})")
    return "\n".join(lines)


def cfa_model(instrument, form: str | None = None, *, higher_order: bool = False) -> str:
    """lavaan syntax of the CFA implied by an instrument's scales.

    Parameters
    ----------
    instrument : Instrument or str
        A loaded bank or its id/path (as ``psychometrics.load_instrument``).
    form : str, optional
        Form of the instrument (default: the bank's default form).
    higher_order : bool
        Add scales made of other scales (e.g. a total) as second-order factors.

    Returns
    -------
    str
        Model syntax for :func:`psychometrics.sem.fit`.

    Raises
    ------
    ModelSpecificationError
        If an item belongs to two item-based scales of the form (the model would
        need cross-loadings), or a scale has fewer than two items.
    """
    instrument = _resolve(instrument)
    resolved = form or instrument.default_form or "all items"
    inst = instrument.with_form(form)
    item_scales, comp_scales = _split_scales(inst)
    owner: dict[str, str] = {}
    for sid, s in item_scales.items():
        for item in s.items:
            if item in owner:
                raise ModelSpecificationError(
                    f"Item {item!r} belongs to scales {owner[item]!r} and {sid!r} of form "
                    f"{resolved!r}; a CFA with one factor per scale needs "
                    f"disjoint scales. Choose a form whose scales do not overlap.")
            owner[item] = sid
        if len(s.items) < 2:
            raise ModelSpecificationError(
                f"Scale {sid!r} has {len(s.items)} item(s); a factor needs at least two.")
    order = {i: k for k, i in enumerate(inst.item_ids)}
    lines = [f"# CFA of {inst.name} ({inst.id}), form {resolved}"]
    for sid, s in item_scales.items():
        items = sorted(s.items, key=order.get)
        rev = [i for i in items if i in s.reverse]
        # the first indicator is the marker (loading fixed to 1): take one that is not
        # reverse-keyed, so that the factor points the way the scale is scored and its
        # correlations with the other factors have the signs of the scale scores'
        keyed = [i for i in items if i not in s.reverse]
        if rev and items[0] in s.reverse and keyed:
            items.remove(keyed[0])
            items.insert(0, keyed[0])
        note = f"  # reverse-keyed: {', '.join(rev)}" if rev else ""
        lines.append(f"{sid} =~ {' + '.join(items)}{note}")
    if higher_order:
        for sid, parts in comp_scales.items():
            comps = [c for c in parts if c in item_scales]
            if len(comps) >= 2:
                lines.append(f"{sid} =~ {' + '.join(comps)}")
    return "\n".join(lines) + "\n"
