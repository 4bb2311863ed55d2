"""The report as a PDF, through LibreOffice in headless mode.

LibreOffice is not a Python dependency: install it from your system's packages
(Debian: ``apt-get install libreoffice-writer-nogui``). :func:`docx_to_pdf` says so
when it is missing instead of failing obscurely.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..exceptions import PsychometricsError

__all__ = ["docx_to_pdf", "find_soffice"]


def find_soffice() -> str | None:
    """The LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: str | Path, pdf: str | Path | None = None, timeout: float = 300) -> Path:
    """Convert a .docx file to PDF with LibreOffice (headless, a throwaway profile).

    Returns the PDF's path (default: beside the .docx).

    Raises
    ------
    PsychometricsError
        LibreOffice is not installed, timed out, or wrote no PDF (its message is included).
    """
    src = Path(docx).resolve()
    if not src.is_file():
        raise PsychometricsError(f"{src}: no such file to convert to PDF.")
    soffice = find_soffice()
    if soffice is None:
        raise PsychometricsError(
            "Converting the report to PDF needs LibreOffice, which is not installed (Debian/"
            "Ubuntu: apt-get install libreoffice-writer-nogui; elsewhere: install LibreOffice "
            "and put 'soffice' on the PATH). The .docx and .html reports are complete without it.")
    out = Path(pdf).resolve() if pdf is not None else src.with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            r = subprocess.run([soffice, "--headless", "--norestore",
                                f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}",
                                "--convert-to", "pdf", "--outdir", tmp, str(src)],
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PsychometricsError(f"LibreOffice did not convert {src.name} within "
                                     f"{timeout:.0f} s.") from None
        made = Path(tmp) / (src.stem + ".pdf")
        if not made.is_file():
            raise PsychometricsError(f"LibreOffice did not convert {src.name} to PDF: "
                                     f"{(r.stderr or r.stdout).strip()[-500:]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, out)
    return out
