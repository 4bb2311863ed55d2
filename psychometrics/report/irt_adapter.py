"""The item response theory step of a study (``analyses: irt:``): per instrument, a
unidimensional IRT model of its items, the test information curve, S-X2 item fit and,
with ``dif_group``, ordinal logistic DIF (lordif purification).  Computes with
:mod:`psychometrics.irt`; the section (``sections/irt.py``) only renders."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .run import Context


@dataclass(frozen=True)
class IRTBundle:
    """One instrument's IRT results (``None`` where a part was not requested or failed;
    the reason is in ``errors``)."""

    instrument: str
    fit: Any
    information: Any
    item_fit: Any = None
    dif: Any = None
    dif_group: str | None = None
    n_obs: int = 0
    occasion: Any = "first"
    errors: dict = field(default_factory=dict)


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).strip() or repr(exc)}"


def irt(ctx: "Context") -> Any:
    from .. import irt as irt_mod
    from .run import _per_instrument, select_occasion

    spec = ctx.study.analyses.irt
    study, data = ctx.study, ctx.data

    def one(key):
        block = select_occasion(study, data, key, spec.occasion).dropna(how="all")
        fit = irt_mod.fit_irt(block, model=spec.model)
        info = irt_mod.information(fit, np.linspace(-4, 4, 161))
        errors = {}
        ifit = dif = None
        if spec.item_fit:
            try:
                ifit = irt_mod.item_fit(fit)
            except Exception as exc:  # noqa: BLE001  (the section says why it is missing)
                errors["item fit"] = _err(exc)
        if spec.dif_group is not None:
            try:
                frame = block.assign(__group__=data.frame.loc[block.index, spec.dif_group])
                dif = irt_mod.dif_ordinal(frame, "__group__", list(block.columns),
                                          model=spec.model)
            except Exception as exc:  # noqa: BLE001
                errors["DIF"] = _err(exc)
        return IRTBundle(instrument=key, fit=fit, information=info, item_fit=ifit, dif=dif,
                         dif_group=spec.dif_group, n_obs=fit.n_obs, occasion=spec.occasion,
                         errors=errors)

    return _per_instrument("irt", study.selected(spec.instruments), one)
