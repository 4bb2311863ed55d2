"""Packaging: no symbolic links in the package; the shipped data live inside it.

The banks and example data are plain files in the package (so a wheel carries them and a
Windows checkout, which does not make symbolic links, reads them); the repository's
top-level ``instruments/`` and ``examples/`` are identical copies for readers.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import psychometrics
from psychometrics.instruments.loader import SHIPPED_DIR
from psychometrics.simulate.io import EXAMPLES_DIR

PKG = Path(psychometrics.__file__).resolve().parent
REPO = PKG.parent


def test_no_symlinks_in_the_package():
    links = [str(p.relative_to(REPO)) for p in PKG.rglob("*") if p.is_symlink()]
    assert not links, f"symbolic links in the package: {links}"


def test_data_folders_are_inside_the_package():
    for d in (SHIPPED_DIR, EXAMPLES_DIR):
        assert d.is_dir() and not d.is_symlink()
        assert d.resolve().is_relative_to(PKG), d
    assert sorted(p.name for p in SHIPPED_DIR.glob("*.yaml")) == [
        "oq-45.2.yaml", "pear.yaml", "wai-s.yaml", "wai-sr.yaml"]
    assert (EXAMPLES_DIR / "therapy_example.csv").is_file()
    assert (EXAMPLES_DIR / "therapy_example_truth.json").is_file()


def test_top_level_copies_are_identical():
    for pkg_dir, top in ((SHIPPED_DIR, REPO / "instruments"), (EXAMPLES_DIR, REPO / "examples")):
        if not top.is_dir():            # an installed package has no repository around it
            continue
        for f in sorted(pkg_dir.iterdir()):
            copy = top / f.name
            assert copy.is_file(), f"{copy} is missing (copy {f} there)"
            assert copy.read_bytes() == f.read_bytes(), (
                f"{copy} differs from {f}: edit the package's file and copy it to {top.name}/")
    extra = {p.name for p in (REPO / "instruments").glob("*.yaml")} - {
        p.name for p in SHIPPED_DIR.glob("*.yaml")}
    assert not extra, f"banks only at the top level, not shipped: {sorted(extra)}"


def test_package_data_globs_cover_the_data():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pdata = cfg["tool"]["setuptools"]["package-data"]
    for pkg, d in (("psychometrics.instruments", SHIPPED_DIR),
                   ("psychometrics.simulate", EXAMPLES_DIR)):
        base = PKG.joinpath(*pkg.split(".")[1:])
        covered = {p.resolve() for g in pdata[pkg] for p in base.glob(g)}
        files = {p.resolve() for p in d.iterdir() if p.is_file()}
        assert files <= covered, f"not in package-data of {pkg}: {sorted(files - covered)}"
