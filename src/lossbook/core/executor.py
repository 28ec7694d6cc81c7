"""Run a grid of independent jobs: in this process, or on a Dask cluster.

A study's grid (model x loss x repeat, each job training its folds together)
is a list of independent jobs. :meth:`Executor.map` runs ``function(job, shared)``
for every job and returns the results in job order, whichever executor runs them:

``serial``
    one after the other in this process (the default);
``dask``
    on a ``dask.distributed`` cluster: the one at ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``), or a ``LocalCluster`` of ``n_workers`` single-threaded
    worker processes started here and closed by :meth:`Executor.close`.

Results do not depend on the executor or the number of workers only if each job
carries everything that determines it (its own seed, its data or a reference to
the ``shared`` data), which is how the studies build their jobs. Caching stays
with the caller: look up the cache first and map only the jobs that miss, so a
worker never needs the caller's disk.

>>> with make_executor("serial") as executor:
...     executor.map(lambda job, shared: job * shared, [1, 2, 3], shared=10)
[10, 20, 30]
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lossbook.core.params import Interval, OneOf

__all__ = ["EXECUTION_CONSTRAINTS", "EXECUTORS", "DaskExecutor", "Executor", "SerialExecutor", "make_executor"]

#: Executor names accepted by :func:`make_executor` (and the ``executor`` chapter parameter).
EXECUTORS = ("serial", "dask")

#: A chapter's settings for how its grid runs, not what it computes (no number depends on
#: them): the arguments of :func:`make_executor`, as parameter constraints.
EXECUTION_CONSTRAINTS = {"executor": OneOf(EXECUTORS), "scheduler": [None, str], "n_workers": Interval(int, 1, None)}


class Executor:
    """Maps a function over jobs; use as a context manager so a started cluster is closed."""

    name = "base"

    def map(self, function: Callable[[Any, Any], Any], jobs: Sequence, *, shared: Any = None,
            progress: Callable[[int], None] | None = None) -> list:
        """``[function(job, shared) for job in jobs]``, in job order.

        ``shared``: one object every job reads (e.g. the data arrays), sent to each
        worker once. ``progress``: called with 1 each time a job finishes.
        A job's exception is raised here, naming the job.
        """
        raise NotImplementedError

    def describe(self) -> str:
        """A short description for logs (never part of a results file)."""
        return self.name

    def close(self) -> None:
        """Release workers this executor started."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class JobFailed(RuntimeError):
    """A job raised; the message names the job."""


class SerialExecutor(Executor):
    """Runs every job in this process, in order."""

    name = "serial"

    def map(self, function, jobs, *, shared=None, progress=None) -> list:
        out = []
        for job in jobs:
            try:
                out.append(function(job, shared))
            except Exception as error:
                raise JobFailed(f"job {job!r} failed: {type(error).__name__}: {error}") from error
            if progress is not None:
                progress(1)
        return out


class DaskExecutor(Executor):
    """Runs jobs on a ``dask.distributed`` cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``dask scheduler`` prints it). Without
        it a ``LocalCluster`` of ``n_workers`` processes (one thread each) is started.
    n_workers : int
        Workers of the local cluster (ignored with ``scheduler``).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int = 2):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as error:  # pragma: no cover - dask is a dependency
            raise ImportError("executor 'dask' needs dask.distributed: pip install 'dask[distributed]'") from error
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer, got {n_workers!r}")
        self.scheduler = scheduler
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="20s")
            except OSError as error:
                raise ConnectionError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({error})") from None
        else:
            # Single-threaded worker processes: a job owns its process, as in the serial run.
            self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)

    def describe(self) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        return f"dask ({self.scheduler or 'local cluster'}, {workers} worker(s))"

    def map(self, function, jobs, *, shared=None, progress=None) -> list:
        from dask.distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return []
        shared_future = self.client.scatter(shared, broadcast=True) if shared is not None else None
        futures = [self.client.submit(function, job, shared_future, pure=False) for job in jobs]
        position = {future.key: i for i, future in enumerate(futures)}
        out: list = [None] * len(jobs)
        try:
            for future in as_completed(futures):
                i = position[future.key]
                if future.status == "error":
                    error = future.exception()
                    raise JobFailed(f"job {jobs[i]!r} failed: {type(error).__name__}: {error}") from error
                out[i] = future.result()
                if progress is not None:
                    progress(1)
        finally:
            for future in futures:
                future.release()
        return out

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(kind: str = "serial", *, scheduler: str | None = None, n_workers: int = 2) -> Executor:
    """The executor named ``kind`` (one of :data:`EXECUTORS`).

    ``scheduler`` (dask only): a running scheduler's address; ``n_workers``: size of
    the local cluster started when no address is given.
    """
    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {list(EXECUTORS)}, got {kind!r}")
    if kind == "serial":
        if scheduler:
            raise ValueError("scheduler is only used with executor 'dask'")
        return SerialExecutor()
    return DaskExecutor(scheduler, n_workers=n_workers)
