"""Exceptions and warnings of the psychometrics package.

One module for every error and warning the package raises, so that users can
catch a whole family (``except psychometrics.DataValidationError``) and so that
messages share one style: they name the argument, file, row, column or model
part at fault, say what was expected, and end with a period.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

__all__ = [
    "PsychometricsError",
    "InstrumentError",
    "InstrumentNotFoundError",
    "BankIssue",
    "BankValidationError",
    "DataValidationError",
    "DataIssue",
    "ROW_NUMBERING",
    "ModelSpecificationError",
    "ModelSyntaxError",
    "IdentificationError",
    "EstimationError",
    "NotPositiveDefiniteError",
    "StudyFileError",
    "PsychometricsWarning",
    "ConvergenceWarning",
    "HeywoodCaseWarning",
    "SingularFitWarning",
    "NotPositiveDefiniteWarning",
    "DataQualityWarning",
    "ReliabilityWarning",
    "ModelSpecificationWarning",
]


class PsychometricsError(Exception):
    """Base class of every error raised by this package."""


# --------------------------------------------------------------------------- banks
class InstrumentError(PsychometricsError):
    """An item bank (instrument YAML) cannot be used."""


class InstrumentNotFoundError(InstrumentError, LookupError):
    """A name given to ``load_instrument`` is neither a shipped bank nor a file."""


@dataclass(frozen=True)
class BankIssue:
    """One problem found in an item-bank file.

    Attributes
    ----------
    location : str
        Dotted path into the YAML document, e.g. ``scales.bond.items[2]``.
    message : str
        What is wrong and what was expected.
    line : int or None
        1-based line in the file where the offending node starts, if known.
    """

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        loc = self.location or "<document>"
        return f"{where}{loc}: {self.message}"


class BankValidationError(InstrumentError, ValueError):
    """An item bank has one or more problems; all of them are listed."""

    def __init__(self, source: str, issues: Sequence[BankIssue]):
        self.source = source
        self.issues = list(issues)
        n = len(self.issues)
        head = f"Item bank {source} has {n} problem{'s' if n != 1 else ''}:"
        body = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"{head}\n{body}")


# --------------------------------------------------------------------------- data
#: How rows are numbered in every message of the package (said once per message).
ROW_NUMBERING = "Data rows are numbered from 1 at the first row below the header."


def plain(value: Any) -> Any:
    """A value as users wrote it: numpy scalars become Python numbers, so that
    messages show ``1`` and ``2.5``, never ``np.int64(1)``."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        try:
            return item()
        except (TypeError, ValueError):
            return value
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 200,000-digit cell must not flood
    the terminal); the cut says how long the value is."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 20]}... ({len(str(value)):,} characters)"


@dataclass(frozen=True)
class DataIssue:
    """One offending cell or row of user data.

    ``row`` is the 1-based *data row*: the rows a spreadsheet user counts
    below the header (the first data row is 1; position ``i`` of a DataFrame,
    ``df.iloc[i]``, is data row ``i + 1``). Every message, issue table and
    ``DataIssue`` of the package counts rows this way (:data:`ROW_NUMBERING`).
    ``row`` is ``None`` (or ``"all"``) when the issue concerns a whole column.
    ``column`` is the data column, ``value`` the offending value and
    ``index`` the DataFrame index label where it differs from the position.
    """

    row: Any
    column: str | None
    value: Any
    problem: str
    index: Any = None

    @property
    def data_row(self) -> int | None:
        """The 1-based data row (header excluded), or None for a whole column."""
        r = plain(self.row)
        return r if isinstance(r, int) and not isinstance(r, bool) else None

    @property
    def position(self) -> int | None:
        """The 0-based position of the row (``df.iloc[issue.position]``), or None."""
        r = self.data_row
        return None if r is None else r - 1

    def __str__(self) -> str:
        n = self.data_row
        if n is not None:
            where = f"data row {n}"
            if self.index is not None:
                where += f" (index {plain(self.index)!r})"
        elif self.row in (None, "-", "all"):
            where = "all rows" if self.row == "all" else "column"
            if where == "column" and self.column is not None:
                value = "" if self.value is None else f", value {_short(plain(self.value))}"
                return f"column {self.column!r}{value}: {self.problem}"
        else:
            where = f"row {plain(self.row)}"
        col = f", column {self.column!r}" if self.column is not None else ""
        value = "" if self.value is None else f", value {_short(plain(self.value))}"
        return f"{where}{col}{value}: {self.problem}"


