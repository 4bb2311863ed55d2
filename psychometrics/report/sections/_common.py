"""What every section builder shares: turning an outcome into a section that
either shows its results or says why they are missing."""
from __future__ import annotations

from typing import Callable, Iterable

from ..model import Block, Paragraph, Section
from ..run import Outcome, StudyResults


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
    tail = [Paragraph(f"Warning during this analysis: {w}", kind="warning")
            for w in grouped_warnings(outcome.warnings)]
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
