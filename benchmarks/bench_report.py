"""Benchmark of the report: the whole example report and its rendering stage.

    python benchmarks/bench_report.py

There is no R counterpart of a whole validation report in benchmarks/r_timings.json
(the analyses themselves are benchmarked by each module's own bench_*.py), so this
prints our seconds only: the full ``psychometrics report --example`` pipeline per
step, and the rendering stage (sections, HTML, DOCX, CSV/LaTeX/PNG/SVG, manifest)
on already computed results, as the median of repeats after a warm-up.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from psychometrics.report import load_study
    from psychometrics.report.export import write_report
    from psychometrics.report.run import run_study
    from psychometrics.report.sections import build_report
    from psychometrics.report.study import EXAMPLE_STUDY

    study = load_study(EXAMPLE_STUDY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        results = run_study(study, progress=None)
        t_run = time.perf_counter() - t0
    print(f"analyses of the example study: {t_run:.2f} s")
    for name, o in results.outcomes.items():
        print(f"  {name:<24}{o.seconds:8.2f} s  {'ok' if o.ok else 'FAILED: ' + o.error}")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(4):  # first is the warm-up
            t0 = time.perf_counter()
            report = build_report(results)
            write_report(results, report, Path(tmp) / "out")
            if k:
                times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(f"rendering (sections + HTML + DOCX + exports), median of {len(times)}: {med:.2f} s")
    print(f"total (analyses + rendering): {t_run + med:.2f} s; R: no equivalent "
          "(no R timing key; the analyses' R timings are in the modules' benchmarks)")


if __name__ == "__main__":
    main()
