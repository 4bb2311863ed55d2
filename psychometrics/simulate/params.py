"""The generating parameters of the therapy simulator, as a frozen dataclass.

The defaults reproduce the structure of the project's R reference generator
(``tests/data/reference/scripts/sim_therapy_lib.R``, ``THERAPY_PARAMS``): the
names of the shared parameters are the R names. Parameters that the R
generator does not have (the OQ-45 item model, missing responses, missed
sessions) are new and documented in :class:`SimulationParams`.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from ..exceptions import ModelSpecificationError

__all__ = ["SimulationParams", "SimulationParameterError", "N_WAI", "N_PEAR", "N_OQ"]

#: Number of items of the banks the simulator writes.
N_WAI, N_PEAR, N_OQ = 12, 10, 45


class SimulationParameterError(ModelSpecificationError):
    """A generating parameter of the simulator is invalid (the message names it)."""


def _default_oq_discrimination() -> tuple[float, ...]:
    # Illustrative values 1.0 .. 2.2 in a fixed pattern (not estimates from OQ-45 data).
    return tuple(round(1.0 + 0.3 * ((7 * j) % 5), 2) for j in range(N_OQ))


def _default_oq_location() -> tuple[float, ...]:
    # Illustrative item locations -1.0 .. 1.0 in a fixed pattern.
    return tuple(round(-1.0 + 0.25 * ((4 * j) % 9), 2) for j in range(N_OQ))


@dataclass(frozen=True)
class SimulationParams:
    """Generating parameters of :func:`psychometrics.simulate.simulate`.

    Every field has a default; build your own with keyword arguments, e.g.
    ``SimulationParams(n_patients=5000, missing_rate=0.02)``, or change a copy
    with :meth:`replace`. Values are checked when the object is built and a
    :class:`SimulationParameterError` names the field at fault.

    Parameters
    ----------
    n_patients : int
        Number of patients ``N`` (R: ``n_patients``).
    sessions_min, sessions_max : int
        The number of months in treatment ``n_i`` is drawn uniformly from
        ``sessions_min..sessions_max`` (inclusive); a patient has monthly
        sessions in months ``1..n_i``. Equal values give balanced data.
    wai_mu : float
        Grand mean of the latent alliance ``T_it`` on the 1-5 item metric.
    wai_between_sd : float
        SD of the stable between-patient alliance level ``b_i``.
    wai_trend : float
        Growth of latent alliance per month.
    wai_within_sd, wai_within_ar : float
        Marginal SD and lag-1 autoregression of the stationary AR(1)
        within-patient alliance fluctuation ``w_it`` (``|ar| < 1``).
    wai_sub_person_sd, wai_sub_occ_sd : float
        SDs of the subscale-specific (Task, Bond, Goal) patient deviation and
        occasion deviation.
    wai_item_err_sd : float
        SD of the item residual before rounding.
    wai_loadings, wai_offsets : tuple of 12 float
        Loading and intercept offset of ``wai_1 .. wai_12``.
    pear_f1_on_wai, pear_f2_on_f1 : float
        Regression of PEAR factor 1 on standardised latent alliance and of
        factor 2 on factor 1.
    pear_person_sd, pear_occ_sd : float
        SDs of the patient and occasion residuals of each PEAR factor.
    pear_mu : float
        Item mean of the PEAR items (1-6 metric).
    pear_loadings, pear_offsets : tuple of 10 float
        Loading and offset of ``pear_1 .. pear_10``.
    pear_item_err_sd : float
        SD of the PEAR item residual before rounding.
    oq_start_mu, oq_start_sd : float
        Mean and SD of the latent OQ-45 total in month 1.
    oq_c0, oq_ar : float
        Intercept and autoregression of the latent OQ total.
    oq_u_sd : float
        SD of the patient's random intercept ``u_i``.
    gamma_within : float
        Effect of the within-patient alliance deviation ``w_it`` on NEXT
        month's latent OQ total.
    gamma_between : float
        Effect of the between-patient alliance level ``b_i``.
    oq_err_sd : float
        SD of the innovation of the latent OQ total.
    oq_discrimination, oq_location : tuple of 45 float
        Discrimination ``a_j > 0`` and location ``d_j`` of ``oq_1 .. oq_45``
        in the graded-response (cumulative logit) item model. Illustrative
        values, not estimates from OQ-45 data.
    oq_thresholds : tuple of 4 float
        Strictly increasing category thresholds ``tau_1..tau_4`` shared by the
        OQ items (one per step of the 0-4 response scale).
    oq_sub_person_sd, oq_sub_occ_sd : float
        SDs (in points per item, 0-4 metric) of the patient and occasion
        deviations of the OQ subscales (Symptom Distress, Interpersonal
        Relations, Social Role) from their share of the total; they sum to
        zero over the subscales so that the expected total is unchanged.
    missing_rate : float
        Probability, in ``[0, 1)``, that an item response of an attended
        session is blank (MCAR, independently per cell).
    session_miss_rate : float
        Probability, in ``[0, 1)``, that a scheduled session after month 1 is
        missed: its row is absent from the data (a gap in ``month``), while
        the latent processes go on.
    n_therapists : int
        Number of therapists ``K`` (0, the default: no therapist level, the data
        are those of earlier versions). Patients are shared out to therapists
        as evenly as possible in a random order; the data gain a
        ``therapist_id`` column (1..K).
    wai_therapist_sd : float
        SD of the therapist's alliance level ``c_k``, added to the latent
        alliance of every patient of therapist ``k``.
    oq_therapist_sd : float
        SD of the therapist's random intercept ``v_k`` in the OQ recursion.
    gamma_therapist : float
        Between-therapist effect: of the therapist's alliance level ``c_k`` on
        next month's latent OQ total.

    Notes
    -----
    The R generator's ``oq_digits`` (rounding of the OQ total) has no
    counterpart: the OQ-45 is generated as 45 item responses. The full
    generating model is in the Notes of
    :func:`psychometrics.simulate.simulate`.
    """

    n_patients: int = 150
    sessions_min: int = 4
    sessions_max: int = 20
    # --- working alliance (WAI-SR), latent true score on the 1-5 item metric
    wai_mu: float = 3.5
    wai_between_sd: float = 0.45
    wai_trend: float = 0.015
    wai_within_sd: float = 0.35
    wai_within_ar: float = 0.30
    wai_sub_person_sd: float = 0.15
    wai_sub_occ_sd: float = 0.15
    wai_item_err_sd: float = 0.55
    wai_loadings: tuple[float, ...] = (1.00, 0.90, 1.10, 0.95, 1.05, 0.85,
                                       1.00, 0.90, 1.10, 1.00, 0.95, 0.85)
    wai_offsets: tuple[float, ...] = (0.10, -0.20, 0.00, 0.15, -0.10, 0.05,
                                      0.20, -0.25, 0.25, 0.10, -0.05, 0.00)
    # --- PEAR: two correlated factors
    pear_f1_on_wai: float = 0.60
    pear_f2_on_f1: float = 0.50
    pear_person_sd: float = 0.50
    pear_occ_sd: float = 0.50
    pear_mu: float = 4.0
    pear_loadings: tuple[float, ...] = (0.90, 0.80, 1.00, 0.85, 0.75, 0.95,
                                        0.90, 0.80, 1.00, 0.70)
    pear_offsets: tuple[float, ...] = (0.00, -0.20, 0.20, 0.10, -0.10, 0.00,
                                       -0.30, 0.10, 0.00, 0.20)
    pear_item_err_sd: float = 0.70
    # --- OQ-45 latent total dynamics (higher = more distress)
    oq_start_mu: float = 80.0
    oq_start_sd: float = 15.0
    oq_c0: float = 24.0
    oq_ar: float = 0.60
    oq_u_sd: float = 4.0
    gamma_within: float = -8.0
    gamma_between: float = -1.0
    oq_err_sd: float = 7.0
    # --- OQ-45 item model (new compared with the R generator)
    oq_discrimination: tuple[float, ...] = field(default_factory=_default_oq_discrimination)
    oq_location: tuple[float, ...] = field(default_factory=_default_oq_location)
    oq_thresholds: tuple[float, ...] = (-1.5, -0.5, 0.5, 1.5)
    oq_sub_person_sd: float = 0.15
    oq_sub_occ_sd: float = 0.10
    # --- missing data (new)
    missing_rate: float = 0.0
    session_miss_rate: float = 0.0
    # --- therapists (issue 23): 0 = no therapist level (the data of earlier versions)
    n_therapists: int = 0
    wai_therapist_sd: float = 0.25
    oq_therapist_sd: float = 3.0
    gamma_therapist: float = -4.0

    # ------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _INT_FIELDS:
                if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                    object.__setattr__(self, f.name, int(value))
                elif isinstance(value, numbers.Real) and float(value).is_integer():
                    object.__setattr__(self, f.name, int(value))
                else:
                    problems.append(f"{f.name!r} must be an integer. Got {value!r} instead.")
                continue
            if f.name in _VECTOR_FIELDS:
                try:
                    vec = tuple(float(v) for v in value)
                except (TypeError, ValueError):
                    problems.append(f"{f.name!r} must be a sequence of numbers. Got {value!r} instead.")
                    continue
                object.__setattr__(self, f.name, vec)
                if len(vec) != _VECTOR_FIELDS[f.name]:
                    problems.append(f"{f.name!r} must have {_VECTOR_FIELDS[f.name]} values (one per "
                                    f"{_VECTOR_WHAT[f.name]}). Got {len(vec)} instead.")
                if not all(math.isfinite(v) for v in vec):
                    problems.append(f"{f.name!r} must contain finite numbers only. Got {vec!r} instead.")
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                problems.append(f"{f.name!r} must be a number. Got {value!r} instead.")
                continue
            value = float(value)
            object.__setattr__(self, f.name, value)
            if not math.isfinite(value):
                problems.append(f"{f.name!r} must be a finite number. Got {value!r} instead.")
        if problems:
            raise SimulationParameterError(_message(problems))

        if self.n_patients < 1:
            problems.append(f"'n_patients' must be at least 1. Got {self.n_patients} instead.")
        if not 0 <= self.n_therapists <= self.n_patients:
            problems.append(f"'n_therapists' must lie in 0..n_patients ({self.n_patients}); 0 "
                            f"means no therapist level. Got {self.n_therapists} instead.")
        if self.sessions_min < 1:
            problems.append(f"'sessions_min' must be at least 1. Got {self.sessions_min} instead.")
        if self.sessions_min > self.sessions_max:
            problems.append(f"'sessions_min' ({self.sessions_min}) must not exceed 'sessions_max' "
                            f"({self.sessions_max}); set sessions_min <= sessions_max (equal values "
                            f"give every patient the same number of months).")
        for name in _SD_FIELDS:
            value = getattr(self, name)
            if value < 0:
                problems.append(f"{name!r} is a standard deviation and must be >= 0. "
                                f"Got {value!r} instead.")
        if not -1.0 < self.wai_within_ar < 1.0:
            problems.append(f"'wai_within_ar' must lie in (-1, 1) for a stationary AR(1). "
                            f"Got {self.wai_within_ar!r} instead.")
        for name in ("missing_rate", "session_miss_rate"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                problems.append(f"{name!r} is a probability and must lie in [0, 1). "
                                f"Got {value!r} instead.")
        bad = [j + 1 for j, a in enumerate(self.oq_discrimination) if not a > 0]
        if bad:
            problems.append(f"'oq_discrimination' must be positive; items {bad} are not.")
        tau = self.oq_thresholds
        if any(b <= a for a, b in zip(tau, tau[1:])):
            problems.append(f"'oq_thresholds' must be strictly increasing. Got {tau!r} instead.")
        if problems:
            raise SimulationParameterError(_message(problems))

    # ---------------------------------------------------------------- views
    def replace(self, **changes: Any) -> "SimulationParams":
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise SimulationParameterError(
                f"Unknown simulation parameter(s) {unknown}. Valid names: "
                f"{', '.join(self.field_names())}.")
        return dataclasses.replace(self, **changes)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict (tuples as lists)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SimulationParams":
        """Build from a dict such as :meth:`to_dict` gives (unknown keys are errors)."""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise SimulationParameterError(
                f"Unknown simulation parameter(s) {unknown}. Valid names: "
                f"{', '.join(cls.field_names())}.")
        return cls(**dict(values))

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the defaults."""
        default = SimulationParams()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.changes().items())
        return f"SimulationParams({inner})"


