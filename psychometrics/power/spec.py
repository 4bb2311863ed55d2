"""The power-analysis design: a YAML file or dict, validated, expanded into grid cells.

A design names the generator, the fixed parameters, the grid (every
combination of the listed values is a cell), the analysis and the
replications. Example (``docs/power.md`` has the full reference)::

    generator: design            # the lean generator (psychometrics.power.design)
    seed: 20240601
    replications: 500
    alpha: 0.05
    target_power: 0.8
    fixed: {n_months: 12, dropout: 0.05, within: -4.0, contextual: 0.0}
    grid:
      n_patients: [50, 100, 150]
      icc: [0.1, 0.3]
    analysis:
      type: progress             # or: mixed (with formula and effects)
"""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..exceptions import ModelSpecificationError
from ..simulate import SimulationParams
from .design import DesignParameterError, DesignParams

__all__ = ["PowerDesign", "AnalysisSpec", "Cell", "load_design", "PowerDesignError"]

#: The effects an analysis can report and whose true value the generator knows.
EFFECTS = ("within", "between", "contextual")


class PowerDesignError(ModelSpecificationError):
    """A power-analysis design (YAML file or dict) is invalid; the message names the field."""


Scalar = Union[bool, int, float, str]


class AnalysisSpec(BaseModel):
    """The analysis fitted to every replication.

    ``type: progress`` runs :func:`psychometrics.multilevel.progress` (outcome
    ``y``, predictor ``x``; effects within, between, contextual of the model
    ``x``). ``type: mixed`` runs :func:`psychometrics.multilevel.mixed` with
    ``formula`` on the analysis columns ``id, time, cluster, x, y, x_between,
    x_within, x_between_c, y_lead`` and reports ``effects``: effect name
    (within, between, contextual) -> a fixed-effect term or a contrast
    ``{term: weight}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["progress", "mixed"] = "progress"
    formula: str | None = None
    effects: dict[str, Union[str, dict[str, float]]] | None = None
    ddf: Literal["satterthwaite", "kenward-roger", "containment"] = "satterthwaite"
    control_prior_outcome: bool = True
    reml: bool = True

    @field_validator("type", mode="before")
    @classmethod
    def _no_latent(cls, v):
        if v == "latent":
            raise ValueError("power for the latent progress model (progress(method='latent')) "
                             "is not offered: one replication takes seconds and the model is "
                             "biased in short series (docs/multilevel.md); use 'progress' "
                             "(observed scores) or 'mixed'")
        return v

    @model_validator(mode="after")
    def _check(self):
        if self.type == "mixed":
            if not self.formula:
                raise ValueError("analysis type 'mixed' needs a 'formula', e.g. "
                                 "'y_lead ~ x_within + x_between_c + y + (1 | id)'")
            if not self.effects:
                object.__setattr__(self, "effects", {"within": "x_within", "between": "x_between_c",
                                                     "contextual": {"x_between_c": 1.0,
                                                                    "x_within": -1.0}})
        else:
            if self.formula is not None or self.effects is not None:
                raise ValueError("'formula' and 'effects' belong to analysis type 'mixed'; "
                                 "'progress' reports within, between and contextual effects")
        for name in (self.effects or {}):
            if name not in EFFECTS:
                raise ValueError(f"effect {name!r} has no true value in the generator; effects "
                                 f"must be named {list(EFFECTS)}")
        return self

    def effect_names(self) -> tuple[str, ...]:
        return tuple(self.effects) if self.type == "mixed" else EFFECTS


class PowerDesign(BaseModel):
    """A validated power-analysis design (see the module docstring and docs/power.md).

    Attributes
    ----------
    generator : {"design", "simulator"}
        ``design``: :func:`psychometrics.power.design.generate` (fast; grid
        and fixed names are :class:`DesignParams` fields or ``contextual``).
        ``simulator``: the full item-level simulator,
        :func:`psychometrics.simulate.simulate`, scored with the banks (names
        are :class:`SimulationParams` fields or ``n_months``, which sets
        ``sessions_min = sessions_max``).
    seed : int
        Root seed: replication ``r`` of cell ``c`` uses
        ``SeedSequence(seed, spawn_key=(c, r))``.
    replications : int
    alpha : float
        Level of the two-sided tests (power = share of p-values below it).
    target_power : float
        For :meth:`PowerResult.smallest_design`.
    fixed, grid : dict
        Parameters held fixed, and lists of values to cross.
    analysis : AnalysisSpec
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    generator: Literal["design", "simulator"] = "design"
    seed: int = Field(ge=0)
    replications: int = Field(ge=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    target_power: float = Field(default=0.8, gt=0, lt=1)
    fixed: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)

    @model_validator(mode="after")
    def _check(self):
        both = sorted(set(self.fixed) & set(self.grid))
        if both:
            raise ValueError(f"parameter(s) {both} are in both 'fixed' and 'grid'; keep one")
        for k, vals in self.grid.items():
            if not vals:
                raise ValueError(f"grid axis {k!r} has no values")
            if len(set(map(repr, vals))) != len(vals):
                raise ValueError(f"grid axis {k!r} repeats a value: {vals}")
        if self.generator == "simulator" and self.analysis.type == "mixed" \
                and "cluster" in (self.analysis.formula or ""):
            raise ValueError("the simulator has no therapist level ('cluster')")
        # every cell must build: reports the first bad one with its values
        for cell in self.cells():
            try:
                cell.params()
            except (DesignParameterError, ModelSpecificationError) as exc:
                raise ValueError(f"cell {cell.index} {cell.values}: {exc}") from None
        return self

    # ------------------------------------------------------------------ cells
    @property
    def axes(self) -> tuple[str, ...]:
        return tuple(self.grid)

    def cells(self) -> list["Cell"]:
        """One cell per combination of grid values (last axis fastest), numbered from 0."""
        keys = list(self.grid)
        combos = itertools.product(*(self.grid[k] for k in keys)) if keys else [()]
        return [Cell(i, self.generator, dict(self.fixed), dict(zip(keys, c)))
                for i, c in enumerate(combos)]

    def fingerprint(self) -> str:
        """Hash of everything that determines the results (resume checks it)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)


class Cell:
    """One grid cell: its index, the generator and the parameter values."""

    __slots__ = ("index", "generator", "fixed", "values")

    def __init__(self, index: int, generator: str, fixed: dict, values: dict):
        self.index, self.generator, self.fixed, self.values = index, generator, fixed, values

    def params(self) -> DesignParams | SimulationParams:
        merged = {**self.fixed, **self.values}
        if self.generator == "design":
            return DesignParams.from_dict(merged)
        if "n_months" in merged:
            if "sessions_min" in merged or "sessions_max" in merged:
                raise PowerDesignError("Give either 'n_months' or 'sessions_min'/'sessions_max'.")
            n = merged.pop("n_months")
            merged["sessions_min"] = merged["sessions_max"] = n
        return SimulationParams.from_dict(merged)

    def truth(self) -> dict[str, float]:
        p = self.params()
        if isinstance(p, DesignParams):
            return p.truth()
        return {"within": p.gamma_within, "between": p.gamma_between,
                "contextual": p.gamma_between - p.gamma_within}

    def __repr__(self) -> str:
        return f"Cell({self.index}, {self.values})"


def _locs(exc: ValidationError) -> str:
    lines = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<design>"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def load_design(source: PowerDesign | dict | str | Path) -> PowerDesign:
    """Read and validate a design from a :class:`PowerDesign`, a dict or a YAML file.

    Raises
    ------
    PowerDesignError
        The file cannot be read, is not YAML, or a field is invalid; the
        message names the file and every field at fault.
    """
    if isinstance(source, PowerDesign):
        return source
    where = "design"
    if isinstance(source, (str, Path)):
        path = Path(source)
        where = f"design file {str(path)!r}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PowerDesignError(f"Cannot read the {where}: {exc.strerror or exc}.") from None
        # the one defensive YAML reader of banks and study files: no tags, no alias
        # expansion beyond a budget, bounded nesting, duplicate keys named with their line
        from ..instruments.loader import read_yaml_mapping

        def refused(issues):
            found = "; ".join((f"line {i.line}: " if i.line else "") + i.message.rstrip(".")
                              for i in issues)
            return PowerDesignError(f"The {where} cannot be used: {found}.")

        source, _, duplicates = read_yaml_mapping(
            text, "the file must be a YAML mapping of fields (generator, seed, replications, "
                  "fixed, grid, analysis).", refused)
        if duplicates:
            raise refused(duplicates)
    if not isinstance(source, dict):
        raise PowerDesignError(f"The {where} must be a mapping of fields (generator, seed, "
                               f"replications, fixed, grid, analysis). "
                               f"Got {type(source).__name__}.")
    try:
        return PowerDesign.model_validate(source)
    except ValidationError as exc:
        raise PowerDesignError(f"Invalid {where}:\n{_locs(exc)}") from None


