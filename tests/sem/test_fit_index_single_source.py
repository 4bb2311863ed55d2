"""Fit-index formulas live in one module: ``psychometrics/sem/fit_measures.py``.

The other modules of ``psychometrics.sem`` (ML, MLR/MLM/MLMV, FIML, ordinal, two-level,
invariance) call its functions (``cfi``, ``tli``, ``rmsea``, ``rmsea_ci``, ...) and must not
compute an index themselves. The scan below reads their source with ``ast`` and reports

1. a value stored under a fit-index name (``out["cfi"] = ...``, ``dict(rmsea=...)``,
   ``{"tli_scaled": ...}``, ``srmr = ...``) that is arithmetic instead of a call, a name, a
   constant or a look-up;
2. the RMSEA shape ``sqrt(max(<a difference of ratios>, 0))``;
3. the noncentral chi-square (``chndtr``, ``ncx2``), which only the RMSEA interval and
   close-fit tests use;
4. an import of a private name (``_pnchisq``, ``_cfi``, ...) from ``fit_measures``.

The checks are tested on the duplicates this module replaced (they must be found) and on
look-alike code that is not an index (it must not be).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import psychometrics.sem

SEM_DIR = Path(psychometrics.sem.__file__).parent
HOME = "fit_measures.py"

_BASE = ("cfi|tli|nnfi|rni|nfi|rfi|ifi|pnfi|rmsea|rmsea_ci_lower|rmsea_ci_upper|rmsea_pvalue|"
         "rmsea_notclose_pvalue|rmsea_diff|srmr|srmr_within|srmr_between|srmr_bentler|"
         "srmr_mplus|srmr_mean|rmr|crmr|wrmr|gfi|agfi|pgfi|mfi|ecvi|cn_05|cn_01|aic|bic|"
         "bic2|sabic")
INDEX_NAME = re.compile(rf"^(?:{_BASE})(?:_nomean)?(?:_scaled|_robust)?$")
_ARITH = (ast.BinOp, ast.UnaryOp)
# elementary functions: arithmetic inside them is still a formula (np.sqrt(ss / n))
_MATH = {"sqrt", "exp", "log", "float", "abs", "max", "min", "sum", "mean", "maximum"}


def _arith(node) -> bool:
    """True when the expression computes something itself: arithmetic that is not inside
    the call of a (fit_measures) function."""
    if isinstance(node, _ARITH):
        return True
    if isinstance(node, ast.IfExp):
        return _arith(node.body) or _arith(node.orelse)
    if isinstance(node, ast.Call):
        return _name_of_call(node) in _MATH and any(_arith(a) for a in node.args)
    if isinstance(node, (ast.Subscript, ast.Attribute, ast.Name, ast.Constant)):
        return False
    return any(_arith(c) for c in ast.iter_child_nodes(node))


def _key(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return node.id
    # "rmsea" + sfx: the literal part names the index
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _key(node.left)
    return None


def _subtracts_a_ratio(node) -> bool:
    subs = [n for n in ast.walk(node) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub)]
    divs = [n for n in ast.walk(node) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)]
    return bool(subs) and bool(divs)


def _name_of_call(node) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def violations(source: str, filename: str = "<src>") -> list[str]:
    """Index formulas computed in ``source`` (see the module docstring)."""
    tree = ast.parse(source, filename)
    out = []

    def flag(node, what):
        out.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        # 1. values stored under index names
        pairs = []
        if isinstance(node, ast.Assign):
            for t in node.targets:
                for tt in (t.elts if isinstance(t, ast.Tuple) else [t]):
                    if isinstance(tt, ast.Subscript):
                        pairs.append((_key(tt.slice), node.value))
                    elif isinstance(tt, ast.Name):
                        pairs.append((tt.id, node.value))
        elif isinstance(node, ast.Dict):
            pairs += [(_key(k), v) for k, v in zip(node.keys, node.values) if k is not None]
        elif isinstance(node, ast.Call):
            pairs += [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
        for key, value in pairs:
            if key and INDEX_NAME.match(key) and _arith(value):
                flag(value, f"{key!r} computed inline ({ast.unparse(value)[:70]})")
        if isinstance(node, ast.Call):
            name = _name_of_call(node)
            # 2. the RMSEA shape
            if name == "sqrt" and node.args and isinstance(node.args[0], ast.Call) \
                    and _name_of_call(node.args[0]) == "max" \
                    and any(_subtracts_a_ratio(a) for a in node.args[0].args):
                flag(node, f"RMSEA-like sqrt(max(...)) ({ast.unparse(node)[:70]})")
            # 3. the noncentral chi-square
            if name in ("chndtr", "chndtrix", "chndtridf", "chndtrinc") or \
                    (isinstance(node.func, ast.Attribute) and isinstance(node.func.value,
                                                                         ast.Attribute)
                     and node.func.value.attr == "ncx2"):
                flag(node, f"noncentral chi-square ({ast.unparse(node)[:70]})")
        # 4. private helpers of fit_measures
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("fit_measures"):
            for a in node.names:
                if a.name.startswith("_"):
                    flag(node, f"imports private {a.name} from fit_measures")
    return out


def _sem_modules():
    files = sorted(p for p in SEM_DIR.glob("*.py") if p.name != HOME)
    assert len(files) > 20, SEM_DIR        # the scan really sees the package
    return files


def test_no_index_formula_outside_fit_measures():
    found = []
    for path in _sem_modules():
        found += violations(path.read_text(encoding="utf-8"), path.name)
    assert not found, ("fit-index formulas outside sem/fit_measures.py; call its functions "
                       "instead:\n" + "\n".join(found))


def test_the_fit_measures_module_itself_is_found_by_the_scan():
    # the home module computes every index: the scan must see them there
    found = violations((SEM_DIR / HOME).read_text(encoding="utf-8"), HOME)
    text = "\n".join(found)
    for what in ("'srmr'", "'srmr_mean'", "'aic'", "'bic2'", "RMSEA-like",
                 "noncentral chi-square"):
        assert what in text, what


# the duplicates this module replaced, verbatim from the ordinal, two-level and MLMV code
REPLACED = {
    "ordinal cfi": 'out["cfi" + sfx] = 1 - max(X2 - df, 0) / max(X2 - df, Xb - dfb, 0)',
    "ordinal tli": 'tli = ((Xb / dfb) - (X2 / df)) / ((Xb / dfb) - 1) if df > 0 else 1.0',
    "ordinal rni": 'out["rni" + sfx] = 1 - (X2 - df) / (Xb - dfb) if Xb != dfb else np.nan',
    "ordinal rmsea": 'out["rmsea" + sfx] = float(np.sqrt(max((X2 - df) / (N * df), 0)))',
    "catml cfi": 'out["cfi_robust"] = 1 - max(t1, 0) / den if den > 0 else 1.0',
    "catml rmsea": 'out["rmsea_robust"] = float(np.sqrt(max(xx3 / (n3 * df3) - c3 / n3, 0)))',
    "mg rmsea ci": 'ind["rmsea_ci_lower" + sfx] = lo * np.sqrt(G)',
    "close fit": 'out["rmsea_pvalue" + sfx] = 1 - _pnchisq(X2, df, N * df * 0.05 ** 2)',
    "private import": 'from .fit_measures import _pnchisq, rmsea_ci',
    "scipy ncx2": 'p = 1 - stats.ncx2.cdf(X2, df, N * df * 0.05 ** 2)',
    "two-level rmsea": 'out["rmsea"] = float(np.sqrt(max(0.0, (X2 / N) / df - 1.0 / N)))',
    "two-level pnfi": 'out["pnfi"] = (df / dfb) * out["nfi"] if dfb > 0 else np.nan',
    "two-level srmr": 'out["srmr"] = out["srmr_within"] + out["srmr_between"]',
    "two-level ic": 'fm.update(aic=-2 * logl + 2 * mdl.npar, ntotal=float(n))',
    "lrt rmsea": 'r = float(np.sqrt(max(0.0, (dchi - ddf) / (n * ddf))))',
    "mg agfi": 'out["agfi"] = 1 - (nel / df) * (1 - g_) if df > 0 else 1.0',
    "dict literal": 'out = {"tli_scaled": 1 - t1 / t2}',
    "ordinal srmr": 'srmr_nomean = np.sqrt(ss_cor / (p * (p + 1) / 2))',
    "ordinal wrmr": 'out["wrmr"] = float(np.sqrt((N - 1) * np.sum(w * e * e) / nel))',
    "ordinal mfi": 'out["mfi"] = float(np.exp(-0.5 * (chisq - df) / (N - 1)))',
    "mlmv rmsea": 'out["rmsea_scaled"] = float(np.sqrt(max((Xs - df) / (N * df), 0)) * G)',
}


@pytest.mark.parametrize("code", list(REPLACED.values()), ids=list(REPLACED))
def test_the_scan_finds_the_replaced_duplicates(code):
    assert violations(code), code


# look-alikes in sem that are not index formulas
NOT_INDICES = [
    "lam = np.sqrt(max(w[-1], 1e-8)) * V[:, -1]",                 # start values
    "x = x / np.sqrt(max(1 - x * x, 0.1))",                       # ordinal start values
    "row.update(delta_cfi=fm['cfi'] - prev['cfi'])",              # change in an index
    "fm['fmin'] = float(fm['chisq'] / (2 * n))",                  # not an index
    "out['cfi'] = cfi(X2, df, Xb, dfb)",                          # the call itself
    "out.update(rmr=r['srmr_mean'], srmr=r['srmr'])",             # look-ups
    "fm['rmsea_ci_level'] = 0.90",                                # constants
    "r['rmsea_diff'] = rmsea_diff(dchi, ddf, n) if ddf > 0 else np.nan",
    "from .fit_measures import cfi, rmsea_ci",
    "p = float(stats.chi2.sf(chisq, df))",                        # the chi-square test
    "out['wrmr'] = wrmr((N - 1) * np.sum(w * e * e), nel)",       # arguments of the call
    "out['cn_05'] = float(hoelter_cn(chisq, df, N - 1, a)) if chisq > 0 else np.nan",
]


@pytest.mark.parametrize("code", NOT_INDICES)
def test_the_scan_leaves_look_alikes_alone(code):
    assert violations(code) == []
