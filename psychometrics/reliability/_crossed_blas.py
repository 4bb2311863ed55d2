"""Run a block of small dense linear algebra with single-threaded OpenBLAS.

The REML evaluations of :mod:`._crossed` factor matrices of a few hundred rows, thousands of
times.  For such sizes a multi-threaded OpenBLAS gains nothing, and when the cores are busy
(other processes, pytest-xdist workers) its spinning threads make each call 10-100 times
slower.  :func:`single_threaded_blas` sets every OpenBLAS loaded in this process (numpy's and
scipy's bundled copies, or a system one) to one thread and restores the previous count on
exit -- what ``threadpoolctl.threadpool_limits(1, "blas")`` does, without the dependency.
Where the libraries cannot be found (not Linux, another BLAS) it does nothing.  The limit is
process-wide while the block runs (as with threadpoolctl), so BLAS calls in other threads of
the process during a fit are single-threaded too.
"""
from __future__ import annotations

import ctypes
import os
import threading
from contextlib import contextmanager

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")
_LOCK = threading.Lock()
_LIBS: list[tuple[object, object]] | None = None


def _find_libs() -> list[tuple[object, object]]:
    libs = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh
                     if len(line.split()) >= 6 and "openblas" in line.split()[-1].lower()
                     and ".so" in line.split()[-1]}
    except OSError:
        return libs
    for path in sorted(paths):
        try:
            # RTLD_NOLOAD: only a handle to the already loaded library, never load another copy
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        setter = next((getattr(lib, s) for s in _SETTERS if hasattr(lib, s)), None)
        getter = next((getattr(lib, g) for g in _GETTERS if hasattr(lib, g)), None)
        if setter is not None and getter is not None:
            setter.argtypes = [ctypes.c_int]
            setter.restype = None
            getter.argtypes = []
            getter.restype = ctypes.c_int
            libs.append((setter, getter))
    return libs


@contextmanager
def single_threaded_blas():
    """Context manager: OpenBLAS limited to one thread inside, restored afterwards."""
    global _LIBS
    import numpy  # noqa: F401  (make sure numpy's and scipy's BLAS are loaded)
    import scipy.linalg  # noqa: F401

    with _LOCK:
        if _LIBS is None:
            try:
                _LIBS = _find_libs()
            except Exception:  # pragma: no cover - never fail a fit over a speed tweak
                _LIBS = []
        saved = []
        for setter, getter in _LIBS:
            try:
                saved.append((setter, int(getter())))
                setter(1)
            except Exception:  # pragma: no cover
                pass
    try:
        yield
    finally:
        with _LOCK:
            for setter, n in saved:
                try:
                    setter(n)
                except Exception:  # pragma: no cover
                    pass
