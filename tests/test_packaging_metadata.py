"""pyproject.toml: SPDX license string (the table form is deprecated by setuptools) and a
setuptools new enough to read it (PEP 639 support arrived in setuptools 77)."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_spdx_string_with_setuptools_77():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["license"] == "MIT"
    req = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    m = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", req[0].replace(" ", ""))
    assert m and int(m.group(1)) >= 77, req
    classifiers = meta["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]  # refused with SPDX