_INT_FIELDS = {"n_patients", "sessions_min", "sessions_max", "n_therapists"}
_VECTOR_FIELDS = {"wai_loadings": N_WAI, "wai_offsets": N_WAI, "pear_loadings": N_PEAR,
                  "pear_offsets": N_PEAR, "oq_discrimination": N_OQ, "oq_location": N_OQ,
                  "oq_thresholds": 4}
_VECTOR_WHAT = {"wai_loadings": "WAI-SR item", "wai_offsets": "WAI-SR item",
                "pear_loadings": "PEAR item", "pear_offsets": "PEAR item",
                "oq_discrimination": "OQ-45 item", "oq_location": "OQ-45 item",
                "oq_thresholds": "step of the 0-4 OQ response scale"}
_SD_FIELDS = ("wai_between_sd", "wai_within_sd", "wai_sub_person_sd", "wai_sub_occ_sd",
              "wai_item_err_sd", "pear_person_sd", "pear_occ_sd", "pear_item_err_sd",
              "oq_start_sd", "oq_u_sd", "oq_err_sd", "oq_sub_person_sd", "oq_sub_occ_sd",
              "wai_therapist_sd", "oq_therapist_sd")


def _message(problems: list[str]) -> str:
    if len(problems) == 1:
        return f"Invalid simulation parameter: {problems[0]}"
    return "Invalid simulation parameters:\n" + "\n".join(f"  - {p}" for p in problems)
