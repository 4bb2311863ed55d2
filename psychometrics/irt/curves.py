"""Item and test information, the standard-error curve, marginal reliability and plots."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ..results import Summary
from . import _engine, _items

__all__ = ["information", "Information", "marginal_reliability", "plot_information"]


@dataclass(frozen=True, eq=False)
class Information:
    """Information curves on a theta grid.

    ``frame`` has one row per theta: ``theta``, ``test`` (sum of the item informations),
    ``se = 1 / sqrt(test)`` and one column per item.
    """

    items: tuple[str, ...]
    frame: pd.DataFrame
    marginal_reliability: float

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> Summary:
        f = self.frame
        peak = f.loc[f["test"].idxmax()]
        return Summary(
            title="Test information",
            header=(f"Items: {', '.join(self.items)}",
                    f"Peak test information {peak['test']:.3f} at theta = {peak['theta']:.2f}",
                    f"Marginal reliability {self.marginal_reliability:.4f}"),
            blocks=(("Information by theta", f),))

    def plot(self, ax=None, items: bool = True):
        """Test information (and item curves) with the SE curve on a second axis."""
        return plot_information(self, ax=ax, items=items)


def information(result, theta=None, *, items: Sequence[str] | None = None) -> Information:
    """Item and test information of a fitted model.

    Parameters
    ----------
    result : IRTResult
    theta : array-like, optional
        Where to evaluate (default ``-4 .. 4`` in steps of 0.1).
    items : sequence of str, optional
        A subset (form) of the items (default all).

    Returns
    -------
    Information
        With the marginal reliability of the items (see :func:`marginal_reliability`).

    Notes
    -----
    Item information ``I_j(theta) = sum_k P_jk'(theta)^2 / P_jk(theta)``.  R:
    ``mirt::iteminfo``, ``mirt::testinfo``; ``rpf::rpf.info``.
    """
    items = list(result.items if items is None else items)
    bad = [i for i in items if i not in result.items]
    if bad:
        raise ModelSpecificationError(f"Item(s) {', '.join(bad)} are not in the model.")
    th = np.arange(-4.0, 4.0 + 1e-9, 0.1) if theta is None else np.asarray(theta, float)
    cols = {it: _items.item_information(result.model, result.item_params(it), th)
            for it in items}
    test = np.sum(list(cols.values()), axis=0)
    frame = pd.DataFrame({"theta": th, "test": test, "se": 1 / np.sqrt(test), **cols})
    return Information(items=tuple(items), frame=frame,
                       marginal_reliability=marginal_reliability(result, items=items))


def marginal_reliability(result, *, items: Sequence[str] | None = None) -> float:
    """``var / (var + E[1 / I(theta)])`` over the N(0, 1) latent density (Green et al. 1984;
    R: ``mirt::marginal_rxx``), integrated on the model's quadrature grid."""
    items = list(result.items if items is None else items)
    th = _engine.quadrature(result.qpoints, result.qwidth)
    w = np.exp(_engine.log_weights(th))
    test = np.sum([_items.item_information(result.model, result.item_params(it), th)
                   for it in items], axis=0)
    return float(1.0 / (1.0 + w @ (1.0 / test)))


def plot_information(info: Information, ax=None, items: bool = True):
    """Matplotlib figure of the test information, item curves and SE curve."""
    import matplotlib.pyplot as plt  # lazy: only for plots

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    else:
        fig = ax.figure
    f = info.frame
    if items:
        for it in info.items:
            ax.plot(f["theta"], f[it], lw=0.8, alpha=0.6, label=it)
    ax.plot(f["theta"], f["test"], color="black", lw=2, label="test")
    ax.set_xlabel("theta")
    ax.set_ylabel("information")
    ax2 = ax.twinx()
    ax2.plot(f["theta"], f["se"], color="tab:red", ls="--", label="SE")
    ax2.set_ylabel("standard error", color="tab:red")
    ax.legend(fontsize="small", ncol=2, loc="upper left")
    ax.set_title(f"Test information (marginal reliability {info.marginal_reliability:.3f})")
    return fig
