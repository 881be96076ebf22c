"""Executors: one interface to run a function over many tasks, locally or on a Dask cluster.

An executor is a context manager with :meth:`Executor.map_unordered`, which yields
``(task, result)`` pairs as tasks finish, keeping at most a few tasks per worker in flight, so
memory stays flat however many tasks there are. ``result`` is what the function returned, or
the exception raised when the executor lost the task (a Dask worker that died running it).
Results come in completion order; callers that need an order (the results table) impose it
themselves, so the output never depends on the executor or the number of workers.

* :class:`LocalExecutor`: a process pool whose workers die with this process
  (:class:`sim.running.runner.WorkerPool`; ``workers=1`` runs in this process);
* :class:`DaskExecutor`: a ``distributed`` client on a scheduler address, or on a local cluster
  on 127.0.0.1 without dashboard (:func:`local_cluster`). Dask is an optional extra
  (``pip install -e ".[dask]"``). The workers must be able to import ``sim``; they only
  compute: files are written by the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from itertools import islice
from typing import Any

from sim.running.runner import process_pool, worker_count
from sim.sweep.spec import SweepError

EXECUTORS = ("local", "dask")
TASKS_PER_WORKER = 2
DASK_MIN_IN_FLIGHT = 16  # batches; a remote cluster may still be adding workers at the start
DASK_BATCH = 4  # runs per Dask task
DASK_LOCAL_SETTINGS = {
    # A run is a coarse CPU-bound task and the local cluster has no dashboard, so Dask's
    # monitoring only takes CPU from the runs: idle, its defaults cost about 5% of a core in the
    # scheduler's process and 4% in each worker (statistical profiling every 10 ms, event-loop
    # health checks every 20 ms, system and memory monitors); with these, under 1% each.
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
DASK_MISSING = ("the dask executor needs Dask's distributed scheduler, an optional extra: "
                "pip install -e \".[dask]\" (or pip install \"dask[distributed]\")")


class Executor:
    """Runs tasks; use as a context manager. ``workers`` is how many run at once."""

    workers: int = 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close()

    def close(self) -> None:
        """Release the workers."""

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, fn(task))`` for every task, in completion order."""
        raise NotImplementedError


class LocalExecutor(Executor):
    """A :class:`sim.running.runner.WorkerPool` of ``workers`` processes (default: all cores, at most one
    per task); one worker runs in this process."""

    def __init__(self, workers: int | None = None, tasks: int = 1):
        self.workers = worker_count(workers, tasks, "runs")
        self._pool = process_pool(self.workers) if self.workers > 1 else None

    def __exit__(self, kind, error, trace) -> None:
        if self._pool is not None:  # shut down, or terminated when the block failed
            self._pool.__exit__(kind, error, trace)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def map_unordered(self, fn, tasks):
        if self._pool is None:
            yield from ((task, fn(task)) for task in tasks)
            return
        tasks = iter(tasks)
        pending = {self._pool.submit(fn, task): task
                   for task in islice(tasks, self.workers * TASKS_PER_WORKER)}
        while pending:
            for future in wait(pending, return_when=FIRST_COMPLETED).done:
                yield pending.pop(future), future.result()
                for task in islice(tasks, 1):
                    pending[self._pool.submit(fn, task)] = task


class DaskExecutor(Executor):
    """A Dask ``distributed`` client on ``scheduler`` ("tcp://host:port"), or, without one, on a
    local cluster of ``workers`` single-threaded processes on 127.0.0.1 (no dashboard)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, tasks: int = 1):
        self._distributed = _import_distributed()
        self._cluster = None
        try:
            if scheduler:
                self._client = self._distributed.Client(scheduler, timeout="20s")
            else:
                self._cluster = local_cluster(worker_count(workers, tasks, "runs"))
                self._client = self._distributed.Client(self._cluster)
        except OSError as error:
            self.close()
            raise SweepError(f"cannot reach the Dask scheduler: {error}", file=scheduler) from None
        self.workers = max(1, sum(self._client.nthreads().values()))

    def close(self) -> None:
        for part in (getattr(self, "_client", None), self._cluster):
            if part is not None:
                part.close()

    def map_unordered(self, fn, tasks):
        tasks = iter(tasks)
        batches = iter(lambda: list(islice(tasks, DASK_BATCH)), [])
        owners = {}

        def start(batch):
            future = self._client.submit(_run_batch, fn, batch, pure=False)
            owners[future] = batch
            return future

        in_flight = max(self.workers * TASKS_PER_WORKER, DASK_MIN_IN_FLIGHT)
        completed = self._distributed.as_completed([start(b) for b in islice(batches, in_flight)])
        for future in completed:
            batch = owners.pop(future)
            try:
                results = future.result()
            except Exception as error:  # the batch was lost with its worker (KilledWorker, ...)
                results = [error] * len(batch)
            future.release()
            yield from zip(batch, results)
            for batch in islice(batches, 1):
                completed.add(start(batch))


def _import_distributed():
    """The ``distributed`` module, or a :class:`SweepError` saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SweepError(DASK_MISSING) from None
    return distributed


def local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` single-threaded worker processes on 127.0.0.1,
    without dashboard, its monitoring slowed down for coarse tasks (``DASK_LOCAL_SETTINGS``)."""
    distributed = _import_distributed()
    import dask  # installed with distributed

    with dask.config.set(DASK_LOCAL_SETTINGS):  # read as the scheduler and workers start
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None,
                                        silence_logs=logging.ERROR)


def _run_batch(fn: Callable[[Any], Any], batch: list) -> list:
    """Run a few tasks in one Dask task, so the scheduler's cost is shared among them."""
    return [fn(task) for task in batch]


def make_executor(name: str = "local", *, workers: int | None = None,
                  scheduler: str | None = None, tasks: int = 1) -> Executor:
    """The executor called ``name`` ("local" or "dask") for ``tasks`` tasks (no more local
    workers are started); ``scheduler`` is for Dask only."""
    if name not in EXECUTORS:
        raise SweepError(f"unknown executor '{name}'; choose one of {', '.join(EXECUTORS)}")
    if name == "dask":
        return DaskExecutor(scheduler, workers, tasks)
    if scheduler:
        raise SweepError("a scheduler address is for the dask executor; add --executor dask")
    return LocalExecutor(workers, tasks)
