"""Running a power analysis: serially, on local processes, or on a Dask cluster.

Work is cut into chunks of replications of one cell. Each replication's
random numbers depend only on the root seed, its cell and its index
(:func:`~psychometrics.power.replicate.replication_seed`), so the results do
not depend on the backend, the number of workers, the chunk size or the order
in which chunks finish. When a cell's last chunk arrives, its records are
written to ``<out>/cells/cell_NNNNNN.parquet`` (atomically: written to a
temporary file and renamed), so an interrupted run resumes with the cells
not yet on disk.
"""
from __future__ import annotations

import math
import os
import sys
import time as _time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from .replicate import RECORD_COLUMNS, normalise_records, run_chunk
from .results import PowerResult, performance
from .spec import PowerDesign, PowerDesignError, load_design

__all__ = ["run_power"]


class _Bar:
    """Progress bar with the time left: tqdm when installed, else a plain stderr line."""

    def __init__(self, total: int, enabled: bool, initial: int = 0):
        self.total, self.done, self.t0 = total, initial, _time.perf_counter()
        self.start = initial
        self.tq = None
        self.enabled = enabled
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm is in the power extra
                tqdm = None
            if tqdm is not None:
                self.tq = tqdm(total=total, initial=initial, unit="rep", desc="power",
                               dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.done += n
        if self.tq is not None:
            self.tq.update(n)
        elif self.enabled:
            el = _time.perf_counter() - self.t0
            rate = (self.done - self.start) / el if el > 0 else 0.0
            left = (self.total - self.done) / rate if rate > 0 else float("nan")
            eta = f"{int(left // 60)}:{int(left % 60):02d}" if math.isfinite(left) else "?"
            print(f"\rpower: {self.done}/{self.total} replications, {rate:.1f}/s, "
                  f"time left {eta}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tq is not None:
            self.tq.close()
        elif self.enabled:
            print(file=sys.stderr)


def _cell_path(out: Path, cell: int) -> Path:
    return out / "cells" / f"cell_{cell:06d}.parquet"


def _prepare_out(out: Path, design: PowerDesign, resume: bool) -> dict[int, pd.DataFrame]:
    """Check (or write) ``design.json`` and load the finished cells."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    (out / "cells").mkdir(exist_ok=True)
    meta = out / "design.json"
    record = {"fingerprint": design.fingerprint(), "design": json.loads(design.to_json())}
    if meta.exists():
        try:
            old = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PowerDesignError(f"Cannot read {str(meta)!r} ({exc}); delete the directory "
                                   f"{str(out)!r} or choose another output directory.") from None
        if old.get("fingerprint") != record["fingerprint"]:
            raise PowerDesignError(
                f"The output directory {str(out)!r} holds results of another design (fingerprint "
                f"{old.get('fingerprint')!r}, this design {record['fingerprint']!r}); choose "
                "another output directory or delete it.")
    else:
        meta.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    done: dict[int, pd.DataFrame] = {}
    if not resume:
        return done
    n_cells = len(design.cells())
    for cell in range(n_cells):
        p = _cell_path(out, cell)
        if p.exists():
            frame = normalise_records(pd.read_parquet(p))
            reps = sorted(set(frame["rep"]))
            if (reps != list(range(design.replications))
                    or list(frame.columns) != list(RECORD_COLUMNS)):
                raise PowerDesignError(
                    f"{str(p)!r} does not hold replications 0..{design.replications - 1} of cell "
                    f"{cell}; delete it to have the cell run again.")
            done[cell] = frame
    return done


def _write_cell(out: Path, cell: int, frame: pd.DataFrame) -> None:
    p = _cell_path(out, cell)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, p)


def _serial(tasks: list) -> Iterator[tuple]:
    for t in tasks:
        yield run_chunk(t)


def _processes(tasks: list, workers: int) -> Iterator[tuple]:
    import multiprocessing as mp

    # fork would copy this process's threads' locks; forkserver/spawn are clean
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    finished = False
    try:
        futures = [pool.submit(run_chunk, t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()
        finished = True
    finally:
        # interrupted: drop the queued chunks and do not wait for the running ones
        pool.shutdown(wait=finished, cancel_futures=not finished)


def _dask(tasks: list, client) -> Iterator[tuple]:
    from distributed import as_completed as dask_completed

    futures = client.map(run_chunk, tasks, pure=False)
    try:
        for f in dask_completed(futures):
            yield f.result()
    finally:
        client.cancel(futures)


def _client(scheduler: Any):
    """(client, owned): a Client for an address, or the Client given."""
    try:
        from distributed import Client
    except ImportError:
        raise PowerDesignError(
            "Running on a Dask cluster needs dask.distributed: pip install "
            "'psychometrics[power]'.") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str):
        try:
            # connection timeout: dask's config distributed.comm.timeouts.connect (30 s)
            return Client(scheduler), True
        except (OSError, TimeoutError) as exc:
            raise PowerDesignError(
                f"Cannot connect to the Dask scheduler at {scheduler!r}: {exc}. Check the address "
                "(e.g. tcp://host:8786) and that the scheduler is running.") from None
    raise PowerDesignError(
        "The 'scheduler' argument must be a scheduler address such as 'tcp://host:8786' or a "
        f"dask.distributed.Client. Got {type(scheduler).__name__} instead.")


def run_power(design: PowerDesign | dict | str | os.PathLike, out: str | os.PathLike | None = None,
              *, workers: int | None = None, scheduler: Any = None, progress: bool = True,
              chunk_size: int | None = None, resume: bool = True) -> PowerResult:
    """Monte Carlo power of a within/between design over a grid of cells.

    Parameters
    ----------
    design : PowerDesign, dict or path
        The design (a YAML file, its dict, or a validated
        :class:`~psychometrics.power.PowerDesign`; see ``docs/power.md``).
    out : path, optional
        Directory for the results: ``design.json`` and one parquet file per
        finished cell. A rerun with the same directory and design resumes:
        cells already on disk are read, not run. Without ``out`` nothing is
        written and nothing can be resumed.
    workers : int, optional
        Local worker processes (default: the number of CPUs). ``1`` runs in
        this process. Ignored with ``scheduler``.
    scheduler : str or dask.distributed.Client, optional
        Run on a Dask cluster: a scheduler address (``"tcp://host:8786"``) or
        a connected Client (left open). A Client made from an address is
        closed at the end.
    progress : bool, default True
        Show a progress bar with the estimated time left (on stderr).
    chunk_size : int, optional
        Replications per task (default ``min(replications, 20)``); it does
        not change the results.
    resume : bool, default True
        Read finished cells from ``out``; False reruns every cell.

    Returns
    -------
    PowerResult
        ``table`` (power, bias, RMSE, coverage with Monte Carlo SEs per cell
        and effect), ``replications``, ``smallest_design()``, ``plot()``.

    Raises
    ------
    PowerDesignError
        An invalid design, an output directory of another design, or an
        unreachable scheduler.

    Notes
    -----
    Replication ``r`` of cell ``c`` draws its data from
    ``numpy.random.SeedSequence(seed, spawn_key=(c, r))``, so the records are
    identical for 1 or many workers, processes or a Dask cluster. R
    equivalents: ``simr::powerSim`` / ``powerCurve`` (one machine), Mplus
    ``MONTECARLO``.
    """
    design = load_design(design)
    cells = design.cells()
    R = design.replications
    outp = Path(out) if out is not None else None
    done = _prepare_out(outp, design, resume) if outp is not None else {}
    todo = [c.index for c in cells if c.index not in done]
    if chunk_size is None:
        chunk_size = min(R, 20)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise PowerDesignError(f"The 'chunk_size' argument must be a positive integer. "
                               f"Got {chunk_size!r} instead.")
    dj = design.to_json()
    tasks = [(dj, c, s, min(s + chunk_size, R)) for c in todo for s in range(0, R, chunk_size)]

    client, owned = None, False
    if scheduler is not None:
        client, owned = _client(scheduler)
        backend = "dask"
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    else:
        if workers is None:
            workers = os.cpu_count() or 1
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise PowerDesignError(f"The 'workers' argument must be a positive integer. "
                                   f"Got {workers!r} instead.")
        n_workers = workers
        backend = "serial" if workers == 1 or len(tasks) <= 1 else "processes"

    t0 = _time.perf_counter()
    buffers: dict[int, list[pd.DataFrame]] = {c: [] for c in todo}
    counts = {c: 0 for c in todo}
    bar = _Bar(len(cells) * R, progress and bool(tasks), initial=len(done) * R)
    try:
        if backend == "dask":
            stream: Iterable = _dask(tasks, client)
        elif backend == "processes":
            stream = _processes(tasks, n_workers)
        else:
            stream = _serial(tasks)
        for cell, start, stop, frame, _secs in stream:
            buffers[cell].append(frame)
            counts[cell] += stop - start
            bar.update(stop - start)
            if counts[cell] == R:
                full = pd.concat(buffers.pop(cell), ignore_index=True)
                full = full.sort_values(["rep"], kind="stable").reset_index(drop=True)
                if outp is not None:
                    _write_cell(outp, cell, full)
                done[cell] = full
    finally:
        bar.close()
        if owned:
            client.close()
    seconds = _time.perf_counter() - t0
    records = pd.concat([done[c.index] for c in cells], ignore_index=True)
    table = performance(records, design)
    return PowerResult(design=design, table=table, replications=records, backend=backend,
                       n_workers=n_workers, seconds=seconds, n_cells_run=len(todo),
                       n_cells_resumed=len(cells) - len(todo), out=outp)
