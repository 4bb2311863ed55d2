"""Run small linear-algebra work on one BLAS thread.

The EFA optimisers (scipy's L-BFGS-B on vectors of length p) and the crossed
REML of multilevel reliability (matrices of a few hundred rows, thousands of
times) make many small BLAS calls; with OpenBLAS's default thread pool each
call hands work to sleeping threads, which on a busy machine costs
milliseconds per call (5-100x slower fits were measured on a loaded 2-core
machine). This is what ``threadpoolctl.threadpool_limits(1, "blas")`` does,
without the dependency.  :func:`single_blas_thread` sets the
OpenBLAS libraries loaded by numpy and scipy to one thread for the duration of
a block and restores their previous setting afterwards.

Only OpenBLAS builds (numpy's and scipy's wheels) on Linux are handled; anywhere
else the context manager does nothing.  Set ``psychometrics._blas.ENABLED =
False`` to keep the BLAS thread count untouched.  The limit is process-wide
while a block runs, so BLAS calls in other threads are single-threaded too.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading
from contextlib import contextmanager

ENABLED = True

_PAIRS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)
_controls: list[tuple] | None = None
_lock = threading.Lock()
_depth = 0
_saved: list[int] = []


def _find_controls() -> list[tuple]:
    found = []
    if not sys.platform.startswith("linux"):
        return found
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = sorted({line.split()[-1] for line in fh
                            if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return found
    for path in paths:
        if not path.startswith("/"):
            continue
        try:
            # RTLD_NOLOAD: a handle to the already loaded library, never another copy
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        for get_name, set_name in _PAIRS:
            get = getattr(lib, get_name, None)
            set_ = getattr(lib, set_name, None)
            if get is not None and set_ is not None:
                get.restype = ctypes.c_int
                set_.argtypes = [ctypes.c_int]
                found.append((get, set_))
                break
    return found


@contextmanager
def single_blas_thread():
    """Context manager: OpenBLAS on one thread inside the block (re-entrant)."""
    global _controls, _depth, _saved
    if not ENABLED:
        yield
        return
    import scipy.linalg  # noqa: F401  (make sure scipy's BLAS is loaded before looking)

    with _lock:
        if _controls is None:
            _controls = _find_controls()
        if _depth == 0:
            _saved = []
            for get, set_ in _controls:
                try:
                    n = int(get())
                    _saved.append(n)
                    if n != 1:
                        set_(1)
                except Exception:  # pragma: no cover - defensive: never fail a fit here
                    _saved.append(-1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                for (get, set_), n in zip(_controls, _saved):
                    if n > 1:
                        try:
                            set_(n)
                        except Exception:  # pragma: no cover
                            pass
