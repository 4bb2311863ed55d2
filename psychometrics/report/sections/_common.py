"""What every section builder shares: turning an outcome into a section that
either shows its results or says why they are missing."""
from __future__ import annotations

from typing import Callable, Iterable

from ..model import Block, Paragraph, Section
from ..context import Outcome, StudyResults


def section(results: StudyResults, name: str, key: str, title: str,
            build: Callable[[object], Iterable[Block]], intro: str | None = None
            ) -> Section | None:
    """Build a section from the outcome of step ``name``.

    ``None`` when the step did not run (not requested); a section with the
    error message when it failed, or when building its tables failed.
    Failed instruments of a per-instrument step and warnings raised during the
    step are listed in the section.
    """
    outcome = results.get(name)
    if outcome is None:
        return None
    if not outcome.ok:
        return Section.failed(key, title, outcome.error or "unknown error.")
    try:
        blocks = list(build(outcome.result))
    except Exception as exc:  # noqa: BLE001  (the section says why it is missing)
        return Section.failed(key, title, f"its results could not be rendered "
                                          f"({type(exc).__name__}: {exc}).")
    head: list[Block] = []
    if intro:
        head.append(Paragraph(intro))
    head += failed_parts(results, outcome)
    tail = [Paragraph(w, kind="warning") for w in plain_warnings(results, outcome)]
    return Section(key, title, tuple(head + blocks + tail))


def grouped_warnings(warnings: tuple[str, ...]) -> list[str]:
    """Warnings that differ only in their numbers are shown once, with a count."""
    import re

    groups: dict[str, list[str]] = {}
    for w in warnings:
        groups.setdefault(re.sub(r"-?\d+(\.\d+)?", "#", w), []).append(w)
    out = []
    for ws in groups.values():
        more = len(ws) - 1
        out.append(ws[0] if not more else
                   f"{ws[0]} (and {more} similar warning{'s' if more > 1 else ''})")
    return out


def plain_warnings(results: StudyResults, outcome: Outcome) -> list[str]:
    """The step's warnings in plain language, naming the instrument where known.

    The technical wording of every warning is kept verbatim in the supplement.
    """
    labelled: list[tuple[str, str]] = []
    seen = set()
    for k, part in (outcome.parts or {}).items():
        for w in part.warnings:
            labelled.append((label(results, k), w))
            seen.add(w)
    labelled += [("", w) for w in outcome.warnings if w not in seen]
    out: dict[str, list[str]] = {}
    for where, w in labelled:
        text = plain_warning(w)
        out.setdefault(where, []).append(text)
    result = []
    for where, texts in out.items():
        for t in grouped_warnings(tuple(texts)):
            result.append(f"{where}: {t}" if where else t)
    return result


def plain_warning(w: str) -> str:
    """One warning message rephrased for a reader of the report (no class names,
    no Python reprs); unknown messages keep their text without the class name."""
    import re

    m = re.match(r"\s*(\w+Warning):\s*(.*)", w, flags=re.S)
    kind, msg = (m.group(1), m.group(2)) if m else ("", w)
    msg = re.sub(r"\[((?:'[^']*'(?:, )?)+)\]",
                 lambda g: " and ".join(x.strip("'") for x in g.group(1).split(", ")), msg)
    if kind == "DataQualityWarning" and "item values are missing" in msg:
        n = re.match(r"(\d+) item values are missing", msg)
        return (f"{n.group(1) if n else 'Some'} item responses were missing and were left out of "
                "the multilevel reliability model; every patient and occasion still counts in "
                "its coefficients (as in psych).")
    if kind == "DataQualityWarning" and "were left out (listwise)" in msg:
        n = re.match(r"(\d+) of (\d+) patients", msg)
        return (f"{n.group(1) + ' of ' + n.group(2) if n else 'Some'} patients missed an "
                "occasion or an item and were left out (listwise deletion); full-information "
                "ML (missing: ml in the study file) would keep them.")
    if kind == "SingularFitWarning" and "crossed" in msg:
        comp = re.search(r"variance of (.*?) is estimated", msg)
        several = bool(comp and " and " in comp.group(1))
        return (f"The variance component{'s' if several else ''} "
                f"{comp.group(1) if comp else ''} of the multilevel reliability model "
                f"{'were' if several else 'was'} estimated as zero (a boundary solution); "
                f"coefficients that use {'them' if several else 'it'} are at their limit.")
    if kind == "SingularFitWarning":
        f = re.search(r"fit of '([^']*)'", msg)
        return (f"In the model {f.group(1) if f else ''} a between-patient variance was estimated "
                "as zero (a boundary fit); its between-patient part adds nothing to the "
                "fixed effects.")
    if kind == "NotPositiveDefiniteWarning":
        g = re.search(r"group '([^']*)'", msg)
        e = re.search(r"eigenvalue (-?[\d.]+)", msg)
        v = re.search(r"involving (.*?)\)", msg)
        pairs = re.findall(r"'([^']*)' with '([^']*)' = (-?\d+(?:\.\d+)?)", msg)
        if pairs:
            listed = _join_and([f"{a} with {b} ({r})" for a, b, r in pairs])
            return (f"{('In group ' + g.group(1) + ', the') if g else 'The'} estimated factor "
                    f"correlation{'s' if len(pairs) > 1 else ''} {listed} "
                    f"{'exceed' if len(pairs) > 1 else 'exceeds'} 1 in absolute value: the "
                    "factor covariance matrix is not proper and these factors cannot be told "
                    "apart.")
        return (f"In {('group ' + g.group(1)) if g else 'one group'} the estimated factor "
                f"covariances{(' of ' + v.group(1)) if v else ''} are not a proper covariance "
                f"matrix (smallest eigenvalue {e.group(1) if e else 'below zero'}): some factor "
                "correlations exceed 1, so the factors cannot be told apart in that group.")
    if kind == "ConvergenceWarning":
        f = re.search(r"model '([^']*)'", msg)
        return (f"The fit of {('the model ' + f.group(1)) if f else 'this model'} did not pass "
                "every optimality check; treat its standard errors and degrees of freedom with "
                "caution.")
    return msg


def _join_and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def failed_parts(results: StudyResults, outcome: Outcome) -> list[Paragraph]:
    out = []
    for k, part in (outcome.parts or {}).items():
        if not part.ok:
            label = results.study.label(k) if k in results.study.instruments else k
            out.append(Paragraph(f"{label}: this analysis could not be produced: {part.error}",
                                 kind="error"))
    return out


def label(results: StudyResults, key: str) -> str:
    return results.study.label(key) if key in results.study.instruments else key


def ordered(results: StudyResults, d: dict) -> list:
    """Keys of ``d`` in the order the study declares its instruments."""
    order = list(results.study.instruments)
    return sorted(d, key=lambda k: order.index(k) if k in order else len(order))
