"""The BLAS thread limiter used around the small EFA computations."""
from __future__ import annotations

from refdata import dataset
from psychometrics import _blas
from psychometrics.efa import fa


def _counts():
    _blas._controls = _blas._find_controls() if _blas._controls is None else _blas._controls
    return [int(get()) for get, _ in _blas._controls]


def test_thread_count_is_one_inside_and_restored_after():
    before = _counts()
    with _blas.single_blas_thread():
        inside = _counts()
        with _blas.single_blas_thread():          # re-entrant
            assert _counts() == inside
        assert _counts() == inside
    assert all(n == 1 for n in inside)
    assert _counts() == before
    fa(dataset("bfi").iloc[:, :10].dropna(), n_factors=2)
    assert _counts() == before


def test_disabled_leaves_blas_alone(monkeypatch):
    before = _counts()
    monkeypatch.setattr(_blas, "ENABLED", False)
    with _blas.single_blas_thread():
        assert _counts() == before
