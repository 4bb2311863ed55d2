"""Monte Carlo power analysis for within/between-patient designs.

Usage::

    from psychometrics.power import run_power
    res = run_power("design.yaml", out="power_out", workers=2)   # or scheduler="tcp://..."
    res.table                       # power, bias, RMSE, coverage (+ MC SEs) per cell x effect
    res.smallest_design("within")   # cheapest cell reaching the target power
    res.plot("within")              # power curve

See :func:`run_power`, :class:`PowerDesign` (the YAML design),
:func:`generate` (the lean design-level generator) and
:func:`within_power_closed_form` (the analytic check). ``docs/power.md``
describes the design file.
"""
from .closed_form import closed_form_for, within_power_closed_form
from .design import DesignParameterError, DesignParams, design_from_simulation, generate
from .replicate import RECORD_COLUMNS, analysis_data, replication_seed
from .results import PowerResult, performance
from .runner import run_power
from .spec import AnalysisSpec, PowerDesign, PowerDesignError, load_design

__all__ = ["run_power", "PowerDesign", "AnalysisSpec", "PowerResult", "PowerDesignError",
           "load_design", "DesignParams", "DesignParameterError", "generate",
           "design_from_simulation", "within_power_closed_form", "closed_form_for", "performance",
           "replication_seed", "analysis_data", "RECORD_COLUMNS"]
