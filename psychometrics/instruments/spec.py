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
def semantic_issues(bank: "Instrument | dict") -> list[BankIssue]:
    """Every cross-field inconsistency of a bank, each with its YAML location.

    Works on a validated :class:`Instrument` or on the raw mapping read from
    YAML. On raw data it tolerates parts that are missing or of the wrong type
    (pydantic reports those), so that a file's structural and cross-field
    problems are listed together.
    """
    data = bank.model_dump() if isinstance(bank, BaseModel) else bank
    issues: list[BankIssue] = []
    add = lambda loc, msg: issues.append(BankIssue(loc, msg))  # noqa: E731
    if not isinstance(data, dict):
        return issues

    rs = _mapping(data.get("response_scale"))
    lo, hi = rs.get("min"), rs.get("max")
    points_ok = _is_int(lo) and _is_int(hi)
    if points_ok and lo >= hi:
        add("response_scale.max", f"must be greater than response_scale.min ({lo}); got {hi}.")
        points_ok = False
    if points_ok:
        for point in _mapping(rs.get("labels")):
            if _is_int(point) and not lo <= point <= hi:
                add(f"response_scale.labels.{point}",
                    f"label for {point} lies outside the response scale {lo}..{hi}.")

    seen: dict[str, int] = {}
    for k, item in enumerate(_sequence(data.get("items"))):
        iid = _mapping(item).get("id")
        if not isinstance(iid, str):
            continue
        if iid in seen:
            add(f"items[{k}].id", f"duplicate item id {iid!r} (first at items[{seen[iid]}]).")
        else:
            seen[iid] = k
    item_ids = set(seen)
    scales = {sid: _mapping(sc) for sid, sc in _mapping(data.get("scales")).items()}

    def n_items(sid: str) -> int | None:
        sc = scales.get(sid, {})
        comps = _sequence(sc.get("components"))
        if comps:
            counts = [len(_sequence(scales.get(c, {}).get("items"))) for c in comps]
            return sum(counts) if all(counts) else None
        return len(_sequence(sc.get("items"))) or None

    def scale_range(sid: str) -> tuple[float, float] | None:
        sc = scales.get(sid, {})
        comps = _sequence(sc.get("components"))
        if comps:
            parts = [scale_range(c) if c in scales and not _sequence(scales[c].get("components"))
                     else None for c in comps]
            if any(p is None for p in parts):
                return None
            return float(sum(p[0] for p in parts)), float(sum(p[1] for p in parts))
        k = n_items(sid)
        if not points_ok or k is None:
            return None
        if sc.get("method", "sum") == "mean":
            return float(lo), float(hi)
        return float(k * lo), float(k * hi)

    for sid, sc in scales.items():
        here = f"scales.{sid}"
        items = _sequence(sc.get("items"))
        comps = _sequence(sc.get("components"))
        if bool(items) == bool(comps):
            add(here, "declare exactly one of 'items' (scored from responses) or "
                      "'components' (sum of other scales).")
        for d in sorted({i for i in items if isinstance(i, str) and items.count(i) > 1}):
            add(f"{here}.items", f"item {d!r} is listed more than once.")
        for k, iid in enumerate(items):
            if isinstance(iid, str) and iid not in item_ids:
                add(f"{here}.items[{k}]", f"item {iid!r} is not in the bank's items.")
        for k, iid in enumerate(_sequence(sc.get("reverse"))):
            if iid not in items:
                add(f"{here}.reverse[{k}]",
                    f"reverse-keyed item {iid!r} is not one of this scale's items.")
        for k, cid in enumerate(comps):
            if cid not in scales:
                add(f"{here}.components[{k}]", f"scale {cid!r} is not declared in 'scales'.")
            elif cid == sid:
                add(f"{here}.components[{k}]", "a scale cannot be its own component.")
            elif _sequence(scales[cid].get("components")):
                add(f"{here}.components[{k}]",
                    f"component {cid!r} is itself a composite; nest at most one level.")
        if comps and sc.get("reverse"):
            add(f"{here}.reverse", "a composite scale takes reverse keys from its components.")
        if comps and sc.get("missing") is not None:
            add(f"{here}.missing", "a composite scale uses its components' missing-data rules.")
        if comps and sc.get("method", "sum") != "sum":
            add(f"{here}.method", "a composite scale is the sum of its components.")
        if items and sc.get("missing") is None:
            add(f"{here}.missing", "declare the missing-data rule (rule: complete, "
                                   "min_answered or impute_rounded_mean).")
        if items and isinstance(sc.get("missing"), dict):
            issues.extend(_missing_rule_issues(sc["missing"], len(items), f"{here}.missing"))
        declared = sc.get("range")
        expected = scale_range(sid)
        if isinstance(declared, (list, tuple)) and len(declared) == 2 and expected is not None:
            try:
                got = (float(declared[0]), float(declared[1]))
            except (TypeError, ValueError):
                got = None
            if got is not None and got != expected:
                add(f"{here}.range",
                    f"range {list(got)} contradicts the response scale {lo}..{hi} with "
                    f"{n_items(sid)} items scored by {sc.get('method', 'sum')}: expected "
                    f"{list(expected)}.")

    for fid, form in _mapping(data.get("forms")).items():
        form = _mapping(form)
        here = f"forms.{fid}"
        f_items = form.get("items")
        form_items = set(_sequence(f_items)) if f_items is not None else item_ids
        for k, iid in enumerate(_sequence(f_items)):
            if iid not in item_ids:
                add(f"{here}.items[{k}]", f"item {iid!r} is not in the bank's items.")
        f_scales = form.get("scales")
        for k, sid in enumerate(_sequence(f_scales)):
            if sid not in scales:
                add(f"{here}.scales[{k}]", f"scale {sid!r} is not declared in 'scales'.")
                continue
            s_items = _sequence(scales[sid].get("items"))
            if s_items and not set(s_items) & form_items:
                add(f"{here}.scales[{k}]", f"scale {sid!r} has none of the form's items.")
            for cid in _sequence(scales[sid].get("components")):
                if cid not in _sequence(f_scales):
                    add(f"{here}.scales[{k}]", f"composite {sid!r} needs its component "
                                               f"{cid!r} in the form's scales too.")
        for sid, rule in _mapping(form.get("missing")).items():
            s_items = _sequence(scales.get(sid, {}).get("items"))
            if not s_items:
                add(f"{here}.missing.{sid}", f"{sid!r} is not an item-scored scale of the bank.")
            elif isinstance(rule, dict):
                issues.extend(_missing_rule_issues(rule, len(set(s_items) & form_items),
                                                   f"{here}.missing.{sid}"))
    default = data.get("default_form")
    if default is not None and default not in _mapping(data.get("forms")):
        add("default_form", f"form {default!r} is not declared in 'forms'.")

    for nid, norm in _mapping(data.get("norms")).items():
        for sid, sn in _mapping(_mapping(norm).get("scales")).items():
            here = f"norms.{nid}.scales.{sid}"
            if sid not in scales:
                add(here, f"scale {sid!r} is not declared in 'scales'.")
                continue
            cut = _mapping(sn).get("cutoff")
            rng = scale_range(sid)
            if isinstance(cut, (int, float)) and rng is not None and not rng[0] <= cut <= rng[1]:
                add(f"{here}.cutoff",
                    f"cut-off {cut:g} lies outside the scale's range {rng[0]:g}..{rng[1]:g}.")
    return issues


