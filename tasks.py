#!/usr/bin/env python3
"""Set up and run the project on a machine that has only Python 3.11+.

    python3 tasks.py example   # set up .venv, build the example validation report
    python3 tasks.py test      # set up .venv, run the whole test suite
    python3 tasks.py bench     # set up .venv, run every benchmark in benchmarks/

The first call creates ``.venv`` beside this file and installs the package
with all its optional parts (``pip install -e .[all,test]``); later calls
reinstall only when pyproject.toml changed. Extra arguments are passed on
(``python3 tasks.py test -k alpha``).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(cmd: list, **kw) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating the virtual environment {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    for old in VENV.glob(".installed-*"):
        old.unlink()
    if run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"]) != 0:
        sys.exit("Could not upgrade pip in .venv.")
    if run([PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[all,test]"]) != 0:
        sys.exit("Installing the package into .venv failed (see pip's message above).")
    stamp.write_text("installed from pyproject.toml\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"example", "test", "bench"}:
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    setup()
    if task == "example":
        return run([BIN / "psychometrics", "report", "--example", *rest])
    if task == "test":
        return run([PYTHON, "-m", "pytest", "-q", "-n", "2", *rest])
    status = 0
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        status |= run([PYTHON, script, *rest])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
