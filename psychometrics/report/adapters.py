"""Calls into the analysis modules: the only place that knows their APIs.

Every function here takes the runner's context, calls the public functions of
one analysis module and returns its result objects (unchanged) for the section
builders. Nothing here formats or rounds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .run import Context, StudyData
    from .study import Study


def score(study: "Study", data: "StudyData", key: str) -> Any:
    from ..scoring import score as _score  # noqa: F401

    raise NotImplementedError("scoring is not wired yet.")


def scores_frame(scored: Any, inst) -> pd.DataFrame:
    raise NotImplementedError


def reliability(ctx: "Context") -> Any:
    import psychometrics.reliability  # noqa: F401

    raise NotImplementedError("reliability is not wired yet.")


def efa(ctx: "Context") -> Any:
    import psychometrics.efa  # noqa: F401

    raise NotImplementedError("EFA is not wired yet.")


def cfa(ctx: "Context") -> Any:
    import psychometrics.sem  # noqa: F401

    raise NotImplementedError("CFA is not wired yet.")


def invariance(ctx: "Context") -> Any:
    import psychometrics.sem  # noqa: F401

    raise NotImplementedError("invariance is not wired yet.")


def progress(ctx: "Context") -> Any:
    import psychometrics.multilevel  # noqa: F401

    raise NotImplementedError("progress is not wired yet.")


def clinical_significance(ctx: "Context") -> Any:
    from ..scoring import clinical_significance as _cs  # noqa: F401

    raise NotImplementedError("clinical significance is not wired yet.")
