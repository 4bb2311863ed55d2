"""The item-bank schema: pydantic models for instruments declared in YAML.

A bank is data, not code. These models say what a bank may contain; the
structural checks (types, required fields, unknown fields) are pydantic's, the
cross-field checks (an item in a scale that is not in the bank, a reverse key
outside its scale, a range that contradicts the response scale, ...) are in
:func:`semantic_issues`, which lists every problem at once with its location.

Every fact carries its ``source`` and a ``verified`` flag: ``verified: false``
marks a fact that is consistent with what is known but not confirmed in a
primary source.
"""
from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from ..exceptions import BankIssue

__all__ = [
    "Provenance", "ResponseScale", "Item", "MissingRule", "Scale", "Form",
    "ScaleNorm", "NormSet", "Instrument", "semantic_issues",
]

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Frozen):
    """Where a fact was read, and whether it was confirmed in a primary source."""

    source: str = Field(min_length=1)
    verified: bool
    note: str | None = None


class ResponseScale(_Frozen):
    """The response options every item shares: integer points ``min..max``."""

    min: int
    max: int
    labels: dict[int, str] = Field(default_factory=dict)
    integer: bool = True
    provenance: Provenance

    @property
    def points(self) -> list[int]:
        return list(range(self.min, self.max + 1))


class Item(_Frozen):
    """One item. ``text`` is optional: copyrighted wordings are never shipped."""

    id: Identifier
    number: int | None = Field(default=None, ge=1)
    text: str | None = None
    source: str = Field(min_length=1)
    verified: bool


class MissingRule(_Frozen):
    """How a scale is scored when some of its items are blank.

    ``complete``
        every item must be answered.
    ``min_answered``
        score when at least ``min_answered`` items are answered: a mean scale
        is the mean of the answered items, a sum scale the prorated sum
        (mean of the answered items times the number of items).
    ``impute_rounded_mean``
        the OQ rule: each blank is replaced by the mean of the answered items
        of the scale, rounded to the nearest whole number (halves upwards),
        as long as at most ``max_missing`` items are blank.
    """

    rule: Literal["complete", "min_answered", "impute_rounded_mean"]
    min_answered: int | None = Field(default=None, ge=1)
    max_missing: int | None = Field(default=None, ge=0)
    provenance: Provenance


class Scale(_Frozen):
    """A subscale or total.

    Either ``items`` (scored from item responses) or ``components`` (the sum of
    other scales' scores, e.g. the OQ-45 total as the sum of its subscales, so
    that each subscale's missing-data rule applies before totalling).
    """

    name: str
    items: tuple[Identifier, ...] = ()
    components: tuple[Identifier, ...] = ()
    reverse: tuple[Identifier, ...] = ()
    method: Literal["sum", "mean"] = "sum"
    missing: MissingRule | None = None
    range: tuple[float, float] | None = None
    higher_is_worse: bool = False
    provenance: Provenance
    reverse_provenance: Provenance | None = None


class Form(_Frozen):
    """A version of the instrument: which items and scales it uses.

    Scales keep only the items of the form; ``missing`` overrides a scale's
    missing-data rule for this form (a short form needs its own ``k``).
    """

    name: str
    items: tuple[Identifier, ...] | None = None
    scales: tuple[Identifier, ...] | None = None
    missing: dict[Identifier, MissingRule] = Field(default_factory=dict)
    provenance: Provenance


class ScaleNorm(_Frozen):
    """Norms of one scale: clinical cut-off and reliable change.

    ``cutoff`` is the first score in the dysfunctional range (for a scale where
    higher is worse, scores >= cutoff are dysfunctional). ``rci`` is the
    smallest change in raw points that counts as reliable. Means and SDs of the
    functional and dysfunctional populations and the reliability allow the
    Jacobson-Truax quantities to be derived when not given.
    """

    cutoff: float | None = None
    rci: float | None = Field(default=None, gt=0)
    reliability: float | None = Field(default=None, gt=0, lt=1)
    sd: float | None = Field(default=None, gt=0)
    functional_mean: float | None = None
    functional_sd: float | None = Field(default=None, gt=0)
    dysfunctional_mean: float | None = None
    dysfunctional_sd: float | None = Field(default=None, gt=0)
    provenance: Provenance


class NormSet(_Frozen):
    name: str
    population: str | None = None
    scales: dict[Identifier, ScaleNorm]
    provenance: Provenance


