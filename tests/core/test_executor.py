"""One interface for a grid of jobs: serial and Dask give the same results in job order."""
import pytest

from lossbook.core.executor import JobFailed, SerialExecutor, make_executor


def _square_plus(job, shared):
    if job == "bad":
        raise ValueError("no")
    return job * job + shared


def test_serial_map_keeps_job_order_and_reports_progress():
    ticks = []
    with make_executor("serial") as executor:
        assert executor.map(_square_plus, [3, 1, 2], shared=10, progress=ticks.append) == [19, 11, 14]
    assert ticks == [1, 1, 1]


def test_a_failing_job_is_named():
    with pytest.raises(JobFailed, match="job 'bad' failed: ValueError: no"):
        SerialExecutor().map(_square_plus, [1, "bad"], shared=0)


def test_unknown_executor_and_misplaced_scheduler_are_refused():
    with pytest.raises(ValueError, match=r"executor must be one of \['serial', 'dask'\]"):
        make_executor("spark")
    with pytest.raises(ValueError, match="scheduler is only used with executor 'dask'"):
        make_executor("serial", scheduler="tcp://127.0.0.1:8786")


@pytest.mark.slow
def test_dask_local_cluster_returns_results_in_job_order():
    with make_executor("dask", n_workers=2) as executor:
        assert executor.map(_square_plus, list(range(8)), shared=1) == [j * j + 1 for j in range(8)]
        with pytest.raises(JobFailed, match="job 'bad' failed"):
            executor.map(_square_plus, [1, "bad"], shared=0)
