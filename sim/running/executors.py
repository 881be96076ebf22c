"""Executors: one interface to run a function over many tasks, locally or on a Dask cluster.

Every parallel job (replications, comparisons, calibrations, sweeps) runs through
:func:`make_executor`. An executor is a context manager with :meth:`Executor.map_unordered`,
which yields ``(task, result)`` pairs as tasks finish, keeping at most a few tasks per worker in
flight, so memory stays flat however many tasks there are. ``result`` is what the function
returned, or the exception raised when the executor lost the task (a Dask worker that died
running it). Results come in completion order; :func:`ordered_map` puts them back in task
order, so the output never depends on the executor or the number of workers.

* :class:`LocalExecutor`: a :class:`WorkerPool`, a process pool whose workers die with this
  process (``workers=1`` runs in this process);
* :class:`DaskExecutor`: a ``distributed`` client on a scheduler address, or on a local cluster
  on 127.0.0.1 without dashboard (:func:`local_cluster`). Dask is an optional extra
  (``pip install -e ".[dask]"``). The workers must be able to import ``sim``; they only
  compute: files are written by the caller.

Problems the user can fix (an unknown executor, an unreachable scheduler, Dask not installed)
raise :class:`ExecutorError`, reported like a bad scenario (exit code 2).

The result loops are where a command waits, so they are where a SIGTERM or Ctrl-C takes effect
(:func:`sim.running.termination.check`, at least every :data:`POLL_SECONDS`): the exception
ends the ``with`` block, which kills a local pool's workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from functools import partial
from itertools import islice
from typing import Any

from sim.errors import UserError
from sim.running import termination

EXECUTORS = ("local", "dask")
MAX_WORKERS_PER_CORE = 4
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
TASKS_PER_WORKER = 2
POLL_SECONDS = 0.1  # how often a local pool's result loop looks for a SIGTERM or Ctrl-C
TERMINATE_SECONDS = 1.0  # for a terminated pool's thread to end
DASK_MIN_IN_FLIGHT = 16  # batches; a remote cluster may still be adding workers at the start
DASK_BATCH = 4  # runs per Dask task
SCHEDULER_TIMEOUT = "20s"
DASK_LOCAL_SETTINGS = {
    # A run is a coarse CPU-bound task and the local cluster has no dashboard, so Dask's
    # monitoring only takes CPU from the runs: idle, its defaults (statistical profiling every
    # 10 ms, event-loop health checks every 20 ms, system and memory monitors) take a noticeable
    # share of a core in the scheduler's process and in each worker; these settings slow them.
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}
DASK_MISSING = ("the dask executor needs Dask's distributed scheduler, an optional extra: "
                "pip install -e \".[dask]\" (or pip install \"dask[distributed]\")")


class ExecutorError(UserError):
    """An executor that cannot start for a reason the user can fix (the command line reports it
    in one line, exit code 2)."""


# --- local worker processes -------------------------------------------------------------------

def worker_initializer(parent: int) -> None:
    """Set up a pool worker: it leaves Ctrl-C to the parent, which stops the pool; it dies on
    SIGTERM (rather than running the handler it inherited from the command line, or waking the
    parent's terminate watchdog through the wakeup descriptor it inherited); and, on Linux, the
    kernel kills it when its parent dies, even by SIGKILL, so no orphan keeps computing or
    holding files."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers are forked from this process, so they start with the imports
    already done (importing Mesa sets the global start method to "spawn", which would re-import
    everything in every worker), and are set up by :func:`worker_initializer`. When the block
    using it ends with an exception (Ctrl-C, SIGTERM, an error), the pool is terminated: queued
    tasks are dropped and running ones killed rather than waited for."""

    def __init__(self, workers: int):
        super().__init__(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                         initializer=worker_initializer, initargs=(os.getpid(),))
        self._cleanup_key = termination.register_cleanup(self.kill_workers)

    def __exit__(self, kind, error, trace):
        if error is not None:
            self.terminate()
        return super().__exit__(kind, error, trace)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        termination.unregister_cleanup(self._cleanup_key)
        super().shutdown(wait, cancel_futures=cancel_futures)

    def kill_workers(self) -> None:
        """SIGKILL every worker (also what the process does if it is ended with the pool in use,
        :func:`sim.running.termination.register_cleanup`)."""
        for process in list((self._processes or {}).values()):  # no public way before 3.14
            process.kill()

    def terminate(self) -> None:
        """Kill the workers and shut the pool down now. The pool's own thread finds the workers
        dead, fails the tasks left (cancelling them here as well races with that thread) and
        ends; it is given :data:`TERMINATE_SECONDS` to, not waited for without end: a worker
        killed while sending a result leaves it reading a message that never ends, so this
        process's end of the result pipe is closed first, and it reads the end of the pipe
        instead. (Left running, the interpreter would wait for it at exit, and race with it.)"""
        self.kill_workers()
        manager = self._executor_manager_thread
        if self._result_queue is not None:   # no public way to reach the pipe or the thread
            self._result_queue._writer.close()
        self.shutdown(wait=False)
        if manager is not None:
            manager.join(TERMINATE_SECONDS)


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_count(requested: int | None, tasks: int, what: str) -> int:
    """How many worker processes to start for ``tasks`` tasks (``what`` names them):
    ``requested`` (default: all cores), but at most one per task and ``MAX_WORKERS_PER_CORE``
    per core. A request that is cut says so on stderr; one below 1 is a ValueError."""
    if requested is not None and requested < 1:
        raise ValueError(f"workers must be a positive whole number, not {requested!r}")
    cores = default_workers()
    count = max(1, min(requested or cores, tasks, MAX_WORKERS_PER_CORE * cores))
    if requested is not None and count < requested:
        reason = (f"there are only {tasks} {what} to run" if count == max(tasks, 1) else
                  f"that is the cap of {MAX_WORKERS_PER_CORE} per core on {cores} core(s)")
        print(f"adoptsim: note: using {count} worker processes, not {requested}: {reason}",
              file=sys.stderr)
    return count


# --- executors --------------------------------------------------------------------------------

class Executor:
    """Runs tasks; use as a context manager. ``workers`` is how many run at once."""

    workers: int = 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close()

    def close(self) -> None:
        """Release the workers."""

    def map_unordered(
        self, fn: Callable[[Any], Any], tasks: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, fn(task))`` for every task, in completion order."""
        raise NotImplementedError


class LocalExecutor(Executor):
    """A :class:`WorkerPool` of ``workers`` processes (default: all cores, at most one per task,
    see :func:`worker_count`); one worker runs in this process."""

    def __init__(self, workers: int | None = None, tasks: int = 1, what: str = "runs"):
        self.workers = worker_count(workers, tasks, what)
        self._pool = WorkerPool(self.workers) if self.workers > 1 else None

    def __exit__(self, kind, error, trace) -> None:
        if self._pool is not None:  # shut down, or terminated when the block failed
            self._pool.__exit__(kind, error, trace)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def map_unordered(self, fn, tasks):
        if self._pool is None:
            for task in tasks:
                termination.check()
                yield task, fn(task)
            return
        tasks = iter(tasks)
        pending = {self._pool.submit(fn, task): task
                   for task in islice(tasks, self.workers * TASKS_PER_WORKER)}
        while pending:
            done = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED).done
            termination.check()
            for future in done:
                yield pending.pop(future), future.result()
                for task in islice(tasks, 1):
                    pending[self._pool.submit(fn, task)] = task


