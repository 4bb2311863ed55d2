"""Start-up: importing a subpackage does not load the heavy libraries it only needs later.

Each check runs a fresh interpreter (the test process itself has imported everything) and
lists which heavy modules ``import psychometrics.<sub>`` put into ``sys.modules``. Times are
measured in ``benchmarks/bench_startup.py``, never here; this test only keeps the structure
that makes the import fast (scipy's submodules, python-docx, jinja2 and matplotlib are
imported inside the functions that use them, or through ``psychometrics._lazy.lazy_module``
where a module uses them in many functions; see docs/conventions.md, "Start-up").
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "scipy.optimize", "scipy.sparse", "scipy.linalg", "docx", "jinja2",
         "matplotlib", "sqlalchemy", "starlette")

# subpackage -> heavy modules it may load on import (none, for every subpackage listed)
LIGHT = {
    "psychometrics": (),
    "psychometrics.sem": (),
    "psychometrics.efa": (),
    "psychometrics.irt": (),
    "psychometrics.validity": (),
    "psychometrics.report": (),
    "psychometrics.scoring": (),
    "psychometrics.io": (),
    "psychometrics.instruments": (),
    "psychometrics.numerics": (),
    "psychometrics.tracking": (),
    "psychometrics.reliability": (),
    "psychometrics.multilevel": (),
    "psychometrics.power": (),
    "psychometrics.simulate": (),
}


def _loaded(module: str) -> list[str]:
    code = (f"import sys, json, {module}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", sorted(LIGHT))
def test_import_does_not_load_heavy_modules(module):
    extra = sorted(set(_loaded(module)) - set(LIGHT[module]))
    assert not extra, (f"`import {module}` loads {extra}: import them inside the functions "
                       "that use them (docs/conventions.md, Start-up)")


def test_check_sees_a_heavy_import():
    # the check itself can fail: scipy.stats imported directly is seen
    assert "scipy.stats" in _loaded("scipy.stats")


def test_lazy_module_imports_on_first_attribute():
    code = ("import sys, json; from psychometrics._lazy import lazy_module; "
            "m = lazy_module('scipy.stats'); before = 'scipy.stats' in sys.modules; "
            "v = m.norm.cdf(0.0); print(json.dumps([before, 'scipy.stats' in sys.modules, v]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True, 0.5]
