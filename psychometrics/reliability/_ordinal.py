"""Ordinal alpha: coefficient alpha of the polychoric correlations."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ..numerics.polychoric import polychoric
from ._alpha import alpha_from_matrix

__all__ = ["ordinal_alpha"]


def ordinal_alpha(data, reverse: Iterable[str] | str | None = None, **polychoric_options):
    """Ordinal alpha: :func:`alpha_from_matrix` of the polychoric correlations.

    Equal to ``psych::alpha(psych::polychoric(x)$rho, keys = reverse)``
    (Zumbo, Gadermann & Zeisser 2007). The polychoric matrix is computed on
    the unreversed items; reversing flips signs in the matrix. Returns the
    :class:`AlphaResult` (without standard errors, as in psych, since the
    matrix is given without ``n.obs``); the polychoric result is in
    ``result.options["polychoric"]``.
    """
    pc = polychoric(data, **polychoric_options)
    res = alpha_from_matrix(pc.rho, reverse=reverse)
    return dataclasses.replace(res, options={**res.options, "polychoric": pc})