class Instrument(_Frozen):
    """A validated item bank. Load one with :func:`psychometrics.load_instrument`."""

    id: Identifier
    name: str
    version: str
    citation: str
    licence: str
    notes: str | None = None
    provisional: bool = False
    response_scale: ResponseScale
    items: tuple[Item, ...] = Field(min_length=1)
    scales: dict[Identifier, Scale] = Field(min_length=1)
    forms: dict[Identifier, Form] = Field(default_factory=dict)
    default_form: Identifier | None = None
    norms: dict[Identifier, NormSet] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "Instrument":
        # The loader runs these checks itself to attach line numbers.
        if info.context and info.context.get("skip_semantic"):
            return self
        issues = semantic_issues(self)
        if issues:
            raise ValueError("; ".join(str(i) for i in issues))
        return self

    # ------------------------------------------------------------------ views
    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def scale_items(self, scale_id: str) -> tuple[str, ...]:
        """Item ids of a scale, components expanded, in bank order."""
        scale = self.scales[scale_id]
        if not scale.components:
            return scale.items
        wanted = set()
        for c in scale.components:
            wanted.update(self.scale_items(c))
        return tuple(i for i in self.item_ids if i in wanted)

    def is_reversed(self, scale_id: str, item_id: str) -> bool:
        scale = self.scales[scale_id]
        if scale.components:
            return any(item_id in self.scale_items(c) and self.is_reversed(c, item_id)
                       for c in scale.components)
        return item_id in scale.reverse

    def scale_range(self, scale_id: str) -> tuple[float, float]:
        """Possible range of the scale score, from the response scale."""
        scale = self.scales[scale_id]
        if scale.components:
            lows, highs = zip(*(self.scale_range(c) for c in scale.components))
            return float(sum(lows)), float(sum(highs))
        lo, hi = self.response_scale.min, self.response_scale.max
        if scale.method == "mean":
            return float(lo), float(hi)
        k = len(scale.items)
        return float(k * lo), float(k * hi)

    def item_table(self) -> pd.DataFrame:
        """One row per (item, scale): item_id, scale, reverse, min, max."""
        rows = []
        for sid in self.scales:
            if self.scales[sid].components:
                continue
            for iid in self.scales[sid].items:
                rows.append({"item_id": iid, "scale": sid,
                             "reverse": iid in self.scales[sid].reverse,
                             "min": self.response_scale.min, "max": self.response_scale.max})
        return pd.DataFrame(rows, columns=["item_id", "scale", "reverse", "min", "max"])

    def with_form(self, form: str | None) -> "Instrument":
        """The instrument as one of its forms uses it (``None``: the default form).

        Items outside the form are dropped, scales keep only the form's items,
        and the form's missing-data overrides replace the scales' rules.
        """
        if form is None:
            form = self.default_form
        if form is None:
            return self
        if form not in self.forms:
            from ..exceptions import InstrumentError

            known = ", ".join(sorted(self.forms)) or "none"
            raise InstrumentError(
                f"Instrument {self.id!r} has no form {form!r}; its forms are: {known}.")
        f = self.forms[form]
        keep_items = set(f.items) if f.items is not None else set(self.item_ids)
        keep_scales = list(f.scales) if f.scales is not None else list(self.scales)
        scales = {}
        for sid in keep_scales:
            s = self.scales[sid]
            update: dict = {}
            if s.items:
                update["items"] = tuple(i for i in s.items if i in keep_items)
                update["reverse"] = tuple(i for i in s.reverse if i in keep_items)
                if len(update["items"]) != len(s.items):
                    update["range"] = None  # derived from the form's items
            if sid in f.missing:
                update["missing"] = f.missing[sid]
            scales[sid] = s.model_copy(update=update)
        return self.model_copy(update={
            "items": tuple(i for i in self.items if i.id in keep_items),
            "scales": scales,
            "forms": {},
            "default_form": None,
            "version": f"{self.version} ({form})",
        })