def _mapping(x) -> dict:
    return x if isinstance(x, dict) else {}


def _sequence(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else []


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _missing_rule_issues(rule: dict, n_items: int, here: str) -> list[BankIssue]:
    out = []
    kind, k_min, k_max = rule.get("rule"), rule.get("min_answered"), rule.get("max_missing")
    if kind == "min_answered":
        if k_min is None:
            out.append(BankIssue(f"{here}.min_answered", "rule min_answered needs min_answered: k."))
        elif _is_int(k_min) and k_min > n_items:
            out.append(BankIssue(f"{here}.min_answered",
                                 f"{k_min} answered items required but the scale has only "
                                 f"{n_items}."))
        if k_max is not None:
            out.append(BankIssue(f"{here}.max_missing", "rule min_answered takes min_answered, "
                                                        "not max_missing."))
    elif kind == "impute_rounded_mean":
        if k_max is None:
            out.append(BankIssue(f"{here}.max_missing",
                                 "rule impute_rounded_mean needs max_missing: the largest number "
                                 "of blanks that may be replaced."))
        elif _is_int(k_max) and k_max >= n_items:
            out.append(BankIssue(f"{here}.max_missing",
                                 f"max_missing {k_max} leaves no answered item in a scale of "
                                 f"{n_items} items."))
        if k_min is not None:
            out.append(BankIssue(f"{here}.min_answered", "rule impute_rounded_mean takes "
                                                         "max_missing, not min_answered."))
    elif kind == "complete" and (k_min is not None or k_max is not None):
        out.append(BankIssue(here, "rule complete takes neither min_answered nor max_missing."))
    return out
