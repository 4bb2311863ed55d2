"""Writing simulated data and reading the shipped example data."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..exceptions import PsychometricsError
from .params import SimulationParams

if TYPE_CHECKING:  # the generator imports this module, not the other way round
    from .generator import SimulationResult

__all__ = ["write_csv", "write_truth_json", "example_data", "example_truth", "EXAMPLES_DIR",
           "EXAMPLE_CSV", "EXAMPLE_TRUTH"]

#: Folder of the shipped example data, inside the package (also in a wheel). The
#: repository's top-level ``examples/`` holds identical copies for readers of the
#: repository (``tests/conventions/test_conventions_packaging.py`` keeps them equal).
EXAMPLES_DIR = (Path(__file__).resolve().parent / "example_files").resolve()
EXAMPLE_CSV = EXAMPLES_DIR / "therapy_example.csv"
EXAMPLE_TRUTH = EXAMPLES_DIR / "therapy_example_truth.json"


def write_csv(data: pd.DataFrame, path: str | Path | None = None) -> str | None:
    """Write simulated (or any wide item) data as CSV, the way the examples are written.

    Float columns whose values are all whole numbers (item columns with
    blanks) are written as integers; blanks are empty cells; lines end with
    ``\\n``; no index. The output is therefore byte-identical for identical
    data on every platform.

    Parameters
    ----------
    data : DataFrame
    path : str or Path, optional
        Where to write; ``None`` returns the CSV text instead.
    """
    out = data.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_float_dtype(values.dtype):
            finite = values.dropna().to_numpy()
            if np.all(np.mod(finite, 1) == 0):
                out[col] = values.astype("Int64")
    if path is None:
        buf = io.StringIO()
        out.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()
    try:
        out.to_csv(path, index=False, lineterminator="\n")
    except OSError as exc:
        raise PsychometricsError(f"Cannot write the CSV file {str(path)!r}: "
                                 f"{exc.strerror or exc}.") from None
    return None


def write_truth_json(result: SimulationResult, path: str | Path) -> None:
    """Write ``result.metadata()`` (call, seed, parameters) as JSON."""
    try:
        Path(path).write_text(metadata_json(result), encoding="utf-8", newline="\n")
    except OSError as exc:
        raise PsychometricsError(f"Cannot write the JSON file {str(path)!r}: "
                                 f"{exc.strerror or exc}.") from None


def example_truth() -> dict[str, Any]:
    """The record of the shipped example: call, seed and parameters (a dict)."""
    if not EXAMPLE_TRUTH.is_file():
        raise PsychometricsError(
            f"The example data record {EXAMPLE_TRUTH} is missing; the examples/ folder ships "
            "with the source repository and its wheels; it is not here. Generate the same data "
            "with psychometrics.simulate.simulate(SimulationParams(missing_rate=0.02), "
            "seed=20240601).")
    return json.loads(EXAMPLE_TRUTH.read_text(encoding="utf-8"))


def example_data() -> pd.DataFrame:
    """The shipped example data ``examples/therapy_example.csv``.

    150 simulated patients with 4-20 monthly sessions, WAI-SR, PEAR and OQ-45
    item responses and 2% blank responses, made by
    ``simulate(SimulationParams(missing_rate=0.02), seed=20240601)`` (see
    ``examples/README.md``). Item columns are float64 with NaN for blanks,
    exactly as ``simulate(...).data``.

    Returns
    -------
    DataFrame
    """
    if not EXAMPLE_CSV.is_file():
        example_truth()  # raises the explanatory error
        raise PsychometricsError(f"The example data {EXAMPLE_CSV} is missing.")
    from ..io.files import read_responses      # the package's one data-file reader

    data = read_responses(EXAMPLE_CSV)
    data.attrs.clear()
    params = SimulationParams.from_dict(example_truth()["params"])
    item_dtype = np.float64 if params.missing_rate > 0 else np.int64
    dtypes = {c: (np.int64 if c in ("patient_id", "month") else item_dtype) for c in data.columns}
    return data.astype(dtypes)


def _json_default(obj: Any) -> Any:  # pragma: no cover - numpy scalars in metadata
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


def metadata_json(result: "SimulationResult") -> str:
    return json.dumps(result.metadata(), indent=2, default=_json_default) + "\n"
