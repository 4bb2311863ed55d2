"""Open a report.docx in LibreOffice (headless) and check it converts to PDF.

Not a pytest test (it needs LibreOffice, ``apt-get install libreoffice-writer-nogui``);
run it by hand::

    python tests/report/docx_check.py validation_reports/example/report.docx

Checks that python-docx reads the file back with its tables, that LibreOffice
converts it to a PDF with pages, and (with ``pdftotext`` from poppler-utils,
if present) that every "Table N" caption of the document appears in the PDF.
Writes ``report.pdf`` next to the DOCX unless ``--pdf`` says where.
Exit status 0 when everything passes, 1 otherwise.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv=None) -> int:
    from docx import Document

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docx", type=Path)
    ap.add_argument("--pdf", type=Path, default=None)
    args = ap.parse_args(argv)
    src = args.docx.resolve()
    problems = []
    doc = Document(str(src))
    captions = [p.text for p in doc.paragraphs if re.fullmatch(r"Table \d+", p.text)]
    print(f"python-docx: {len(doc.tables)} tables, {len(captions)} table captions, "
          f"{len(doc.inline_shapes)} pictures")
    if len(doc.tables) != len(captions):
        problems.append("tables and 'Table N' captions differ in number")
    soffice = shutil.which("soffice")
    if soffice is None:
        print("LibreOffice (soffice) not found; install libreoffice-writer-nogui.")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", "pdf", "--outdir", tmp, str(src)],
                           capture_output=True, text=True, timeout=300)
        pdf = Path(tmp) / (src.stem + ".pdf")
        if not pdf.exists():
            problems.append(f"LibreOffice did not convert the file: {r.stderr[-500:]}")
        else:
            out = args.pdf or src.with_suffix(".pdf")
            shutil.copy(pdf, out)
            print(f"LibreOffice: converted to {out} ({out.stat().st_size:,} bytes)")
            if shutil.which("pdftotext"):
                text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                      text=True).stdout
                pages = text.count("\f")
                print(f"PDF: {pages} pages")
                missing = [c for c in captions if c not in text]
                if missing:
                    problems.append(f"captions missing from the PDF: {missing[:5]}")
    if problems:
        print("FAIL")
        for p in problems:
            print("  -", p)
        return 1
    print("OK: the DOCX opens in python-docx and LibreOffice with all its tables.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
