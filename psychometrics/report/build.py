"""One call from a study file to the report folder."""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import BankIssue, StudyFileError
from .export import sha256, write_report
from .model import Report
from .run import StudyResults, load_data, preflight, run_study
from .sections import build_report
from .study import EXAMPLE_STUDY, Study, load_study, parse_study

__all__ = ["build", "build_report_files", "BuiltReport", "study_from_args", "check_study",
           "study_from_manifest"]


@dataclass(frozen=True)
class BuiltReport:
    folder: Path
    report: Report
    results: StudyResults
    manifest: dict


def study_from_args(study: str | None, example: bool = False, manifest: str | None = None
                    ) -> Study:
    if example:
        return load_study(EXAMPLE_STUDY)
    if manifest is not None:
        return study_from_manifest(manifest)
    return load_study(study)


def study_from_manifest(path: str | Path) -> Study:
    """The study of a report's ``manifest.json``, after checking that the data
    files and banks are byte-identical to those the report was built from."""
    p = Path(path)
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
        text, source = m["study"]["text"], m["study"]["source"]
    except (OSError, ValueError, KeyError) as exc:
        raise StudyFileError(str(path), [BankIssue("", f"not a report manifest: {exc}.")]) from None
    # the study file's folder if it still exists, else the manifest's (paths in the
    # study file then resolve there or against the repository root)
    from .export import _REPO

    if not Path(source).is_absolute() and (_REPO / source).is_file():
        source = str(_REPO / source)  # recorded relative to the repository
    base = Path(source).resolve().parent if Path(source).is_file() else p.resolve().parent
    study = parse_study(text, source=source, base_dir=base)
    issues = []
    recorded = {Path(d["path"]).name: d["sha256"] for d in m.get("data_files", [])}
    for k, dp in enumerate(study.data_paths()):
        want = recorded.get(dp.name)
        if want is not None and sha256(dp) != want:
            issues.append(study.issue(f"data.files[{k}]", f"{dp} has changed since the report "
                                                          "was built (SHA-256 differs)."))
    for key, b in m.get("banks", {}).items():
        bp = study.bank_path(key) if key in study.instruments else None
        if bp is not None and b.get("sha256") and sha256(bp) != b["sha256"]:
            issues.append(study.issue(f"instruments.{key}.bank",
                                      f"bank file {bp} has changed since the report was built."))
    if issues:
        raise StudyFileError(str(path), issues)
    return study


def check_study(study: Study) -> None:
    """Load the data and run the preflight checks (raises StudyFileError)."""
    preflight(study, load_data(study))


def build_report_files(study: Study, output: str | Path | None = None, quiet: bool = False
                       ) -> BuiltReport:
    """Run the study's analyses and write the report folder."""
    def say(msg):
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    results = run_study(study, progress=None if quiet else say)
    say("Rendering report ...")
    report = build_report(results)
    folder = Path(output) if output is not None else study.output_dir()
    manifest = write_report(results, report, folder)
    say(f"Done in {time.perf_counter() - t0:.1f} s.")
    return BuiltReport(folder=folder, report=report, results=results, manifest=manifest)


def build(study: str | Path | Study, output: str | Path | None = None, quiet: bool = True
          ) -> BuiltReport:
    """Build the report of a study file (path or :class:`Study`)."""
    if not isinstance(study, Study):
        study = load_study(study)
    return build_report_files(study, output=output, quiet=quiet)
