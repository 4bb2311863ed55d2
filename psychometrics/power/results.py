"""Performance measures of a power analysis and the result object.

Per cell and effect (Morris, White & Crowther, 2019, Stat Med 38:2074, Table 6):
power (rejection rate at ``alpha``), bias, empirical SE, RMSE and 95%
interval coverage, each with its Monte Carlo standard error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ..results import Summary
from .spec import PowerDesign

__all__ = ["PowerResult", "performance"]

#: Columns of PowerResult.table after the grid axes.
TABLE_COLUMNS = ("effect", "truth", "n_rep", "n_ok", "n_failed", "n_nonconverged", "n_singular",
                 "power", "power_mcse", "mean_est", "bias", "bias_mcse", "emp_se", "mean_se",
                 "rmse", "rmse_mcse", "coverage", "coverage_mcse", "n_planned")


def _cell_cost(design: PowerDesign) -> dict[int, float]:
    """Planned assessments per cell: patients x months (mean months for a range)."""
    out = {}
    for c in design.cells():
        p = c.params()
        months = getattr(p, "n_months", None)
        if months is None:
            months = (p.sessions_min + p.sessions_max) / 2
        out[c.index] = float(p.n_patients * months)
    return out


def performance(records: pd.DataFrame, design: PowerDesign) -> pd.DataFrame:
    """Power, bias, RMSE, coverage and their Monte Carlo SEs per cell and effect.

    A replication whose fit failed (``error`` set, or no finite estimate, SE
    and p-value) counts in ``n_failed`` and not in the measures, which are
    over the ``n_ok`` others; ``n_nonconverged`` and ``n_singular`` count
    flagged fits among those.
    """
    cost = _cell_cost(design)
    rows = []
    cells = {c.index: c for c in design.cells()}
    order = {e: k for k, e in enumerate(design.analysis.effect_names())}
    for (cell, effect), g in records.groupby(["cell", "effect"], sort=False):
        ok = (g["error"].isna() & np.isfinite(g["est"]) & np.isfinite(g["se"])
              & np.isfinite(g["p_value"])).to_numpy()
        truth = float(g["truth"].iloc[0])
        est = g["est"].to_numpy()[ok]
        n = int(ok.sum())
        row: dict[str, Any] = {"cell": int(cell), **cells[int(cell)].values, "effect": effect,
                               "truth": truth, "n_rep": int(len(g)), "n_ok": n,
                               "n_failed": int(len(g) - n),
                               "n_nonconverged": int((~g["converged"].to_numpy()[ok]).sum()),
                               "n_singular": int(g["singular"].to_numpy()[ok].sum())}
        if n:
            rej = g["p_value"].to_numpy()[ok] < design.alpha
            lo, hi = g["ci_lower"].to_numpy()[ok], g["ci_upper"].to_numpy()[ok]
            cov = (lo <= truth) & (truth <= hi)
            power, coverage = float(rej.mean()), float(cov.mean())
            sd = float(est.std(ddof=1)) if n > 1 else math.nan
            sq = (est - truth) ** 2
            rmse = float(math.sqrt(sq.mean()))
            # MCSE of the RMSE by the delta method from that of the MSE (Morris et al. 2019)
            mse_mcse = float(sq.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            row.update(power=power, power_mcse=math.sqrt(power * (1 - power) / n),
                       mean_est=float(est.mean()), bias=float(est.mean()) - truth,
                       bias_mcse=sd / math.sqrt(n), emp_se=sd,
                       mean_se=float(g["se"].to_numpy()[ok].mean()), rmse=rmse,
                       rmse_mcse=mse_mcse / (2 * rmse) if rmse > 0 else math.nan,
                       coverage=coverage, coverage_mcse=math.sqrt(coverage * (1 - coverage) / n))
        else:
            row.update({k: math.nan for k in TABLE_COLUMNS[7:-1]})
        row["n_planned"] = cost[int(cell)]
        rows.append(row)
    cols = ["cell", *design.axes, *TABLE_COLUMNS]
    table = pd.DataFrame(rows, columns=cols)
    table["_o"] = table["effect"].map(order)
    return table.sort_values(["cell", "_o"]).drop(columns="_o").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class PowerResult:
    """Result of :func:`psychometrics.power.run_power`.

    Attributes
    ----------
    design : PowerDesign
        The validated design.
    table : DataFrame
        One row per cell and effect: ``cell``, the grid axes, ``effect``,
        ``truth``, ``n_rep``, ``n_ok``, ``n_failed``, ``n_nonconverged``,
        ``n_singular``, ``power``, ``power_mcse``, ``mean_est``, ``bias``,
        ``bias_mcse``, ``emp_se``, ``mean_se``, ``rmse``, ``rmse_mcse``,
        ``coverage``, ``coverage_mcse`` (Monte Carlo SEs as in Morris et al.
        2019) and ``n_planned`` (patients x months).
    replications : DataFrame
        One row per replication and effect (:data:`RECORD_COLUMNS`).
    backend : str
        ``"serial"``, ``"processes"`` or ``"dask"``.
    n_workers : int
    seconds : float
        Wall-clock time of this run (cells resumed from disk cost nothing).
    n_cells_run, n_cells_resumed : int
    out : Path or None
        Directory holding ``design.json`` and ``cells/cell_NNNNNN.parquet``.
    """

    design: PowerDesign
    table: pd.DataFrame
    replications: pd.DataFrame = field(repr=False)
    backend: str = "serial"
    n_workers: int = 1
    seconds: float = 0.0
    n_cells_run: int = 0
    n_cells_resumed: int = 0
    out: Path | None = None

    def to_frame(self) -> pd.DataFrame:
        """The performance table (:attr:`table`)."""
        return self.table.copy()

    def smallest_design(self, effect: str = "within", target: float | None = None, *,
                        cost: str | Callable[[pd.Series], float] = "n_planned",
                        conservative: bool = False) -> pd.Series | None:
        """The cheapest cell whose power for ``effect`` reaches ``target``.

        Parameters
        ----------
        effect : str
            within, between or contextual.
        target : float, optional
            Default: the design's ``target_power``.
        cost : str or callable
            Column of :attr:`table` to minimise (default ``n_planned``, patients x
            months), or a function of a table row. Ties go to the higher power.
        conservative : bool, default False
            Require the lower 95% Monte Carlo bound, ``power - 1.96 power_mcse``,
            to reach the target (not only the estimate).

        Returns
        -------
        Series or None
            The table row, or None when no cell reaches the target.
        """
        target = self.design.target_power if target is None else float(target)
        t = self.table[self.table["effect"] == effect]
        if t.empty:
            raise ModelSpecificationError(
                f"No effect {effect!r} in this analysis; effects are "
                f"{list(self.design.analysis.effect_names())}.")
        power = t["power"] - (1.959963984540054 * t["power_mcse"] if conservative else 0.0)
        t = t[power >= target]
        if t.empty:
            return None
        c = t.apply(cost, axis=1) if callable(cost) else t[cost]
        t = t.assign(_cost=c).sort_values(["_cost", "power"], ascending=[True, False])
        return t.iloc[0].drop("_cost")

    def plot(self, effect: str = "within", x: str | None = None, ax=None):
        """Power curve: power of ``effect`` against grid axis ``x`` (default the first
        numeric axis), one line per combination of the other axes, with 95% Monte
        Carlo intervals and the target power as a dashed line. Returns the Figure."""
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6.4, 4.2))
        else:
            fig = ax.figure
        if effect not in self.design.analysis.effect_names():
            raise ModelSpecificationError(
                f"No effect {effect!r} in this analysis; effects are "
                f"{list(self.design.analysis.effect_names())}.")
        t = self.table[self.table["effect"] == effect]
        axes = list(self.design.axes)
        if x is None:
            num = [a for a in axes if pd.api.types.is_numeric_dtype(t[a])]
            x = num[0] if num else None
        if x is not None and x not in axes:
            raise ModelSpecificationError(f"x={x!r} is not a grid axis; axes are {axes}.")
        others = [a for a in axes if a != x]
        groups = t.groupby(others, sort=False) if others else [((), t)]
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{a}={v}" for a, v in zip(others, key)) or None
            g = g.sort_values(x) if x else g
            xs = g[x] if x else g["cell"]
            ax.errorbar(xs, g["power"], yerr=1.959963984540054 * g["power_mcse"], marker="o",
                        capsize=3, label=label)
        ax.axhline(self.design.target_power, ls="--", color="grey", lw=1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(x or "cell")
        ax.set_ylabel(f"power ({effect} effect, alpha = {self.design.alpha:g})")
        if others:
            ax.legend(fontsize="small")
        ax.set_title(f"Monte Carlo power, {self.design.replications} replications per cell")
        return fig

    def summary(self) -> Summary:
        cols = ["cell", *self.design.axes, "effect", "truth", "power", "power_mcse", "bias",
                "rmse", "coverage", "n_failed", "n_nonconverged"]
        lines = []
        for e in self.design.analysis.effect_names():
            best = self.smallest_design(e)
            if best is None:
                lines.append(f"{e}: no cell reaches power {self.design.target_power:g}.")
            else:
                vals = ", ".join(f"{a}={best[a]}" for a in self.design.axes)
                lines.append(f"{e}: cell {int(best['cell'])} ({vals}) reaches power "
                             f"{best['power']:.3f} (MC SE {best['power_mcse']:.3f}) with "
                             f"{best['n_planned']:g} planned assessments.")
        nf = int(self.table.groupby("cell")["n_failed"].max().sum())
        footer = (f"{nf} replication(s) failed to fit and are excluded from the measures "
                  "(see replications.error)." if nf else "Every replication was fitted.",)
        return Summary(
            "Monte Carlo power analysis",
            (f"{len(self.design.cells())} cells x {self.design.replications} replications, "
             f"generator {self.design.generator!r}, analysis {self.design.analysis.type!r}, "
             f"alpha = {self.design.alpha:g}, seed {self.design.seed}",
             f"{self.backend} with {self.n_workers} worker(s): {self.seconds:.1f} s; "
             f"{self.n_cells_run} cell(s) run, {self.n_cells_resumed} resumed from disk"),
            (("Power per cell and effect:", self.table[cols]),
             (f"Smallest design reaching power {self.design.target_power:g}:", "\n".join(lines))),
            footer)

    def __repr__(self) -> str:
        return (f"<PowerResult {len(self.design.cells())} cells x {self.design.replications} "
                f"replications, {self.backend} ({self.n_workers} workers)>")