class DataValidationError(PsychometricsError, ValueError):
    """User data failed validation; every failure is kept in ``issues``.

    The message lists at most ``max_listed`` issues and gives the total count.
    """

    def __init__(self, summary: str, issues: Sequence[DataIssue] = (), hint: str = "",
                 max_listed: int = 20):
        self.summary = summary
        self.issues = list(issues)
        self.hint = hint
        self.max_listed = max_listed
        super().__init__(self.format())

    def format(self, more: str = "see the exception's .issues or .to_frame()") -> str:
        """The message; ``more`` says where the issues beyond ``max_listed`` are."""
        lines = [self.summary]
        for issue in self.issues[:self.max_listed]:
            lines.append(f"  - {issue}")
        if len(self.issues) > self.max_listed:
            lines.append(f"  ... and {len(self.issues) - self.max_listed} more "
                         f"({len(self.issues)} in total; {more}).")
        if any(i.data_row is not None for i in self.issues):
            lines.append(ROW_NUMBERING)
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def to_frame(self):
        """All issues as a DataFrame: data_row (1-based, header excluded), index,
        column, value, problem."""
        import pandas as pd

        return pd.DataFrame(
            [{"data_row": i.data_row, "index": plain(i.index), "column": i.column,
              "value": plain(i.value), "problem": i.problem} for i in self.issues],
            columns=["data_row", "index", "column", "value", "problem"],
        )


# --------------------------------------------------------------------------- models
class ModelSpecificationError(PsychometricsError, ValueError):
    """A statistical model is specified inconsistently with its data or itself."""


class ModelSyntaxError(ModelSpecificationError):
    """Model syntax (lavaan-style or formula) cannot be parsed.

    Carries the 1-based ``line`` and the offending ``token`` where known.
    """

    def __init__(self, message: str, line: int | None = None, token: str | None = None):
        self.line = line
        self.token = token
        super().__init__(message)


class IdentificationError(ModelSpecificationError):
    """A model is not identified (more free parameters than information)."""


class EstimationError(PsychometricsError, RuntimeError):
    """Estimation failed and no usable estimates exist."""


class NotPositiveDefiniteError(EstimationError, ValueError):
    """A matrix that must be positive definite is not (e.g. a sample covariance)."""


class StudyFileError(PsychometricsError, ValueError):
    """A report study file is invalid; issues are listed like a bank's."""

    def __init__(self, source: str, issues: Sequence[BankIssue]):
        self.source = source
        self.issues = list(issues)
        body = "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(f"Study file {source} has {len(self.issues)} problem(s):\n{body}")


# --------------------------------------------------------------------------- warnings
class PsychometricsWarning(UserWarning):
    """Base class of every warning issued by this package."""


class ConvergenceWarning(PsychometricsWarning):
    """An iterative estimator stopped before meeting its convergence criterion."""


class HeywoodCaseWarning(PsychometricsWarning):
    """A variance estimate is negative or a communality exceeds one."""


class SingularFitWarning(PsychometricsWarning):
    """A random-effects covariance is estimated on the boundary (singular fit)."""


class NotPositiveDefiniteWarning(PsychometricsWarning):
    """A matrix (implied covariance, latent covariance) is not positive definite."""


class DataQualityWarning(PsychometricsWarning):
    """The data allow the analysis but something about them deserves attention."""


class ReliabilityWarning(PsychometricsWarning):
    """A reliability coefficient is computed but is not meaningful as is."""


class ModelSpecificationWarning(PsychometricsWarning):
    """The model is fitted as written, but it is probably not the model the user meant
    (e.g. growth syntax without a mean structure, so the latent means are not estimated)."""