# ---------------------------------------------------------------------- checks
def semantic_issues(inst: Instrument) -> list[BankIssue]:
    """Every cross-field inconsistency of a bank, each with its YAML location."""
    issues: list[BankIssue] = []
    add = lambda loc, msg: issues.append(BankIssue(loc, msg))  # noqa: E731

    rs = inst.response_scale
    if rs.min >= rs.max:
        add("response_scale.max", f"must be greater than response_scale.min ({rs.min}); got {rs.max}.")
    for point in rs.labels:
        if not rs.min <= point <= rs.max:
            add(f"response_scale.labels.{point}",
                f"label for {point} lies outside the response scale {rs.min}..{rs.max}.")

    seen: dict[str, int] = {}
    for k, item in enumerate(inst.items):
        if item.id in seen:
            add(f"items[{k}].id", f"duplicate item id {item.id!r} (first at items[{seen[item.id]}]).")
        else:
            seen[item.id] = k
    item_ids = set(seen)

    for sid, scale in inst.scales.items():
        here = f"scales.{sid}"
        if bool(scale.items) == bool(scale.components):
            add(here, "declare exactly one of 'items' (scored from responses) or "
                      "'components' (sum of other scales).")
        dup = {i for i in scale.items if scale.items.count(i) > 1}
        for d in sorted(dup):
            add(f"{here}.items", f"item {d!r} is listed more than once.")
        for k, iid in enumerate(scale.items):
            if iid not in item_ids:
                add(f"{here}.items[{k}]", f"item {iid!r} is not in the bank's items.")
        for k, iid in enumerate(scale.reverse):
            if iid not in scale.items:
                add(f"{here}.reverse[{k}]",
                    f"reverse-keyed item {iid!r} is not one of this scale's items.")
        for k, cid in enumerate(scale.components):
            if cid not in inst.scales:
                add(f"{here}.components[{k}]", f"scale {cid!r} is not declared in 'scales'.")
            elif cid == sid:
                add(f"{here}.components[{k}]", "a scale cannot be its own component.")
            elif inst.scales[cid].components:
                add(f"{here}.components[{k}]",
                    f"component {cid!r} is itself a composite; nest at most one level.")
        if scale.components and scale.reverse:
            add(f"{here}.reverse", "a composite scale takes reverse keys from its components.")
        if scale.components and scale.missing is not None:
            add(f"{here}.missing", "a composite scale uses its components' missing-data rules.")
        if scale.components and scale.method != "sum":
            add(f"{here}.method", "a composite scale is the sum of its components.")
        if scale.items and scale.missing is None:
            add(f"{here}.missing", "declare the missing-data rule (rule: complete, "
                                   "min_answered or impute_rounded_mean).")
        if scale.missing is not None and scale.items:
            issues.extend(_missing_rule_issues(scale.missing, len(scale.items), f"{here}.missing"))
        if scale.range is not None and not issues_block_range(inst, sid):
            expected = inst.scale_range(sid)
            if tuple(map(float, scale.range)) != expected:
                add(f"{here}.range",
                    f"range {list(scale.range)} contradicts the response scale "
                    f"{rs.min}..{rs.max} with {len(inst.scale_items(sid))} items scored by "
                    f"{scale.method}: expected {list(expected)}.")

    for fid, form in inst.forms.items():
        here = f"forms.{fid}"
        form_items = set(form.items) if form.items is not None else item_ids
        for k, iid in enumerate(form.items or ()):
            if iid not in item_ids:
                add(f"{here}.items[{k}]", f"item {iid!r} is not in the bank's items.")
        for k, sid in enumerate(form.scales or ()):
            if sid not in inst.scales:
                add(f"{here}.scales[{k}]", f"scale {sid!r} is not declared in 'scales'.")
            elif inst.scales[sid].items and not set(inst.scales[sid].items) & form_items:
                add(f"{here}.scales[{k}]", f"scale {sid!r} has none of the form's items.")
            elif form.scales is not None:
                for cid in inst.scales[sid].components:
                    if cid not in form.scales:
                        add(f"{here}.scales[{k}]", f"composite {sid!r} needs its component "
                                                   f"{cid!r} in the form's scales too.")
        for sid, rule in form.missing.items():
            if sid not in inst.scales or not inst.scales[sid].items:
                add(f"{here}.missing.{sid}", f"{sid!r} is not an item-scored scale of the bank.")
                continue
            n = len(set(inst.scales[sid].items) & form_items)
            issues.extend(_missing_rule_issues(rule, n, f"{here}.missing.{sid}"))
    if inst.default_form is not None and inst.default_form not in inst.forms:
        add("default_form", f"form {inst.default_form!r} is not declared in 'forms'.")

    for nid, norm in inst.norms.items():
        for sid, sn in norm.scales.items():
            here = f"norms.{nid}.scales.{sid}"
            if sid not in inst.scales:
                add(here, f"scale {sid!r} is not declared in 'scales'.")
                continue
            if sn.cutoff is not None and not issues_block_range(inst, sid):
                lo, hi = inst.scale_range(sid)
                if not lo <= sn.cutoff <= hi:
                    add(f"{here}.cutoff", f"cut-off {sn.cutoff} lies outside the scale's range "
                                          f"{lo:g}..{hi:g}.")
    return issues


def issues_block_range(inst: Instrument, sid: str) -> bool:
    """True when a scale is too broken for its range to be computed."""
    scale = inst.scales[sid]
    if scale.components:
        return any(c not in inst.scales or inst.scales[c].components or not inst.scales[c].items
                   for c in scale.components)
    return not scale.items


def _missing_rule_issues(rule: MissingRule, n_items: int, here: str) -> list[BankIssue]:
    out = []
    if rule.rule == "min_answered":
        if rule.min_answered is None:
            out.append(BankIssue(f"{here}.min_answered", "rule min_answered needs min_answered: k."))
        elif rule.min_answered > n_items:
            out.append(BankIssue(f"{here}.min_answered",
                                 f"{rule.min_answered} answered items required but the scale has "
                                 f"only {n_items}."))
        if rule.max_missing is not None:
            out.append(BankIssue(f"{here}.max_missing", "rule min_answered takes min_answered, "
                                                        "not max_missing."))
    elif rule.rule == "impute_rounded_mean":
        if rule.max_missing is None:
            out.append(BankIssue(f"{here}.max_missing",
                                 "rule impute_rounded_mean needs max_missing: the largest number "
                                 "of blanks that may be replaced."))
        elif rule.max_missing >= n_items:
            out.append(BankIssue(f"{here}.max_missing",
                                 f"max_missing {rule.max_missing} leaves no answered item in a "
                                 f"scale of {n_items} items."))
        if rule.min_answered is not None:
            out.append(BankIssue(f"{here}.min_answered", "rule impute_rounded_mean takes "
                                                         "max_missing, not min_answered."))
    else:
        if rule.min_answered is not None or rule.max_missing is not None:
            out.append(BankIssue(here, "rule complete takes neither min_answered nor max_missing."))
    return out
