"""``psychometrics simulate``: write simulated therapy data and its true parameters."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..exceptions import PsychometricsError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate longitudinal psychotherapy data with known parameters",
        description=(
            "Simulate patients with monthly sessions and their WAI-SR, PEAR and OQ-45 item "
            "responses (psychometrics.simulate.simulate). Writes the data as CSV and, beside "
            "it, <stem>_truth.json with the exact call, the seed and all generating parameters."),
    )
    p.add_argument("--patients", type=int, default=None, metavar="N",
                   help="number of patients (default 150)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="integer seed; omitted: fresh entropy, recorded in the JSON")
    p.add_argument("--missing", type=float, default=None, metavar="RATE",
                   help="probability that an item response is blank (MCAR), in [0, 1)")
    p.add_argument("--missed-sessions", type=float, default=None, metavar="RATE",
                   help="probability that a session after month 1 is missed (gap in months)")
    p.add_argument("--sessions", type=int, nargs=2, default=None, metavar=("MIN", "MAX"),
                   help="months in treatment ~ Uniform{MIN..MAX} (default 4 20)")
    p.add_argument("--therapists", type=int, default=None, metavar="K",
                   help="number of therapists (default 0: no therapist level); adds therapist_id")
    p.add_argument("--params", type=Path, default=None, metavar="JSON",
                   help="start from the parameters in this JSON file (a *_truth.json or a "
                        "mapping of SimulationParams fields); the options above override it")
    p.add_argument("--latent", action="store_true",
                   help="also write <stem>_latent_patients.csv and <stem>_latent_sessions.csv")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv",
                   help="CSV file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .generator import simulate
    from .io import write_csv
    from .params import SimulationParams

    params = SimulationParams()
    if args.params is not None:
        try:
            record = json.loads(args.params.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PsychometricsError(f"Cannot read --params {str(args.params)!r}: "
                                     f"{exc.strerror or exc}.") from None
        except json.JSONDecodeError as exc:
            raise PsychometricsError(f"--params {str(args.params)!r} is not valid JSON: "
                                     f"{exc.msg} (line {exc.lineno}).") from None
        if isinstance(record, dict) and isinstance(record.get("params"), dict):
            record = record["params"]
        if not isinstance(record, dict):
            raise PsychometricsError(f"--params {str(args.params)!r} must hold a JSON object of "
                                     "simulation parameters.")
        params = SimulationParams.from_dict(record)
    changes = {}
    if args.patients is not None:
        changes["n_patients"] = args.patients
    if args.missing is not None:
        changes["missing_rate"] = args.missing
    if args.missed_sessions is not None:
        changes["session_miss_rate"] = args.missed_sessions
    if args.sessions is not None:
        changes["sessions_min"], changes["sessions_max"] = args.sessions
    if args.therapists is not None:
        changes["n_therapists"] = args.therapists
    result = simulate(params, seed=args.seed, **changes)
    written = result.to_csv(args.out)
    if args.latent:
        stem = args.out.with_name(args.out.stem)
        for name, frame in (("patients", result.truth.patients),
                            ("sessions", result.truth.sessions)):
            path = Path(f"{stem}_latent_{name}.csv")
            write_csv(frame, path)
            written.append(path)
    print(f"{result.truth.patients.shape[0]} patients, {result.data.shape[0]} sessions; seed "
          f"{result.seed}")
    for path in written:
        print(f"wrote {path}")
    return 0
