"""NumPy's BLAS runs on one thread once the session's module is loaded (see blas_threads)."""

import sys

import pytest
from threadpoolctl import threadpool_info

import gui_trainer.core.session  # noqa: F401  (loading it is what limits the threads)


@pytest.mark.skipif(sys.platform == "darwin",
                    reason="NumPy's Accelerate is out of threadpoolctl's sight (and reach)")
def test_numpy_blas_is_held_to_one_thread() -> None:
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas, "NumPy's BLAS was not found: the limit would do nothing"
    assert [pool["num_threads"] for pool in blas] == [1] * len(blas)
