"""Writing the report folder: HTML, DOCX, every table as CSV and LaTeX, every
figure as PNG and SVG, and ``manifest.json``.

Layout of ``validation_reports/NAME/``::

    report.html                     self-contained
    report.docx                     A4 or Letter (study file ``page:``), Word captions
    supplement.html / .docx         versions, checksums, verbatim warnings, the study file
    tables/table_01_<key>.csv       the table as printed (APA-rounded strings)
    tables/table_01_<key>_values.csv  the unrounded values behind it
    tables/table_01_<key>.tex       booktabs LaTeX
    figures/figure_01_<key>.png / .svg
    manifest.json                   versions, checksums, seeds, the study file
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import shutil
import sys
from pathlib import Path

from .model import Report, Table

__all__ = ["table_to_latex", "write_report", "build_manifest", "sha256"]

_DEPENDENCIES = ("numpy", "scipy", "pandas", "pydantic", "PyYAML", "matplotlib", "python-docx",
                 "Jinja2", "openpyxl", "pyreadstat", "pyarrow")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_TEX_ESCAPE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
               "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
               "^": r"\textasciicircum{}", "\u2212": "$-$", "\u2013": "--", "\u2014": "---",
               "<": "$<$", ">": "$>$", "\u03c7": r"$\chi$", "\u00b2": r"\textsuperscript{2}",
               "\u0394": r"$\Delta$", "\u03c9": r"$\omega$", "\u03b1": r"$\alpha$"}


_GREEK_CAPITALS = {"GAMMA", "DELTA", "THETA", "LAMBDA", "XI", "PI", "SIGMA", "UPSILON", "PHI",
                   "PSI", "OMEGA"}
_TEX_SYMBOLS = {"\u2264": r"$\leq$", "\u2265": r"$\geq$", "\u00b1": r"$\pm$",
                "\u00d7": r"$\times$", "\u00b3": r"\textsuperscript{3}", "\u2248": r"$\approx$",
                "\u221a": r"$\surd$", "\u2192": r"$\rightarrow$"}


def _tex_char(ch: str) -> str:
    """One character for pdflatex: LaTeX specials escaped, Greek letters and math symbols as
    math, everything else (accented letters, typographic quotes) left to inputenc."""
    if ch in _TEX_ESCAPE:
        return _TEX_ESCAPE[ch]
    if ch in _TEX_SYMBOLS:
        return _TEX_SYMBOLS[ch]
    if "\u0370" <= ch <= "\u03ff":
        import unicodedata

        name = unicodedata.name(ch, "")
        letter = name.rsplit(" ", 1)[-1]
        if name.startswith("GREEK SMALL LETTER"):
            return f"$\\{letter.lower()}$"
        if name.startswith("GREEK CAPITAL LETTER") and letter in _GREEK_CAPITALS:
            return f"$\\{letter.capitalize()}$"
        if name.startswith("GREEK CAPITAL LETTER"):
            return {"ALPHA": "A", "BETA": "B", "EPSILON": "E", "ZETA": "Z", "ETA": "H",
                    "IOTA": "I", "KAPPA": "K", "MU": "M", "NU": "N", "OMICRON": "O", "RHO": "P",
                    "TAU": "T", "CHI": "X"}.get(letter, "?")
    return ch


def _tex(s: str, italic: bool = False) -> str:
    out = "".join(_tex_char(ch) for ch in s)
    return f"\\textit{{{out}}}" if italic else out


def _tex_markup(s: str) -> str:
    import re

    from .model import split_sub

    parts = re.split(r"\*([^*\n]+)\*", s)
    return "".join(rf"\textsubscript{{{_tex(t)}}}" if sub else _tex(t, italic=bool(k % 2))
                   for k, p in enumerate(parts) for t, sub in split_sub(p))


def _tex_label(label: str, italic: bool) -> str:
    from .model import split_sub

    return "".join(rf"\textsubscript{{{_tex(t)}}}" if sub else _tex(t, italic)
                   for t, sub in split_sub(label))


def table_to_latex(t: Table, number: int) -> str:
    """A booktabs table (needs ``\\usepackage{booktabs,caption}``), APA layout."""
    ncol = len(t.columns)
    spec = "l" + "c" * (ncol - 1)
    lines = [f"% Table {number} of the validation report; needs \\usepackage{{booktabs,caption}}",
             r"\begin{table}[htbp]", r"\centering",
             rf"\caption*{{\textbf{{Table {number}}}\\\textit{{{_tex(t.title)}}}}}",
             rf"\label{{tab:{t.key}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(_tex_label(c.label, c.italic_label) for c in t.columns) + r" \\",
             r"\midrule"]
    for group, cells in t.rows():
        if group is not None:
            lines.append(rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{_tex(group)}}}}} \\")
        lines.append(" & ".join(_tex(v) for v in cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if t.note:
        lines.append(rf"\par\smallskip{{\footnotesize\textit{{Note.}} {_tex_markup(t.note)}\par}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _versions() -> dict[str, str | None]:
    out = {}
    for name in _DEPENDENCIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


_REPO = Path(__file__).resolve().parents[2]


def portable_path(p: str | Path) -> str:
    """A path as recorded in the manifest: relative to the repository when inside
    it (so a committed manifest does not depend on where the clone lives)."""
    resolved = Path(p).resolve()
    try:
        return resolved.relative_to(_REPO).as_posix()
    except ValueError:
        return str(resolved)


def build_manifest(results, report: Report, files: dict[str, str]) -> dict:
    """Everything needed to rebuild the report: versions, checksums, seeds, study file."""
    from .. import __version__

    study = results.study
    banks = {}
    for key in study.instruments:
        p = study.bank_path(key)
        banks[key] = {"bank": study.instruments[key].bank, "form": study.instruments[key].form,
                      "instrument_id": study.instrument(key).id,
                      "version": study.instrument(key).version,
                      "path": portable_path(p) if p else None, "sha256": sha256(p) if p else None}
    outcomes = {}
    for name, o in results.outcomes.items():
        outcomes[name] = {"ok": o.ok, "error": o.error, "warnings": list(o.warnings),
                          "seconds": round(o.seconds, 3)}
        if o.parts:
            outcomes[name]["parts"] = {k: {"ok": p.ok, "error": p.error}
                                       for k, p in o.parts.items()}
    return {
        "psychometrics_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": _versions(),
        "study": {"name": study.name, "source": portable_path(study.source)
                  if Path(study.source).is_file() else study.source, "text": study.text,
                  "sha256": hashlib.sha256(study.text.encode("utf-8")).hexdigest()},
        "data_files": [{"path": portable_path(p), "sha256": sha256(p), "bytes": p.stat().st_size}
                       for p in results.data.files],
        "banks": banks,
        "seeds": dict(results.seeds),
        "started": results.started,
        "seconds": round(results.seconds, 3),
        "analyses": outcomes,
        "sections": [{"key": s.key, "title": s.title, "error": s.error}
                     for s in report.sections],
        "files": files,
        "reproduce": f"psychometrics report --manifest manifest.json",
    }


def write_report(results, report: Report, outdir: str | Path, clean: bool = True) -> dict:
    """Write every output of the report into ``outdir``; returns the manifest."""
    out = Path(outdir)
    if clean:
        for sub in ("tables", "figures"):
            if (out / sub).is_dir():
                shutil.rmtree(out / sub)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}

    def put(rel: str, data: bytes | str):
        p = out / rel
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)
        files[rel] = hashlib.sha256(p.read_bytes()).hexdigest()

    # python-docx and jinja2 are loaded here, when a report is written, not on import
    from .render_docx import render_docx
    from .render_html import render_html

    tab_no, fig_no = report.numbered()
    for s in report.sections:
        for t in s.tables:
            n = tab_no[id(t)]
            stem = f"tables/table_{n:02d}_{t.key}"
            put(f"{stem}.csv", t.formatted_frame().to_csv(index=False))
            put(f"{stem}_values.csv", t.data.to_csv(index=False))
            put(f"{stem}.tex", table_to_latex(t, n))
        for f in s.figures:
            n = fig_no[id(f)]
            stem = f"figures/figure_{n:02d}_{f.key}"
            put(f"{stem}.png", f.png)
            put(f"{stem}.svg", f.svg)
    put("report.html", render_html(report))
    put("report.docx", render_docx(report))
    if report.supplement:
        sup = report.supplement_report()
        put("supplement.html", render_html(sup))
        put("supplement.docx", render_docx(sup))
    manifest = build_manifest(results, report, files)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                       encoding="utf-8")
    return manifest