class DaskExecutor(Executor):
    """A Dask ``distributed`` client on ``scheduler`` ("tcp://host:port"), or, without one, on a
    local cluster of ``workers`` single-threaded processes on 127.0.0.1 (no dashboard)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, tasks: int = 1,
                 what: str = "runs"):
        self._distributed = import_distributed()
        self._cluster = None
        try:
            if scheduler:
                self._client = self._distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT)
            else:
                self._cluster = local_cluster(worker_count(workers, tasks, what))
                self._client = self._distributed.Client(self._cluster)
        except (OSError, ValueError, TypeError) as error:  # unreachable, or not an address
            self.close()
            raise ExecutorError(f"cannot reach the Dask scheduler: {error}",
                                file=scheduler) from None
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
            termination.check()
            batch = owners.pop(future)
            try:
                results = future.result()
            except Exception as error:  # the batch was lost with its worker (KilledWorker, ...)
                results = [error] * len(batch)
            future.release()
            yield from zip(batch, results)
            for batch in islice(batches, 1):
                completed.add(start(batch))


def import_distributed():
    """The ``distributed`` module, or an :class:`ExecutorError` saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ExecutorError(DASK_MISSING) from None
    return distributed


def local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` single-threaded worker processes on 127.0.0.1,
    without dashboard, its monitoring slowed down for coarse tasks (``DASK_LOCAL_SETTINGS``)."""
    distributed = import_distributed()
    import dask  # installed with distributed

    with dask.config.set(DASK_LOCAL_SETTINGS):  # read as the scheduler and workers start
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=None,
                                        silence_logs=logging.ERROR)


def _run_batch(fn: Callable[[Any], Any], batch: list) -> list:
    """Run a few tasks in one Dask task, so the scheduler's cost is shared among them."""
    return [fn(task) for task in batch]


def make_executor(name: str = "local", *, workers: int | None = None,
                  scheduler: str | None = None, tasks: int = 1, what: str = "runs") -> Executor:
    """The executor called ``name`` ("local" or "dask") for ``tasks`` tasks (no more local
    workers are started; ``what`` names them in the note when ``workers`` is cut);
    ``scheduler`` is for Dask only."""
    check_executor(name, scheduler)
    if name == "dask":
        return DaskExecutor(scheduler, workers, tasks, what)
    return LocalExecutor(workers, tasks, what)


def check_executor(name: str, scheduler: str | None = None) -> None:
    """An :class:`ExecutorError` for an unknown executor, or a scheduler given to the local one
    (before anything runs: whether the scheduler answers is only known when connecting)."""
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor '{name}'; choose one of {', '.join(EXECUTORS)}")
    if scheduler and name != "dask":
        raise ExecutorError("a scheduler address is for the dask executor; add --executor dask")


def ordered_map(executor: Executor, fn: Callable, tasks: list,
                done: Callable[[int], None] | None = None) -> list:
    """``[fn(task) for task in tasks]`` on ``executor``, in task order whatever order the
    workers finish in; ``done(k)`` with the number of results so far, from 0. A task the
    executor lost (a Dask worker that died) raises its exception here."""
    results = [None] * len(tasks)
    finished = 0
    if done:
        done(finished)
    for (index, _), result in executor.map_unordered(partial(_indexed, fn), list(enumerate(tasks))):
        if isinstance(result, BaseException):
            raise result
        results[index] = result
        finished += 1
        if done:
            done(finished)
    return results


def _indexed(fn: Callable, task: tuple):
    return fn(task[1])
