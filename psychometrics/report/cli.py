"""``psychometrics report``: from a study file to a validation report."""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="build a validation report (HTML, DOCX, tables, figures) from a study file",
        description="Run the analyses a study file asks for and write validation_reports/NAME/: "
                    "report.html, report.docx, tables as CSV and LaTeX, figures as PNG and SVG, "
                    "and manifest.json.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("study", nargs="?", help="the study file (YAML)")
    src.add_argument("--example", action="store_true",
                     help="build the report of the shipped example study (simulated data)")
    src.add_argument("--manifest", metavar="MANIFEST",
                     help="rebuild a report from its manifest.json (checks the data and bank "
                          "checksums first)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="output folder (default: the study file's 'output', else "
                        "validation_reports/NAME under the current directory)")
    p.add_argument("--check", action="store_true",
                   help="validate the study file and the data (preflight) and stop")
    p.add_argument("--pdf", action="store_true",
                   help="also write report.pdf and supplement.pdf (needs LibreOffice: Debian's "
                        "libreoffice-writer-nogui)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .build import build_report_files, check_study, study_from_args

    study = study_from_args(args.study, example=args.example, manifest=args.manifest)
    if args.check:
        check_study(study)
        print(f"{study.source}: OK (study file and data pass the preflight checks).")
        return 0
    output = args.output
    if output is None and args.manifest is not None:
        from pathlib import Path

        output = Path(args.manifest).resolve().parent  # rebuild in place
    out = build_report_files(study, output=output, quiet=args.quiet)
    if args.pdf:
        from .pdf import docx_to_pdf

        for name in ("report.docx", "supplement.docx"):
            if (out.folder / name).is_file():
                docx_to_pdf(out.folder / name)
    failed = [s for s in out.report.sections if s.error]
    print(f"Report written to {out.folder}/ ({len(out.report.tables)} tables, "
          f"{len(out.report.figures)} figures)", file=sys.stderr if args.quiet else sys.stdout)
    for s in failed:
        print(f"  section '{s.title}' not produced: {s.error.splitlines()[0]}", file=sys.stderr)
    return 0
